package mock

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

const (
	corsMethods = "GET, POST, PUT, DELETE, OPTIONS"
	// corsExpose are the response headers either API sets that a script
	// may need; settings.cors.expose adds to them.
	corsExpose = "Retry-After, WWW-Authenticate, Allow, Location, Content-Length"
)

// exchange is the response writer every handler gets. Besides recording the
// status for the journal and log line, it carries what the handler learnt
// (the body it read, the scenario and rule that answered), which saves a
// context allocation per request.
type exchange struct {
	http.ResponseWriter
	status   int
	body     []byte
	scenario string
	rule     string
	hijacked bool
	set      *scenarios.Set    // the configuration this request runs on, start to end
	surface  *surface          // the route group that answered; set by routes.go
	vars     map[string]string // route variables, kept with the pooled exchange
	resp     []byte            // the response body as written, up to the journal's limit (journaled surfaces only); reused
	respMore bool              // more was written than resp holds
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

func (e *exchange) WriteHeader(code int) {
	if e.status == 0 {
		e.status = code
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *exchange) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.surface != nil && e.surface.journaled {
		if room := state.JournalBodyLimit - len(e.resp); room >= len(b) {
			e.resp = append(e.resp, b...)
		} else {
			e.resp = append(e.resp, b[:max(room, 0)]...)
			e.respMore = true
		}
	}
	return e.ResponseWriter.Write(b)
}

func (e *exchange) Flush() {
	if f, ok := e.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets faults drop the connection.
func (e *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := e.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	e.hijacked = true
	return h.Hijack()
}

func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// exchangeOf returns the exchange behind w; a bare writer gets a throwaway one.
func exchangeOf(w http.ResponseWriter) *exchange {
	if e, ok := w.(*exchange); ok {
		return e
	}
	return &exchange{ResponseWriter: w}
}

// config returns the configuration the request started with: loaded once
// by the middleware, so a reload mid-request cannot split it across two.
func (s *Server) config(w http.ResponseWriter) *scenarios.Set {
	if e, ok := w.(*exchange); ok && e.set != nil {
		return e.set
	}
	return s.fixtures.Current()
}

// middleware wraps every request: CORS, panic recovery into the API's own
// 500, then one journal entry and one log line.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		set := s.fixtures.Current()
		if s.cors(w, r, set) {
			return
		}
		ex := exchangePool.Get().(*exchange)
		*ex = exchange{ResponseWriter: w, set: set, vars: ex.vars, resp: ex.resp[:0]}
		defer exchangePool.Put(ex)
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if ex.status == 0 && !ex.hijacked {
					ex.surfaceOrDefault().internalError(ex, r)
				}
			}
			elapsed := time.Since(start)
			if ex.surfaceOrDefault().journaled {
				s.record(r, ex, set, elapsed)
			}
			s.logRequest(r, ex, elapsed)
			if p == http.ErrAbortHandler {
				panic(p) // a fault: let net/http drop the connection
			}
		}()
		next.ServeHTTP(ex, r)
	})
}

// cors sets the CORS headers and answers a preflight; it reports whether it did.
func (s *Server) cors(w http.ResponseWriter, r *http.Request, set *scenarios.Set) bool {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && set.Settings.CORS.AllowsOrigin(origin)
	h := w.Header()
	if allowed {
		// The origin is echoed rather than "*" so that fetch with
		// credentials: 'include' works too.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		expose := corsExpose
		if extra := set.Settings.CORS.Expose; len(extra) > 0 {
			expose += ", " + strings.Join(extra, ", ")
		}
		h.Set("Access-Control-Expose-Headers", expose)
		h.Add("Vary", "Origin")
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if allowed {
		h.Set("Access-Control-Allow-Methods", corsMethods)
		if fixed := set.Settings.CORS.Headers; len(fixed) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(fixed, ", "))
		} else if asked := requestedHeaders(r); asked != "" {
			// Whatever the app sends (sentry-trace, X-Request-Id, …) is
			// granted, as a mock for local development should.
			h.Set("Access-Control-Allow-Headers", asked)
		}
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	s.logRequest(r, &exchange{status: http.StatusNoContent}, 0)
	return true
}

// surfaceOrDefault is the surface that answered; a request that never
// reached one (a panic in routing itself) is the Conversations API's, as
// the router's own fallback is.
func (e *exchange) surfaceOrDefault() *surface {
	if e.surface == nil {
		return conversationsSurface
	}
	return e.surface
}

func (s *Server) logRequest(r *http.Request, ex *exchange, elapsed time.Duration) {
	if !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", finalStatus(r, ex)),
		slog.Duration("duration", elapsed),
		slog.String("scenario", ex.scenario),
		slog.String("rule", ex.rule),
	)
}

// requestedHeaders is a preflight's Access-Control-Request-Headers, kept
// only if it is a list of header names (nothing else is echoed back).
func requestedHeaders(r *http.Request) string {
	var names []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !validToken(name) {
				return ""
			}
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}
