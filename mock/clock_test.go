package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/webhooks"
)

func withVirtualClock() serverOption {
	return func(o *mock.Options) { o.Clock = clock.NewVirtual(frozenNow) }
}

func (ts *testServer) advance(t *testing.T, d string) {
	t.Helper()
	if res := ts.call(t, "POST", "/__mock/clock", `{"advance":"`+d+`"}`); res.Status != 200 {
		t.Fatalf("advance %s: %d %s", d, res.Status, res.Body)
	}
}

// TestVirtualClockDeliversOnAdvance: a reply due in an hour, streamed a
// word a second, arrives when the clock is moved past it — no sleep — with
// every chunk and the reply stamped with its own due time.
func TestVirtualClockDeliversOnAdvance(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {sender_type: user}
      reply: {after: 1h, text: "one two three", stream: {chunk: word, interval: 1s}}
`}), withVirtualClock())
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`)
	conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)
	ts.advance(t, "59m")
	if n := len(ts.conversationMessages(t, conv)); n != 1 {
		t.Fatalf("%d messages after 59 minutes, want 1", n)
	}
	ts.advance(t, "2m") // the answer comes back once everything due is delivered
	msgs := ts.conversationMessages(t, conv)
	if len(msgs) != 2 || msgs[1].Text != "one two three" {
		t.Fatalf("after an hour: %+v", msgs)
	}
	var feed struct {
		Data struct {
			Events []struct {
				Type      string `json:"type"`
				CreatedAt string `json:"created_at"`
			} `json:"events"`
		} `json:"data"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/v1/events?limit=100", "", "Authorization: Bearer k").Body, &feed)
	var got []string
	for _, ev := range feed.Data.Events {
		got = append(got, ev.Type+"@"+ev.CreatedAt)
	}
	want := []string{
		"message.created@2026-03-15T14:22:11Z",
		"message.delta@2026-03-15T15:22:11Z", "message.delta@2026-03-15T15:22:12Z", "message.delta@2026-03-15T15:22:13Z",
		"message.created@2026-03-15T15:22:14Z",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
	if st := ts.status(t); st.Scheduler.Pending != 0 {
		t.Errorf("%d jobs still scheduled", st.Scheduler.Pending)
	}
}

// TestVirtualClockOrdersReplies: two replies due 20ms and 1ms after two
// sends land in due-time order, whatever the wall clock did meanwhile.
func TestVirtualClockOrdersReplies(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {text: slow}
      reply: {after: 20ms, text: "to slow"}
    - when: {text: fast}
      reply: {after: 1ms, text: "to fast"}
`}), withVirtualClock())
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"slow"}`)
	conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)
	ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"user","text":"fast"}`, conv))
	ts.advance(t, "1s")
	var texts []string
	for _, m := range ts.conversationMessages(t, conv) {
		texts = append(texts, m.Text)
	}
	if got := strings.Join(texts, ","); got != "slow,fast,to fast,to slow" {
		t.Errorf("order %s, want slow,fast,to fast,to slow", got)
	}
}

// TestVirtualClockLatency: a response's latency waits on the virtual
// clock too: the request is answered when the clock is moved past it.
func TestVirtualClockLatency(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - respond: {latency: 5s}
`}), withVirtualClock())
	done := make(chan response, 1)
	go func() { done <- ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`) }()
	eventually(t, "the request to wait on the clock", func() bool {
		var st struct{ Waiting int }
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
		return st.Waiting == 1
	})
	ts.advance(t, "4s")
	select {
	case res := <-done:
		t.Fatalf("answered before its latency was over: %d", res.Status)
	default:
	}
	ts.advance(t, "1s")
	select {
	case res := <-done:
		if res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not answered after the clock passed its latency")
	}
}

// TestVirtualClockWebhookBackoff: a failed delivery's retry is due on the
// virtual clock: it goes out when the clock passes its back-off.
func TestVirtualClockWebhookBackoff(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500)
		}
	}))
	defer receiver.Close()
	settings := "settings:\n  webhooks:\n    - {url: " + receiver.URL + ", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
	ts := startServer(t, mapFS(map[string]string{"s.yaml": settings}), withVirtualClock())
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hook"}`)
	failed := func() bool {
		var list struct {
			Deliveries []webhooks.Attempt `json:"deliveries"`
		}
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/webhooks/deliveries", "").Body, &list)
		return len(list.Deliveries) == 1 && list.Deliveries[0].Status == 500 && !list.Deliveries[0].Pending
	}
	eventually(t, "the first attempt to fail", failed)
	time.Sleep(50 * time.Millisecond) // real time passes: on a virtual clock, no retry
	if !failed() {
		t.Fatal("a retry went out before the clock moved")
	}
	ts.advance(t, "500ms")
	eventually(t, "the retry", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls == 2
	})
}

// BenchmarkVirtualClockConversation: a 100-message conversation whose
// every message is answered 2 s later — 200 s of scripted time — under the
// virtual clock: each send, then a 2 s advance that delivers the reply.
func BenchmarkVirtualClockConversation(b *testing.B) {
	ts := startServer(b, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {sender_type: user}
      reply: {after: 2s, text: "{{ Sentence 6 }}"}
`}), withVirtualClock())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		session := fmt.Sprintf("X-Mock-Session: bench-%d", i)
		conv := ""
		for m := 0; m < 100; m++ {
			body := `{"sender_id":"u","sender_type":"user","text":"hi"}`
			if conv != "" {
				body = `{"conversation_id":"` + conv + `","sender_id":"u","sender_type":"user","text":"hi"}`
			}
			res := ts.sendConversations(b, body, session)
			if conv == "" {
				conv = res.json(b)["data"].(map[string]any)["conversation_id"].(string)
			}
			if res := ts.call(b, "POST", "/__mock/clock", `{"advance":"2s"}`); res.Status != 200 {
				b.Fatal(res.Status)
			}
		}
		if n := len(ts.conversationMessages(b, conv, session)); n != 200 {
			b.Fatalf("%d messages", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/conversation")
}
