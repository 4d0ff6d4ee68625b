package mock_test

import (
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgmock/msgmock/cmd/msgmock-load/bare"
	"github.com/msgmock/msgmock/mock"
)

var vsBareFor = flag.Duration("vsbare", 2*time.Second, "how long BenchmarkVsBare drives each handler")

// drive sends requests from 4 keep-alive connections for d and returns req/s.
func drive(tb testing.TB, method, url, body string, headers map[string]string, d time.Duration) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				status, err := roundTrip(client, method, url, body, headers)
				if err != nil || status >= 300 {
					tb.Errorf("%s %s: %d %v", method, url, status, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkVsBare drives each kind of request against msgmock and against a
// bare net/http handler doing the same JSON decode and encode, in the same
// run, and reports both rates and their ratio. Run with -benchtime=1x.
func BenchmarkVsBare(b *testing.B) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json"}
	const workspaceBody = `{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92","tags":["q3"],"meta_data":{"channel":"web"}},"conversation_id":"conv_5f2a9c0e7b1d4a36"}`
	templated := mapFS(map[string]string{
		"c.yaml": "conversations:\n  - id: con_9s2kd81\n",
		"s.yaml": "scenario:\n  name: default\n  rules:\n    - when: {text: {contains: summarize}}\n      reply: {after: 1s, text: \"Hi {{ .Request.SenderID }}, {{ Name }} will look at “{{ .Request.Text }}”. {{ Sentence }}\"}\n",
	})
	bare := bare.Handler()
	cases := []struct {
		name, method, path, body string
		bare                     http.Handler
		fixtures                 func() *testServer
	}{
		{"send_a_default", "POST", "/v1/messages", benchConversationsBody, bare, nil},
		{"send_b", "POST", "/api/v1/messages", workspaceBody, bare, nil},
		{"templated_reply", "POST", "/v1/messages", benchConversationsBody, bare, func() *testServer {
			return startServer(b, templated, func(o *mock.Options) { o.Logger = logger })
		}},
		{"get_events", "GET", "/v1/events?limit=100", "", bare, func() *testServer {
			ts := startServer(b, nil, func(o *mock.Options) { o.Logger = logger })
			for i := 0; i < 150; i++ {
				ts.sendConversations(b, `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","auto_reply":false}`)
			}
			return ts
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bare := httptest.NewServer(c.bare)
			defer bare.Close()
			var ts *testServer
			if c.fixtures != nil {
				ts = c.fixtures()
			} else {
				ts = startServer(b, nil, func(o *mock.Options) { o.Logger = logger })
			}
			var bareRate, mockRate float64
			for i := 0; i < b.N; i++ {
				bareRate += drive(b, c.method, bare.URL+c.path, c.body, auth, *vsBareFor)
				mockRate += drive(b, c.method, ts.URL+c.path, c.body, auth, *vsBareFor)
			}
			b.ReportMetric(bareRate/float64(b.N), "bare-req/s")
			b.ReportMetric(mockRate/float64(b.N), "msgmock-req/s")
			b.ReportMetric(mockRate/bareRate, "ratio")
		})
	}
}
