package mock_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/msgmock/msgmock/mock"
)

const churnSession = "X-Mock-Session: churn"

// churnFixtures: a small budget and small limits, so that a few hundred
// requests evict by every limit again and again; a streamed reply
// (deltas) and a rule that most sends miss (unmatched, with near misses).
// message_bytes 1365KiB: the state sheds at three quarters of it, 1 MiB.
const churnFixtures = `
settings:
  body_limit: 64KiB
  retention: {conversations: 8, messages_per_conversation: 40, events: 400, journal: 90, message_bytes: 1365KiB}
conversations:
  - id: con_kept
    messages:
      - {sender_id: usr_1, sender_type: user, text: "a fixture message <kept> \u2028 é", metadata: {channel: web}}
scenario:
  name: default
  rules:
    - name: streamed
      when: {text: {prefix: "stream"}}
      reply: {after: 1s, sender_id: agt_1, text: "chunks of a streamed answer to {{ .Request.Text }}", stream: {chunk: word, interval: 100ms}}
    - name: gold
      when: {text: {contains: "<gold>"}, headers: {X-Plan: gold}}
      reply: {after: 2s, text: "gold answer"}
`

// observed holds what readers were first given of each item, by key.
type observed struct {
	t     *testing.T
	first map[string][]byte
}

// see fails if key was seen before with other bytes.
func (o *observed) see(key string, raw []byte) {
	o.t.Helper()
	if prev, ok := o.first[key]; ok {
		if !bytes.Equal(prev, raw) {
			o.t.Fatalf("%s changed:\n was %s\n now %s", key, prev, raw)
		}
		return
	}
	o.first[key] = bytes.Clone(raw)
}

// TestRetainedStateReadsBackAfterChurn: messages (both APIs, read by
// each API and by the inspector), events (the feed and a stream replayed
// from Last-Event-ID, chunks of streamed replies included) and journal
// entries (truncation marks, masked credentials, near misses; listed,
// one by one, unmatched) read back byte for byte as readers first got
// them, however much is evicted and compacted around them meanwhile.
func TestRetainedStateReadsBackAfterChurn(t *testing.T) {
	var logged syncBuffer
	ts := startServer(t, mapFS(map[string]string{"f.yaml": churnFixtures}), withVirtualClock(),
		func(o *mock.Options) { o.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	auth := []string{"Authorization: Bearer " + seedKey, "Content-Type: application/json", churnSession}
	o := &observed{t: t, first: map[string][]byte{}}
	rng := rand.New(rand.NewPCG(30, 1))
	text := func(n int) string {
		words := []string{"hello", "<b>&</b>", "é", "漢字", "\\u2028", "\"q\"", "paid", "x"}
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		return b.String()
	}
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	var convs, wsConvs []string // conversations made by sends
	var convMsgs []string       // ids of Conversations messages, for reply_to
	var wsMsgs []string         // ids of Workspace messages
	send := func(body string, headers ...string) map[string]any {
		t.Helper()
		res := ts.call(t, "POST", "/v1/messages", body, append(append([]string{}, auth...), headers...)...)
		if res.Status == 404 && strings.Contains(string(res.Body), "Conversation not found") {
			return nil // retention.conversations evicted it
		}
		if res.Status != 200 {
			t.Fatalf("send: %d %s", res.Status, res.Body)
		}
		data := res.json(t)["data"].(map[string]any)
		convMsgs = append(convMsgs, data["message"].(map[string]any)["id"].(string))
		return data
	}
	lastRequest := "" // the last journal entry observed
	for step := range 300 {
		conv := "con_kept"
		if len(convs) > 0 && rng.IntN(4) > 0 {
			conv = convs[rng.IntN(len(convs))]
		}
		convField := `"conversation_id":"` + conv + `",`
		if rng.IntN(6) == 0 {
			convField = "" // a new conversation
		}
		switch k := rng.IntN(12); {
		case k < 3: // plain, sizes from a few bytes to 30 KB
			data := send(`{` + convField + `"sender_id":"usr_2","sender_type":"user","text":` + str(text(rng.IntN(4)*rng.IntN(10<<10)+1)) +
				`,"metadata":{"n":` + fmt.Sprint(step) + `,"tag":"<x>"}}`)
			if data != nil && convField == "" {
				convs = append(convs, data["conversation_id"].(string))
			}
		case k < 5: // streamed reply: its chunks are logged as deltas
			send(`{` + convField + `"sender_id":"usr_3","sender_type":"user","text":` + str("stream "+text(rng.IntN(200))) + `}`)
		case k < 6 && len(convMsgs) > 0: // a reply to a message of the conversation, or a 404
			res := ts.call(t, "POST", "/v1/messages", `{"conversation_id":"`+conv+`","sender_id":"usr_4","sender_type":"agent","text":"re","reply_to_message_id":"`+
				convMsgs[rng.IntN(len(convMsgs))]+`"}`, auth...)
			if res.Status != 200 && res.Status != 404 {
				t.Fatalf("reply: %d %s", res.Status, res.Body)
			}
		case k < 8: // unmatched, with credentials and a long header: masked, cut, near misses
			send(`{`+convField+`"sender_id":"usr_5","sender_type":"user","text":"almost <gold> `+fmt.Sprint(step)+`"}`,
				"X-Api-Key: wsk_live_0123456789abcdef", "Cookie: sid=sess_0123456789abcdefghij", "X-Plan: silver",
				"X-Long: "+strings.Repeat("L", 1500+rng.IntN(1000)))
		case k < 10: // Workspace: every field, an offset, a body past the journal's 16 KiB
			wsConv := ""
			if len(wsConvs) > 0 && rng.IntN(3) > 0 {
				wsConv = `,"conversation_id":"` + wsConvs[rng.IntN(len(wsConvs))] + `"`
			}
			body := `{"content":{"content":` + str(text(rng.IntN(3)*rng.IntN(12<<10)+1)) + `,"sender_id":"u","created_at":"2026-03-15T14:22:11.123456+05:30",` +
				`"role":"assistant","tool_calls":[{"name":"lookup","args":{"q":"<x>"}}],"parent_message_id":"msg_parent","tags":["a","é"],` +
				`"meta_data":{"k":[1,2.50,null]},"attachments":[{"url":"https://x.test/a?b=1&c=2"}]}` + wsConv + `}`
			res := ts.call(t, "POST", "/api/v1/messages", body, auth...)
			if res.Status == 404 {
				break // retention.conversations evicted it
			}
			if res.Status != 201 {
				t.Fatalf("workspace send: %d %s", res.Status, res.Body)
			}
			var created []struct {
				ID             string `json:"id"`
				ConversationID string `json:"conversation_id"`
			}
			if err := json.Unmarshal(res.Body, &created); err != nil || len(created) == 0 {
				t.Fatalf("workspace send: %v %s", err, res.Body)
			}
			if wsConv == "" {
				wsConvs = append(wsConvs, created[0].ConversationID)
			}
			for _, m := range created {
				wsMsgs = append(wsMsgs, m.ID)
			}
		default: // time passes: replies and their chunks are stored
			ts.advance(t, "3s")
		}
		observeNew(t, ts, o, auth, &lastRequest)
		if step%50 == 49 {
			observeAll(t, ts, o, auth, wsMsgs)
		}
	}
	ts.advance(t, "1m")
	observeAll(t, ts, o, auth, wsMsgs)

	st := ts.status(t)
	if st.Evicted.Messages < 100 || st.Evicted.Events < 200 || st.Evicted.Journal < 200 || st.Evicted.Conversations < 5 ||
		strings.Count(logged.String(), "memory budget reached") < 5 {
		t.Errorf("too little churn to test anything: %+v, budget shed %d times", st.Evicted, strings.Count(logged.String(), "memory budget reached"))
	}
	if st.Memory.Bytes > st.Memory.Budget {
		t.Errorf("%d bytes held, over the %d budget", st.Memory.Bytes, st.Memory.Budget)
	}
	for _, want := range []string{`"headers_truncated":true`, `…[`, `(fp `, `"near_misses":[`, `"body_truncated":true`, `"type":"message.delta"`} {
		found := false
		for _, raw := range o.first {
			if bytes.Contains(raw, []byte(want)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("nothing observed holds %s: the test misses a case", want)
		}
	}
}

// observeNew sees the events logged and the journal entries recorded
// since lastRequest.
func observeNew(t *testing.T, ts *testServer, o *observed, auth []string, lastRequest *string) {
	t.Helper()
	observeEvents(t, ts, o, auth)
	path := "/__mock/requests"
	if *lastRequest != "" {
		path += "?after=" + *lastRequest
	}
	if ids := observeJournal(t, ts, o, path); len(ids) > 0 {
		*lastRequest = ids[len(ids)-1]
	}
}

func observeEvents(t *testing.T, ts *testServer, o *observed, auth []string) (ids []string, items [][]byte) {
	t.Helper()
	after := ""
	for {
		res := ts.call(t, "GET", "/v1/events?limit=1000"+after, "", auth...)
		var page struct {
			Data struct {
				Events  []json.RawMessage `json:"events"`
				HasMore bool              `json:"has_more"`
			} `json:"data"`
		}
		if res.Status != 200 || json.Unmarshal(res.Body, &page) != nil {
			t.Fatalf("events: %d %s", res.Status, res.Body)
		}
		for _, raw := range page.Data.Events {
			var ev struct{ ID string }
			_ = json.Unmarshal(raw, &ev)
			o.see("event "+ev.ID, raw)
			ids, items = append(ids, ev.ID), append(items, raw)
		}
		if !page.Data.HasMore {
			return ids, items
		}
		after = "&after=" + ids[len(ids)-1]
	}
}

func observeJournal(t *testing.T, ts *testServer, o *observed, path string) []string {
	t.Helper()
	res := ts.call(t, "GET", path, "", churnSession)
	var list struct{ Requests []json.RawMessage }
	if res.Status != 200 || json.Unmarshal(res.Body, &list) != nil {
		t.Fatalf("%s: %d %s", path, res.Status, res.Body)
	}
	var ids []string
	for _, raw := range list.Requests {
		var e struct{ ID string }
		_ = json.Unmarshal(raw, &e)
		o.see("request "+e.ID, raw)
		ids = append(ids, e.ID)
	}
	return ids
}

// observeAll sees everything the session holds, through every reader.
func observeAll(t *testing.T, ts *testServer, o *observed, auth []string, wsMsgs []string) {
	t.Helper()
	// Messages, by the inspector and by each API.
	res := ts.call(t, "GET", "/__mock/conversations", "", churnSession)
	var inspected struct {
		Conversations []struct {
			API      string
			ID       string
			Messages []json.RawMessage
		}
	}
	if res.Status != 200 || json.Unmarshal(res.Body, &inspected) != nil {
		t.Fatalf("inspector: %d %s", res.Status, res.Body)
	}
	held := map[string]bool{}
	for _, c := range inspected.Conversations {
		for _, raw := range c.Messages {
			var m struct{ ID string }
			_ = json.Unmarshal(raw, &m)
			o.see("inspected "+m.ID, raw)
			held[m.ID] = true
		}
		if c.API != "conversations" {
			continue
		}
		res := ts.call(t, "GET", "/v1/conversations/"+c.ID+"/messages?limit=1000", "", auth...)
		var list struct {
			Data struct{ Messages []json.RawMessage }
		}
		if res.Status != 200 || json.Unmarshal(res.Body, &list) != nil || len(list.Data.Messages) != len(c.Messages) {
			t.Fatalf("messages of %s: %d %s", c.ID, res.Status, res.Body)
		}
		for _, raw := range list.Data.Messages {
			var m struct{ ID string }
			_ = json.Unmarshal(raw, &m)
			o.see("listed "+m.ID, raw)
		}
	}
	for _, id := range wsMsgs {
		res := ts.call(t, "GET", "/api/v1/messages/"+id, "", auth...)
		switch {
		case res.Status == 200 && held[id]:
			o.see("got "+id, res.Body)
		case res.Status != 404 || held[id]:
			t.Fatalf("workspace message %s: %d %s (the inspector holds it: %v)", id, res.Status, res.Body, held[id])
		}
	}

	// Events: the feed, then a stream replaying it from Last-Event-ID.
	ids, items := observeEvents(t, ts, o, auth)
	if len(ids) > 1 {
		stream := openStream(t, ts.URL+"/v1/events/stream", "Authorization: Bearer "+seedKey, churnSession, "Last-Event-ID: "+ids[0])
		for i := 1; i < len(ids); i++ {
			ev := stream.next(t)
			if ev.ID != ids[i] || ev.Data != string(items[i]) {
				t.Fatalf("replayed event %d: %s %s\nwant %s %s", i, ev.ID, ev.Data, ids[i], items[i])
			}
		}
		stream.res.Body.Close()
	}

	// Journal entries: listed, one by one, the unmatched ones.
	for _, id := range observeJournal(t, ts, o, "/__mock/requests") {
		res := ts.call(t, "GET", "/__mock/requests/"+id, "", churnSession)
		if res.Status == 404 && !slices.Contains(observeJournal(t, ts, o, "/__mock/requests"), id) {
			continue // evicted since: the stream above ended and was journaled meanwhile
		}
		if res.Status != 200 {
			t.Fatalf("request %s: %d %s", id, res.Status, res.Body)
		}
		o.see("request "+id, bytes.TrimSuffix(res.Body, []byte("\n")))
	}
	unmatched := ts.call(t, "GET", "/__mock/unmatched", "", churnSession)
	var u struct{ Requests []json.RawMessage }
	if unmatched.Status != 200 || json.Unmarshal(unmatched.Body, &u) != nil {
		t.Fatalf("unmatched: %d %s", unmatched.Status, unmatched.Body)
	}
	for _, raw := range u.Requests {
		var e struct{ ID string }
		_ = json.Unmarshal(raw, &e)
		o.see("request "+e.ID, raw)
	}
}

// syncBuffer is a log the server writes from any goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
