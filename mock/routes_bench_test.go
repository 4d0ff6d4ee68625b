package mock

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

// BenchmarkRouting measures routing's share of the default path (the
// seed's POST /v1/messages with its auto-reply), in the same run:
//
//   - direct:   middleware → the send handler, no router at all;
//   - servemux: middleware → the standard library's ServeMux with the
//     route table msgmock had before gorilla/mux (method dispatch in a
//     map per pattern) → the same handler;
//   - gorilla:  the server as it ships (routes.go).
//
// The share of each router is (its ns/op − direct's) / its ns/op. Requests
// go straight to ServeHTTP with a reused writer, so the figure is the
// server's CPU per request without a client or the network around it.
func BenchmarkRouting(b *testing.B) {
	store, err := scenarios.NewFSStore("built-in", fixtures.FS, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
	s := NewServer(context.Background(), Options{Fixtures: store, Clock: clock.New(&now), Seed: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()

	send := s.surfaced(conversationsSurface, s.conversations.Send)
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"direct", s.middleware(send)},
		{"servemux", s.middleware(oldServeMux(s, send))},
		{"gorilla", s},
	}
	const body = `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			rd := strings.NewReader(body)
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1/messages", rd)
			req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Mock-Session", "bench-"+c.name)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rd.Reset(body)
				req.Body = io.NopCloser(rd)
				req.ContentLength = int64(len(body))
				clear(w.h)
				w.status = 0
				c.h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// BenchmarkRouteLookup is routing alone for the default path's request:
// finding its handler, without running it.
func BenchmarkRouteLookup(b *testing.B) {
	store, err := scenarios.NewFSStore("built-in", fixtures.FS, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(context.Background(), Options{Fixtures: store})
	defer s.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1/messages", nil)
	b.Run("servemux", func(b *testing.B) {
		old := oldServeMux(s, http.NotFoundHandler()).(*http.ServeMux)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if h, _ := old.Handler(req); h == nil {
				b.Fatal("no handler")
			}
		}
	})
	b.Run("gorilla", func(b *testing.B) {
		root := s.router()
		vars := map[string]string{}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			clear(vars)
			match := mux.RouteMatch{Vars: vars}
			if !root.Match(req, &match) || match.MatchErr != nil {
				b.Fatal("no route")
			}
		}
	})
}

// oldServeMux is the route table as the standard library's ServeMux served
// it before gorilla/mux: one pattern per path, the method picked from a map
// (the other routes' handlers answer 404; only the table's shape matters).
func oldServeMux(s *Server, send http.Handler) http.Handler {
	mux := http.NewServeMux()
	other := s.surfaced(conversationsSurface, noRoute)
	byMethod := func(m map[string]http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := m[r.Method]
			if h == nil && r.Method == http.MethodHead {
				h = m[http.MethodGet]
			}
			if h == nil {
				w.Header().Set("Allow", "POST")
				s.surfaced(conversationsSurface, noMethod).ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("/v1/messages", byMethod(map[string]http.Handler{http.MethodPost: send}))
	for _, p := range []string{
		"/v1/conversations/{id}/messages", "/v1/events", "/v1/events/stream", "/v1/",
		"/api/v1/messages", "/api/v1/messages/{message_id}", "/api/v1/conversations", "/api/v1/events/stream", "/api/",
		"/__mock/health", "/__mock/status", "/__mock/scenario", "/__mock/reset", "/__mock/requests",
		"/__mock/webhooks/deliveries", "/__mock/clock", "/__mock/", "/",
	} {
		mux.Handle(p, byMethod(map[string]http.Handler{http.MethodGet: other}))
	}
	return mux
}

// benchWriter is a ResponseWriter that keeps the status and drops the body.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
