package mock_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
)

const benchBodyA = `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`

// bareHandler is the yardstick: a net/http handler that decodes the same
// request JSON and encodes a response of the same shape, and nothing else.
func bareHandler() http.Handler {
	type msg struct {
		ID         string         `json:"id"`
		SenderID   string         `json:"sender_id"`
		SenderType string         `json:"sender_type"`
		Text       string         `json:"text"`
		Metadata   map[string]any `json:"metadata,omitempty"`
		CreatedAt  string         `json:"created_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ConversationID string         `json:"conversation_id"`
			SenderID       string         `json:"sender_id"`
			SenderType     string         `json:"sender_type"`
			Text           string         `json:"text"`
			Metadata       map[string]any `json:"metadata"`
			AutoReply      *bool          `json:"auto_reply"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status": "success", "message": "Message sent successfully.",
			"data": map[string]any{
				"conversation_id": req.ConversationID,
				"message": msg{ID: "msg_45kd01", SenderID: req.SenderID, SenderType: req.SenderType, Text: req.Text,
					Metadata: req.Metadata, CreatedAt: time.Now().UTC().Format(time.RFC3339)},
				"auto_reply_enqueued": true,
			},
		})
	})
}

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
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 300 {
				b.Errorf("StatusCode=%d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkSendA compares POST /v1/messages with the bare handler in the
// same run. Both go through a real loopback listener; msgmock logs its
// request line into io.Discard, so formatting the log costs what it costs.
func BenchmarkSendA(b *testing.B) {
	headers := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json"}
	b.Run("bare", func(b *testing.B) {
		ts := httptest.NewServer(bareHandler())
		defer ts.Close()
		benchPost(b, ts.URL+"/v1/messages", benchBodyA, headers)
	})
	b.Run("msgmock", func(b *testing.B) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		ts := startServer(b, nil, func(o *mock.Options) { o.Logger = logger })
		benchPost(b, ts.URL+"/v1/messages", benchBodyA, headers)
	})
}
