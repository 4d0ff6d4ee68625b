package mock

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

// BenchmarkDefaultPath is the server's cost of one default-path request,
// all of it: the seed's POST /v1/messages through routing, the middleware,
// the journal and the log line (to io.Discard), and — on a virtual clock
// moved 3 s after every 500 requests, as a wall clock would deliver them
// in batches — the AI reply it schedules, rendered, stored and logged as
// an event. allocs/op is the figure issue 19 halves.
// The Workspace API's POST is measured beside it.
func BenchmarkDefaultPath(b *testing.B) {
	store, err := scenarios.NewFSStore("built-in", fixtures.FS, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"conversations", "/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`, http.StatusOK},
		{"workspace", "/api/v1/messages", `{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92","tags":["q3"],"meta_data":{"channel":"web"}},"conversation_id":"conv_5f2a9c0e7b1d4a36"}`, http.StatusCreated},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
			clk := clock.NewVirtual(start)
			s := NewServer(context.Background(), Options{Fixtures: store, Clock: clk, Seed: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				RequestLog: &RequestLog{W: io.Discard}}) // as msgmock runs
			defer s.Close()
			w := &benchWriter{h: http.Header{}}
			rd := strings.NewReader(c.body)
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1"+c.path, rd)
			req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
			req.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rd.Reset(c.body)
				req.Body = io.NopCloser(rd)
				req.ContentLength = int64(len(c.body))
				clear(w.h)
				w.status = 0
				s.ServeHTTP(w, req)
				if w.status != c.status {
					b.Fatalf("status %d", w.status)
				}
				if i%500 == 499 {
					s.engine.MoveClock(clk.Now().Add(3 * time.Second)) // the replies land
				}
			}
			s.engine.MoveClock(clk.Now().Add(3 * time.Second))
			b.StopTimer()
			if st := s.engine.Stats().Scheduler; st.Pending != 0 {
				b.Fatalf("%d replies still pending", st.Pending)
			}
		})
	}
}
