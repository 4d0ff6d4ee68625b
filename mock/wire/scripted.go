package wire

import (
	"net"
	"net/http"
	"strconv"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/scenarios"
)

// ApplyHeaders sets a scripted response's headers.
func ApplyHeaders(w http.ResponseWriter, resp *scenarios.Respond) {
	if resp == nil {
		return
	}
	for _, h := range resp.Headers {
		w.Header().Set(h.Name, h.Value)
	}
}

// WriteRaw answers a scripted body as it is (JSON unless the rule set a
// Content-Type).
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// RespondStatus is the status of a request that proceeds, a scripted
// 2xx/3xx replacing the API's own.
func RespondStatus(resp *scenarios.Respond, normal int) int {
	if resp != nil && resp.Status != 0 {
		return resp.Status
	}
	return normal
}

// Scripted answers a rule's error or fault (engine.Scripted): after the
// latency, the fault, the scripted body, or the problem it returns for the
// surface to render in the API's shape. subject is the conversation the
// request names. Nothing is answered when the client leaves during the
// latency.
func Scripted(x *Exchange, r *http.Request, e *engine.Engine, d Dialect, out engine.Outcome, subject string) *Problem {
	resp := out.Respond
	if !e.Sleep(r.Context(), out.Latency) {
		return nil
	}
	ApplyHeaders(x, resp)
	switch resp.Fault {
	case scenarios.FaultReset, scenarios.FaultEmpty:
		DropConnection(x, resp.Fault == scenarios.FaultReset)
		return nil
	case scenarios.FaultMalformed:
		WriteRaw(x, http.StatusOK, d.MalformedBody())
		return nil
	case scenarios.FaultTimeout:
		// Hold the request until the client gives up or the server stops;
		// then the connection goes without an answer.
		select {
		case <-r.Context().Done():
		case <-e.Done():
			DropConnection(x, false)
		}
		return nil
	}
	if resp.Body != nil {
		WriteRaw(x, resp.Status, resp.Body)
		return nil
	}
	return &Problem{Status: resp.Status, Message: resp.Message, Subject: subject}
}

// DropConnection closes the connection without an answer; reset makes it
// a TCP RST (SO_LINGER 0) rather than an orderly close.
func DropConnection(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 and the like: the server resets the stream
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// Decide is the scenario step of a request that is not a send — a read, or
// an event stream's connect — after its own checks (auth, validation,
// existence): Prefer: code=NNN first, then the rules that match it (rules
// that name a method or a path). It answers what they script — an error in
// the API's shape (the problem returned), a fault, a raw body — and
// reports done; or it waits the rules' latency, sets their headers and
// returns their respond (its status and drop_after are the caller's to
// apply) with done false. done with no problem: answered, or the client
// left.
func Decide(x *Exchange, r *http.Request, e *engine.Engine, d Dialect, facts *scenarios.Facts, subject string) (resp *scenarios.Respond, p *Problem, done bool) {
	if code := PreferredCode(r.Header); code != 0 {
		return nil, &Problem{Status: code, Subject: subject}, true
	}
	tx := e.Begin(x.Set, SessionID(r))
	out := tx.Decide(facts, Header(r.Header, "X-Mock-Scenario"))
	tx.End()
	if out.Action == engine.UnknownScenario {
		return nil, &Problem{Status: http.StatusBadRequest, Kind: UnknownScenario, Subject: out.Scenario}, true
	}
	Decided(x, r, out)
	if out.Action == engine.Scripted {
		return nil, Scripted(x, r, e, d, out, subject), true
	}
	if Respond(x, r, e, out, http.StatusOK) {
		return nil, nil, true
	}
	return out.Respond, nil, false
}

// Respond does what a decided request's rules script before its answer:
// waits their latency, sets their headers and, when they script a raw
// body, writes it (with their status, else normal). done: the answer is
// written, or the client left.
func Respond(x *Exchange, r *http.Request, e *engine.Engine, out engine.Outcome, normal int) (done bool) {
	if !e.Sleep(r.Context(), out.Latency) {
		return true
	}
	ApplyHeaders(x, out.Respond)
	if out.Respond != nil && out.Respond.Body != nil {
		WriteRaw(x, RespondStatus(out.Respond, normal), out.Respond.Body)
		return true
	}
	return false
}

// DecideSend is the scenario step of a send, in its open transaction: the
// rules' outcome, or — done — what the send answers instead of storing:
// an unknown X-Mock-Scenario (400), a scripted answer or a pass-through,
// the transaction ended before either.
func DecideSend(x *Exchange, r *http.Request, e *engine.Engine, d Dialect, tx *engine.Tx, facts *scenarios.Facts, subject string) (out engine.Outcome, p *Problem, done bool) {
	out = tx.Decide(facts, Header(r.Header, "X-Mock-Scenario"))
	if out.Action == engine.UnknownScenario {
		return out, &Problem{Status: http.StatusBadRequest, Kind: UnknownScenario, Subject: out.Scenario}, true
	}
	Decided(x, r, out)
	switch out.Action {
	case engine.Scripted:
		tx.End()
		return out, Scripted(x, r, e, d, out, subject), true
	case engine.PassThrough:
		tx.End()
		PassThrough(x, r, e, d)
		return out, nil, true
	}
	return out, nil, false
}

// ReadFacts are the matchable facts of a request that is not a send.
func ReadFacts(api scenarios.API, r *http.Request, conversationID, workspaceID string) scenarios.Facts {
	return scenarios.Facts{API: api, Method: r.Method, Path: r.URL.Path, ConversationID: conversationID,
		WorkspaceID: workspaceID, Header: r.Header}
}
