package wire

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Exchange is the response writer every handler gets: one request and its
// answer. Besides recording the status for the journal and the log line,
// it carries the configuration snapshot the request runs on and what the
// handler learnt (the body it read, the scenario and rule that answered),
// which saves a context allocation per request.
type Exchange struct {
	http.ResponseWriter
	Set      *scenarios.Set    // the configuration this request runs on, start to end
	Vars     map[string]string // route variables, escaped; kept with the pooled exchange
	Body     []byte            // the request body as read, for the journal
	Scenario string            // the scenario that ran
	Rule     string            // the rule that answered ("passthrough" when forwarded)
	// Unmatched: the request reached its scenario's rules and none answered
	// it; NearMisses are the closest rules then (see Decided).
	Unmatched  bool
	NearMisses []scenarios.NearMiss
	// Journaled: the response body is kept (up to the journal's limit) as it
	// is written. Set by routing for the two APIs' routes.
	Journaled bool
	// Shape is the error shape of the route group that answered: a panic's
	// 500 is written in it. Set by routing.
	Shape Shape

	status   int
	hijacked bool
	bodies   *BodyBudget // the server's; bodyHeld is what this request took of it
	bodyHeld int64
	resp     []byte // the response body as written, up to the journal's limit; reused
	respMore bool   // more was written than resp holds
}

var pool = sync.Pool{New: func() any { return new(Exchange) }}

// Acquire returns a pooled Exchange for w and set, whose bodies are read
// within bodies; Release gives it back.
func Acquire(w http.ResponseWriter, set *scenarios.Set, bodies *BodyBudget) *Exchange {
	x := pool.Get().(*Exchange)
	*x = Exchange{ResponseWriter: w, Set: set, Vars: x.Vars, resp: x.resp[:0], bodies: bodies}
	if x.Vars == nil {
		x.Vars = make(map[string]string, 1)
	}
	clear(x.Vars)
	return x
}

// Release gives back what x took of the body budget and returns x to the
// pool; nothing may use it afterwards.
func Release(x *Exchange) {
	x.bodies.give(x.bodyHeld)
	x.Body, x.bodyHeld = nil, 0
	pool.Put(x)
}

// Of returns the Exchange behind w; a bare writer gets a throwaway one.
func Of(w http.ResponseWriter) *Exchange {
	if x, ok := w.(*Exchange); ok {
		return x
	}
	return &Exchange{ResponseWriter: w, Vars: map[string]string{}}
}

// WriteHeader starts the answer; from here it must be written within
// WriteTimeout. An API's answer (Journaled) gets the confining headers
// (see confine) here, after everything else set its headers.
func (x *Exchange) WriteHeader(code int) {
	if x.status == 0 {
		x.status = code
		x.startWrite()
	}
	x.ResponseWriter.WriteHeader(code)
}

func (x *Exchange) Write(b []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
		x.startWrite()
	}
	if x.Journaled {
		if room := state.JournalBodyLimit - len(x.resp); room >= len(b) {
			x.resp = append(x.resp, b...)
		} else {
			x.resp = append(x.resp, b[:max(room, 0)]...)
			x.respMore = true
		}
	}
	return x.ResponseWriter.Write(b)
}

func (x *Exchange) startWrite() {
	if x.Journaled {
		confine(x.ResponseWriter.Header())
	}
	if dl, ok := x.ResponseWriter.(deadliner); ok {
		_ = dl.SetWriteDeadline(time.Now().Add(WriteTimeout))
	}
}

func (x *Exchange) Flush() {
	if f, ok := x.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets faults drop the connection.
func (x *Exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := x.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	x.hijacked = true
	return h.Hijack()
}

func (x *Exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// Status is the status written so far (0: none).
func (x *Exchange) Status() int { return x.status }

// Hijacked reports whether a fault took the connection over.
func (x *Exchange) Hijacked() bool { return x.hijacked }

// Response is the response body as written, up to the journal's limit, and
// whether more was written. The slice is reused: copy what must outlive x.
func (x *Exchange) Response() ([]byte, bool) { return x.resp, x.respMore }

// StatusClientClosed is what the journal and log show for a request whose
// client hung up before any answer (nginx's 499); a connection dropped on
// purpose by a fault shows 0.
const StatusClientClosed = 499

// FinalStatus is the status the journal and the log line show.
func (x *Exchange) FinalStatus(r *http.Request) int {
	switch {
	case x.status != 0:
		return x.status
	case x.hijacked:
		return 0
	case r.Context().Err() != nil:
		return StatusClientClosed
	}
	return http.StatusOK
}

// PathVar returns a route variable, unescaped (routes match escaped paths).
func (x *Exchange) PathVar(name string) string {
	v := x.Vars[name]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// MaxSessionID is the longest X-Mock-Session id: a session's id is kept as
// long as the session, and sessions are many.
const MaxSessionID = 128

// CheckSession refuses (400) a session id longer than MaxSessionID or
// holding anything but printable ASCII (spaces allowed).
func CheckSession(r *http.Request) *Problem {
	id := SessionID(r)
	if len(id) > MaxSessionID {
		return &Problem{Status: http.StatusBadRequest, Message: "X-Mock-Session must be at most 128 characters."}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return &Problem{Status: http.StatusBadRequest, Message: "X-Mock-Session must be printable ASCII."}
		}
	}
	return nil
}

// SessionID is the request's X-Mock-Session; an EventSource, which cannot
// send headers, names it with ?session= on the stream routes.
func SessionID(r *http.Request) string {
	if id := Header(r.Header, "X-Mock-Session"); id != "" {
		return id
	}
	if strings.HasSuffix(r.URL.Path, "/events/stream") {
		return r.URL.Query().Get("session")
	}
	return ""
}

// Confining headers, pre-built so that setting them allocates nothing.
// They are shared: never edit them in place.
var (
	nosniff = []string{"nosniff"}
	// sandboxed: a document served on the mock's origin — a scripted or
	// imported body that says text/html — runs in a unique origin, with
	// no script, no subresource and no framing by another page, so it can
	// never reach the admin API as a same-origin page would.
	sandboxed = []string{"sandbox; default-src 'none'; frame-ancestors 'none'"}
)

// confine sets X-Content-Type-Options: nosniff and a sandboxing
// Content-Security-Policy on h, replacing what a rule's respond.headers,
// an imported HAR or an upstream set under those names: an API answer is
// data, never a page of the mock's origin (see the package
// documentation).
func confine(h http.Header) {
	h["X-Content-Type-Options"] = nosniff
	h["Content-Security-Policy"] = sandboxed
}
