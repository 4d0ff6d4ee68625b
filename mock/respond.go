package mock

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// applyHeaders sets a scripted response's headers.
func applyHeaders(w http.ResponseWriter, resp *scenarios.Respond) {
	if resp == nil {
		return
	}
	for _, h := range resp.Headers {
		w.Header().Set(h.Name, h.Value)
	}
}

// writeRaw answers a scripted body as it is.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// truncated bodies for the malformed fault: a 200 that a JSON parser chokes on.
var malformedBody = map[scenarios.API]string{
	scenarios.APIConversations: `{"status":"success","message":"Message sent successfully.","data":{"conversation_id":"`,
	scenarios.APIWorkspace:     `[{"conversation_id":"`,
}

// scriptedError answers an error or fault rule: after the latency, the
// API's native error (or the scripted body) or the fault.
func (s *Server) scriptedError(w http.ResponseWriter, r *http.Request, api scenarios.API, resp *scenarios.Respond, latency time.Duration, convID string) {
	if !s.clock.Sleep(r.Context(), latency) {
		return
	}
	applyHeaders(w, resp)
	switch resp.Fault {
	case scenarios.FaultReset, scenarios.FaultEmpty:
		s.dropConnection(w, resp.Fault == scenarios.FaultReset)
		return
	case scenarios.FaultMalformed:
		writeRaw(w, http.StatusOK, []byte(malformedBody[api]))
		return
	case scenarios.FaultTimeout:
		// Hold the request until the client gives up or the server stops;
		// then the connection goes without an answer.
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
			s.dropConnection(w, false)
		}
		return
	}
	if resp.Body != nil {
		writeRaw(w, resp.Status, resp.Body)
		return
	}
	if api == scenarios.APIWorkspace {
		workspaceError(w, resp.Status, resp.Message)
	} else {
		conversationsError(w, resp.Status, resp.Message, convID)
	}
}

// dropConnection closes the connection without an answer; reset makes it
// a TCP RST (SO_LINGER 0) rather than an orderly close.
func (s *Server) dropConnection(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 and the like: the server resets the stream
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// respondStatus is the success status of a request, a scripted 2xx/3xx
// replacing the API's own.
func respondStatus(resp *scenarios.Respond, normal int) int {
	if resp != nil && resp.Status != 0 {
		return resp.Status
	}
	return normal
}
