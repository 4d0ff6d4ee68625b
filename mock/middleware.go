package mock

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

const corsMethods = "GET, POST, PUT, DELETE, OPTIONS"

// corsExpose are the response headers either API sets that a script may
// need — the rate limits' among them; settings.cors.expose adds to them.
var corsExpose = "Retry-After, WWW-Authenticate, Allow, Location, Content-Length, " + strings.Join(wire.RateLimitHeaders, ", ")

// middleware wraps every request: the Host check, CORS and the refusal of
// cross-site admin writes (guard.go), panic recovery into the surface's
// own 500, then one journal entry and one log line.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		set := s.engine.Fixtures().Current()
		if !s.hostAllowed(r.Host, set) {
			x := wire.Of(w)
			refuseHost(x, r)
			end := time.Now()
			s.logRequest(r, x, end, end.Sub(start))
			return
		}
		admin := isAdminPath(r.URL.Path)
		if s.cors(w, r, set, admin) {
			return
		}
		if admin && crossSiteAdminWrite(r, set) {
			x := wire.Of(w)
			refuseCrossSite(x)
			end := time.Now()
			s.logRequest(r, x, end, end.Sub(start))
			return
		}
		x := wire.Acquire(w, set, &s.bodies)
		defer wire.Release(x)
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if x.Status() == 0 && !x.Hijacked() {
					shape := x.Shape
					if shape == nil {
						// A panic in routing itself: the Conversations
						// API's, as the router's own fallback is.
						shape = conversationsSurface.shape
					}
					shape.WriteProblem(x, &wire.Problem{Status: http.StatusInternalServerError, Kind: wire.Internal})
				}
			}
			// One reading of the clock for the journal, the log line and
			// the duration both show.
			end := time.Now()
			elapsed := end.Sub(start)
			if x.Journaled {
				s.record(r, x, s.engine.Clock().At(end), elapsed)
			}
			s.logRequest(r, x, end, elapsed)
			if p == http.ErrAbortHandler {
				panic(p) // a fault: let net/http drop the connection
			}
		}()
		next.ServeHTTP(x, r)
	})
}

// cors sets the CORS headers and answers a preflight; it reports whether it
// did. The APIs answer the origins settings.cors allows; the admin surface
// only its own and settings.security.admin_origins (guard.go).
func (s *Server) cors(w http.ResponseWriter, r *http.Request, set *scenarios.Set, admin bool) bool {
	origin := wire.Header(r.Header, "Origin")
	allowed, credentials := false, false
	if origin != "" {
		if admin {
			allowed = adminOriginAllowed(origin, r, set)
			credentials = allowed
		} else {
			allowed = set.Settings.CORS.AllowsOrigin(origin)
			credentials = set.Settings.CORS.Credentials
		}
	}
	h := w.Header()
	if allowed {
		// The origin is echoed rather than "*": with settings.cors.credentials,
		// fetch with credentials: 'include' works too.
		h.Set("Access-Control-Allow-Origin", origin)
		if credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		expose := corsExpose
		if extra := set.Settings.CORS.Expose; len(extra) > 0 {
			expose += ", " + strings.Join(extra, ", ")
		}
		h.Set("Access-Control-Expose-Headers", expose)
		h.Add("Vary", "Origin")
	}
	if r.Method != http.MethodOptions || wire.Header(r.Header, "Access-Control-Request-Method") == "" {
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
	x := wire.Of(w)
	x.WriteHeader(http.StatusNoContent)
	s.logRequest(r, x, time.Now(), 0)
	return true
}

// record appends the request to its session's journal, which caps what it
// keeps of headers and body (state.JournalBodyLimit, JournalHeaderLimit).
func (s *Server) record(r *http.Request, x *wire.Exchange, at time.Time, elapsed time.Duration) {
	resp, more := x.Response()
	s.engine.Record(x.Set, wire.SessionID(r), &state.JournalEntry{
		At: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header, Body: x.Body, Status: x.FinalStatus(r),
		Scenario: x.Scenario, Rule: x.Rule, Duration: elapsed, Unmatched: x.Unmatched, NearMisses: x.NearMisses,
		RespHeader: x.ResponseWriter.Header(), RespBody: resp, RespBodyTruncated: more,
		KeepCredentials: !x.Set.Settings.Security.MaskCredentials,
	})
}

func (s *Server) logRequest(r *http.Request, x *wire.Exchange, now time.Time, elapsed time.Duration) {
	if !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	if s.requestLog != nil {
		s.requestLog.write(now, r.Method, r.URL.Path, x.FinalStatus(r), elapsed, x.Scenario, x.Rule)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", x.FinalStatus(r)),
		slog.Duration("duration", elapsed),
		slog.String("scenario", x.Scenario),
		slog.String("rule", x.Rule),
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
