package mock_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/cmd/msgmock-load/bare"
	"github.com/msgmock/msgmock/mock"
)

const benchConversationsBody = `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`

// benchPost drives url with POSTs from GOMAXPROCS goroutines over
// keep-alive loopback connections and reports req/s.
func benchPost(b *testing.B, url, body string, headers map[string]string) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			status, err := roundTrip(client, http.MethodPost, url, body, headers)
			if err != nil || status >= 300 {
				b.Errorf("StatusCode=%d, err=%v", status, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkConversationsSend compares POST /v1/messages with the bare handler in the
// same run. Both go through a real loopback listener; msgmock logs its
// request line into io.Discard, so formatting the log costs what it costs.
func BenchmarkConversationsSend(b *testing.B) {
	headers := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json"}
	b.Run("bare", func(b *testing.B) {
		ts := httptest.NewServer(bare.Handler())
		defer ts.Close()
		benchPost(b, ts.URL+"/v1/messages", benchConversationsBody, headers)
	})
	b.Run("msgmock", func(b *testing.B) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		ts := startServer(b, nil, func(o *mock.Options) { o.Logger = logger })
		benchPost(b, ts.URL+"/v1/messages", benchConversationsBody, headers)
	})
}

// BenchmarkRuleMatching sends one request against scenarios of 1, 100 and
// 1,000 rules where only the last rule matches (it answers 202 with a
// fixed body), so every rule before it is tried and rejected.
func BenchmarkRuleMatching(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var y strings.Builder
			y.WriteString("scenario:\n  name: many\n  rules:\n")
			for i := 0; i < n-1; i++ {
				fmt.Fprintf(&y, "    - name: r%d\n      when: {api: conversations, text: {contains: \"needle-%d\"}, sender_id: usr_%d}\n      respond: {status: 500}\n", i, i, i)
			}
			y.WriteString("    - name: last\n      when: {api: conversations, text: {contains: summarize}}\n      respond: {status: 202, body: {ok: true}}\n")
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			ts := startServer(b, mapFS(map[string]string{"many.yaml": y.String(), "c.yaml": "conversations:\n  - id: con_9s2kd81\n"}), func(o *mock.Options) { o.Logger = logger })
			headers := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json", "X-Mock-Scenario": "many"}
			benchPost(b, ts.URL+"/v1/messages", benchConversationsBody, headers)
		})
	}
}
