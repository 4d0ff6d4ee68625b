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
