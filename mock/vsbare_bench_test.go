package mock_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// bareSendB decodes the Workspace API body and encodes the 201 array.
func bareSendB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Content struct {
				Content  string         `json:"content"`
				SenderID string         `json:"sender_id"`
				Role     string         `json:"role"`
				Tags     []string       `json:"tags"`
				MetaData map[string]any `json:"meta_data"`
			} `json:"content"`
			ConversationID *string `json:"conversation_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode([]map[string]any{{
			"conversation_id": "conv_0000000000000001", "sender_id": req.Content.SenderID, "content": req.Content.Content,
			"workspace_id": "wsp_default", "created_at": now, "updated_at": now, "id": "msg_0000000000000001", "role": "user",
			"tool_calls": nil, "message_type": "text", "tags": req.Content.Tags, "checksum": "x", "attachments": nil,
			"parent_message_id": nil, "meta_data": req.Content.MetaData, "sent_at": now, "owner_id": nil,
		}})
	})
}

// bareEvents encodes a page of 100 events of the feed's shape.
func bareEvents() http.Handler {
	type message struct {
		ID, SenderID, SenderType, Text, CreatedAt string
	}
	type event struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		CreatedAt string `json:"created_at"`
		Data      struct {
			ConversationID string  `json:"conversation_id"`
			Message        message `json:"message"`
		} `json:"data"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events := make([]event, 100)
		for i := range events {
			events[i].ID, events[i].Type, events[i].CreatedAt = fmt.Sprintf("evt_%08d", i), "message.created", "2026-03-15T14:22:11Z"
			events[i].Data.ConversationID = "con_9s2kd81"
			events[i].Data.Message = message{fmt.Sprintf("msg_%06d", i), "usr_82hd92", "user", "Can you summarize my last 5 calls?", "2026-03-15T14:22:11Z"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Events retrieved successfully.", "data": map[string]any{"events": events, "has_more": true}})
	})
}

// BenchmarkVsBare drives each kind of request against msgmock and against a
// bare net/http handler doing the same JSON decode and encode, in the same
// run, and reports both rates and their ratio. Run with -benchtime=1x.
func BenchmarkVsBare(b *testing.B) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json"}
	const bodyB = `{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92","tags":["q3"],"meta_data":{"channel":"web"}},"conversation_id":"conv_5f2a9c0e7b1d4a36"}`
	templated := mapFS(map[string]string{
		"c.yaml": "conversations:\n  - id: con_9s2kd81\n",
		"s.yaml": "scenario:\n  name: default\n  rules:\n    - when: {text: {contains: summarize}}\n      reply: {after: 1s, text: \"Hi {{ .Request.SenderID }}, {{ Name }} will look at “{{ .Request.Text }}”. {{ Sentence }}\"}\n",
	})
	cases := []struct {
		name, method, path, body string
		bare                     http.Handler
		fixtures                 func() *testServer
	}{
		{"send_a_default", "POST", "/v1/messages", benchBodyA, bareHandler(), nil},
		{"send_b", "POST", "/api/v1/messages", bodyB, bareSendB(), nil},
		{"templated_reply", "POST", "/v1/messages", benchBodyA, bareHandler(), func() *testServer {
			return startServer(b, templated, func(o *mock.Options) { o.Logger = logger })
		}},
		{"get_events", "GET", "/v1/events?limit=100", "", bareEvents(), func() *testServer {
			ts := startServer(b, nil, func(o *mock.Options) { o.Logger = logger })
			for i := 0; i < 150; i++ {
				ts.sendA(b, `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","auto_reply":false}`)
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
