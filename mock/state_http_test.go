package mock_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
)

type statusMemory struct {
	Memory struct {
		Bytes, Budget int64
		Sessions      int
	}
	Scheduler struct {
		Pending int
		Refused int64
	}
	Evicted struct {
		Sessions, Conversations, Messages, Events int64
		Journal                                   int64 `json:"journal_entries"`
	}
}

func (ts *testServer) status(t *testing.T) statusMemory {
	t.Helper()
	var st statusMemory
	if err := json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSessionsPastTheLimitKeepTheirConversations: a session past
// retention.sessions is never the one evicted as it is created, even with
// a frozen clock: each CI session reads back the conversation it just made.
func TestSessionsPastTheLimitKeepTheirConversations(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  retention: {sessions: 2}\n"}))
	var convs []string
	for i := 0; i < 6; i++ {
		session := fmt.Sprintf("X-Mock-Session: ci-%d", i)
		res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hi"}`, session)
		if res.Status != 200 {
			t.Fatalf("send %d: %d %s", i, res.Status, res.Body)
		}
		conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)
		convs = append(convs, conv)
		if got := ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", "Authorization: Bearer k", session); got.Status != 200 {
			t.Fatalf("session ci-%d lost the conversation it just made: %d %s", i, got.Status, got.Body)
		}
	}
	// The oldest sessions went, and the status says so.
	st := ts.status(t)
	if st.Evicted.Sessions != 4 || st.Memory.Sessions != 2 {
		t.Errorf("evicted sessions %d, live %d; want 4 and 2", st.Evicted.Sessions, st.Memory.Sessions)
	}
	if got := ts.call(t, "GET", "/v1/conversations/"+convs[0]+"/messages", "", "Authorization: Bearer k", "X-Mock-Session: ci-0"); got.Status != 404 {
		t.Errorf("ci-0 kept past the limit: %d", got.Status)
	}
}

// TestBudgetNeverLosesTheWrite: under a small byte budget every send
// answers 200 and its message reads back at once, the conversation being
// written is never the one evicted, the counted bytes stay within the
// budget, and what was shed is counted.
func TestBudgetNeverLosesTheWrite(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{
		"s.yaml": "settings:\n  body_limit: 256KiB\n  retention: {message_bytes: 1MiB}\nconversations:\n  - id: con_fixture\n    messages: [{sender_id: u, sender_type: user, text: hello}]\n",
	}))
	text := strings.Repeat("x", 60<<10)
	conv := ""
	for i := 0; i < 60; i++ {
		target := conv
		if i%3 == 0 {
			target = "con_fixture"
		}
		body := `{"sender_id":"u","sender_type":"agent","text":"` + text + `"}`
		if target != "" {
			body = `{"conversation_id":"` + target + `","sender_id":"u","sender_type":"agent","text":"` + text + `"}`
		}
		res := ts.sendConversations(t, body)
		if res.Status != 200 {
			t.Fatalf("send %d to %q: %d %s", i, target, res.Status, res.Body)
		}
		data := res.json(t)["data"].(map[string]any)
		id := data["message"].(map[string]any)["id"].(string)
		got := string(ts.call(t, "GET", "/v1/conversations/"+data["conversation_id"].(string)+"/messages", "", "Authorization: Bearer k").Body)
		if !strings.Contains(got, id) {
			t.Fatalf("send %d: message %s answered 200 and is not readable", i, id)
		}
		if i%3 == 1 {
			conv = data["conversation_id"].(string) // the next sends go on writing to it
		}
		if st := ts.status(t); st.Memory.Bytes > st.Memory.Budget {
			t.Fatalf("send %d: %d bytes counted, budget %d", i, st.Memory.Bytes, st.Memory.Budget)
		}
	}
	if st := ts.status(t); st.Evicted.Messages == 0 || st.Evicted.Events == 0 {
		t.Errorf("60 × 60 KiB through a 1 MiB budget evicted nothing: %+v", st.Evicted)
	}
}

// TestJournalCapsWhatRequestsCarry: a request with 900 KB of headers, of
// path or of query leaves a journal entry of a few KiB, marked as cut — so
// that neither the budget nor a verification's regexes pay for it.
func TestJournalCapsWhatRequestsCarry(t *testing.T) {
	big := strings.Repeat("h", 900<<10)
	for _, c := range []struct {
		name, path, header, mark string
		limit                    int // the entry's bytes at most
	}{
		{"header", "/v1/events", "X-Big: " + big, `"headers_truncated":true`, 12 << 10},
		// The 404 quotes the id: its body is kept up to 16 KiB.
		{"path", "/v1/conversations/con_" + big + "/messages", "X-Small: 1", `"path":"/v1/conversations/con_hhh`, 24 << 10},
		{"query", "/v1/events?x=" + big, "X-Small: 1", `"query":"x=hhh`, 12 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, nil)
			before := ts.status(t).Memory.Bytes
			for i := 0; i < 20; i++ {
				if res := ts.call(t, "GET", c.path, "", "Authorization: Bearer "+seedKey, c.header); res.Status != 200 && res.Status != 404 {
					t.Fatalf("%d %.300s", res.Status, res.Body)
				}
			}
			res := ts.call(t, "GET", "/__mock/requests?limit=1", "")
			if len(res.Body) > c.limit {
				t.Fatalf("journal entry of %d bytes for a 900 KB %s", len(res.Body), c.name)
			}
			if !strings.Contains(string(res.Body), c.mark) || !strings.Contains(string(res.Body), "bytes]") {
				t.Errorf("the cut is not marked: %.300s", res.Body)
			}
			if grew := ts.status(t).Memory.Bytes - before; grew > int64(20*c.limit) {
				t.Errorf("20 requests with a 900 KB %s grew the counted memory by %d bytes", c.name, grew)
			}
		})
	}
}

// TestSchedulerIsBounded: past its bound a reply is refused — the send
// still answers 200, with auto_reply_enqueued false — and counted.
func TestSchedulerIsBounded(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - reply: {after: 1h, text: "{{ Word }}"}
`}), func(o *mock.Options) { o.MaxScheduled = 3 })
	for i, want := range []bool{true, true, true, false, false} {
		res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`)
		if got := res.json(t)["data"].(map[string]any)["auto_reply_enqueued"]; got != want {
			t.Errorf("send %d: auto_reply_enqueued %v, want %v", i, got, want)
		}
	}
	if st := ts.status(t); st.Scheduler.Pending != 3 || st.Scheduler.Refused != 2 {
		t.Errorf("scheduler pending %d refused %d, want 3 and 2", st.Scheduler.Pending, st.Scheduler.Refused)
	}
}

// TestEvictedSessionEndsItsStream: when a limit drops a session, its SSE
// streams end cleanly (a comment, then the end of the response) instead of
// silently receiving nothing.
func TestEvictedSessionEndsItsStream(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  retention: {sessions: 1}\n"}))
	req, _ := http.NewRequest("GET", ts.URL+"/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("X-Mock-Session", "watched")
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req) // a stream that never ends fails, not hangs
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hi"}`, "X-Mock-Session: other")
	rest, err := io.ReadAll(res.Body) // returns only when the stream ends
	if err != nil {
		t.Fatalf("the stream broke instead of ending: %v", err)
	}
	if !strings.Contains(string(rest), ": session evicted") {
		t.Errorf("stream ended without saying why: %q", rest)
	}
}
