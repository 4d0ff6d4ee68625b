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

	"github.com/msgmock/msgmock/mock/webhooks"
)

// Streamed replies paced like a model, and streams that break, measured on
// the virtual clock: every delta is stamped with the instant it fell due.

// timedEvent is an event of the admin stream, as the Workspace API renders
// it: its created_at keeps microseconds.
type timedEvent struct {
	ID, Type string
	At       time.Time
	Delta    string
	Content  string
	Role     string
}

// replyTimeline sends one Workspace API message, moves the clock by
// advance, and returns the events the admin stream showed, in order,
// until the reply's message.created.
func replyTimeline(t *testing.T, ts *testServer, advance string) []timedEvent {
	t.Helper()
	s := openStream(t, ts.URL+"/__mock/events/stream")
	if res := ts.send(t, "b", "hello"); res.Status != 201 {
		t.Fatalf("send: %d %s", res.Status, res.Body)
	}
	ts.advance(t, advance)
	var out []timedEvent
	for {
		ev := s.next(t)
		var raw struct {
			CreatedAt string `json:"created_at"`
			Data      struct {
				Delta   string `json:"delta"`
				Content string `json:"content"`
				Role    string `json:"role"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &raw); err != nil {
			t.Fatalf("event %s: %v", ev.Data, err)
		}
		at, err := time.Parse(time.RFC3339Nano, raw.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		te := timedEvent{ID: ev.ID, Type: ev.Type, At: at, Delta: raw.Data.Delta, Content: raw.Data.Content, Role: raw.Data.Role}
		out = append(out, te)
		if te.Type == "message.created" && te.Role == "assistant" {
			return out
		}
	}
}

// TestStreamProfilePace: a reply's first delta comes at its first_token,
// the next ones at tokens_per_second within its jitter, a stall adds its
// pause, and the deltas join to exactly the reply's text.
func TestStreamProfilePace(t *testing.T) {
	words := make([]string, 20)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i+1)
	}
	text := strings.Join(words, " ")
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {api: workspace, role: user}
      reply:
        text: "` + text + `"
        stream:
          first_token: 800ms
          tokens_per_second: 20
          jitter: 0.25
          faults: [{fault: stall, chunk: 10, for: 2s}]
`}), withVirtualClock())
	events := replyTimeline(t, ts, "10s")
	sent := events[0].At
	if !sent.Equal(frozenNow) {
		t.Fatalf("the message was stored at %s, want %s", sent, frozenNow)
	}
	var deltas []timedEvent
	for _, ev := range events {
		if ev.Type == "message.delta" {
			deltas = append(deltas, ev)
		}
	}
	if len(deltas) != 20 {
		t.Fatalf("%d deltas, want 20", len(deltas))
	}
	if first := deltas[0].At.Sub(sent); first != 800*time.Millisecond {
		t.Errorf("first delta %s after the message, want 800ms", first)
	}
	var joined strings.Builder
	distinct := map[time.Duration]bool{}
	var sum time.Duration
	for i, d := range deltas {
		joined.WriteString(d.Delta)
		if i == 0 {
			continue
		}
		gap := d.At.Sub(deltas[i-1].At)
		if i == 10 { // after the 10th chunk: the stall
			gap -= 2 * time.Second
		}
		if gap < 37500*time.Microsecond || gap > 62500*time.Microsecond {
			t.Errorf("gap before delta %d: %s, want 50ms ± 25%%", i+1, gap)
		}
		distinct[gap] = true
		sum += gap
	}
	if len(distinct) < 10 {
		t.Errorf("only %d distinct gaps: the jitter is not drawn", len(distinct))
	}
	if mean := sum / 19; mean < 44*time.Millisecond || mean > 56*time.Millisecond {
		t.Errorf("mean gap %s, want about 50ms", mean)
	}
	final := events[len(events)-1]
	if joined.String() != text || final.Content != text {
		t.Errorf("deltas join to %q, the message is %q, want %q", joined.String(), final.Content, text)
	}
	if last := final.At.Sub(deltas[19].At); last < 37500*time.Microsecond || last > 62500*time.Microsecond {
		t.Errorf("message.created %s after the last delta", last)
	}
}

// TestStreamProfileIsSeeded: the realistic profile's draws come from the
// seed: the same seed paces a reply the same way, another seed otherwise.
func TestStreamProfileIsSeeded(t *testing.T) {
	fixtures := mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {api: workspace, role: user}
      reply:
        text: "a model answers at its own pace today"
        stream: {profile: realistic}
`})
	timeline := func(seed uint64) string {
		ts := startServer(t, fixtures, withVirtualClock(), withSeed(seed))
		var b strings.Builder
		for _, ev := range replyTimeline(t, ts, "1m") {
			fmt.Fprintf(&b, "%s %s %q\n", ev.At.Sub(frozenNow), ev.ID, ev.Delta)
		}
		return b.String()
	}
	a, b, c := timeline(42), timeline(42), timeline(43)
	if a != b {
		t.Errorf("seed 42 twice:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 42 and 43 pace alike:\n%s", a)
	}
}

const faultyStream = `
scenario:
  name: default
  rules:
    - when: {api: conversations, sender_type: user}
      reply:
        text: "one two three four five six seven eight"
        stream:
          chunk: word
          interval: 100ms
          faults: [%s]
`

// TestStreamDropResumedWithLastEventID: a drop after the 3rd chunk closes
// the stream's connection right after it; the client reconnects with
// Last-Event-ID and gets the rest, whole, and the log holds every chunk
// once.
func TestStreamDropResumedWithLastEventID(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": fmt.Sprintf(faultyStream, "{fault: drop, chunk: 3}")}), withVirtualClock())
	url := ts.URL + "/v1/events/stream?access_token=k"
	s := openStream(t, url)
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`)
	ts.advance(t, "5s")
	var deltas []string
	ids := map[string]bool{}
	last := ""
	read := func(s *sseStream, until func(sseEvent) bool) {
		for {
			ev := s.next(t)
			if ids[ev.ID] {
				t.Fatalf("event %s delivered twice", ev.ID)
			}
			ids[ev.ID] = true
			last = ev.ID
			if ev.Type == "message.delta" {
				var e struct{ Data struct{ Delta string } }
				_ = json.Unmarshal([]byte(ev.Data), &e)
				deltas = append(deltas, e.Data.Delta)
			}
			if until(ev) {
				return
			}
		}
	}
	read(s, func(sseEvent) bool { return len(deltas) == 3 })
	if s.sc.Scan() {
		t.Fatalf("the stream goes on after the drop: %q", s.sc.Text())
	}
	resumed := openStream(t, url, "Last-Event-ID: "+last)
	read(resumed, func(ev sseEvent) bool { return ev.Type == "message.created" })
	if got := strings.Join(deltas, ""); got != "one two three four five six seven eight" {
		t.Errorf("deltas join to %q", got)
	}
	var feed struct {
		Data struct{ Events []struct{ Type string } }
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/v1/events?limit=100", "", "Authorization: Bearer k").Body, &feed)
	n := 0
	for _, ev := range feed.Data.Events {
		if ev.Type == "message.delta" {
			n++
		}
	}
	if n != 8 {
		t.Errorf("the log holds %d deltas, want 8", n)
	}
}

// TestStreamRepeatAndMalformedFrames: repeat sends a chunk twice under one
// id; malformed sends a chunk's frame with its data cut in half and no id
// line; a client that resumes from the chunk before gets it whole.
func TestStreamRepeatAndMalformedFrames(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": fmt.Sprintf(faultyStream,
		"{fault: repeat, chunk: 2}, {fault: malformed, chunk: 3}")}), withVirtualClock())
	url := ts.URL + "/v1/events/stream?access_token=k"
	s := openStream(t, url)
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`)
	ts.advance(t, "5s")
	var frames []sseEvent
	for {
		ev := s.next(t)
		frames = append(frames, ev)
		if ev.Type == "message.created" && len(frames) > 1 {
			break
		}
	}
	// The user's message, d1, d2, d2 again, d3 broken, d4 … d8, the reply.
	if len(frames) != 11 {
		t.Fatalf("%d frames, want 11: %+v", len(frames), frames)
	}
	if frames[2] != frames[3] || frames[2].Type != "message.delta" {
		t.Errorf("the repeated chunk: %+v then %+v", frames[2], frames[3])
	}
	broken := frames[4]
	if broken.ID != "" || broken.Type != "message.delta" || json.Valid([]byte(broken.Data)) || !strings.HasPrefix(broken.Data, `{"id":"evt_`) {
		t.Errorf("the malformed frame: %+v", broken)
	}
	resumed := openStream(t, url, "Last-Event-ID: "+frames[2].ID)
	ev := resumed.next(t)
	var e struct{ Data struct{ Delta string } }
	if err := json.Unmarshal([]byte(ev.Data), &e); err != nil || e.Data.Delta != "three " || ev.ID == "" {
		t.Errorf("resumed after chunk 2: %+v (%v)", ev, err)
	}
}

// TestStreamFaultsOnWebhooks: delta webhooks suffer the stream's faults as
// deliveries: repeat is a second delivery with the same webhook-id, drop a
// failed first attempt retried on the clock, malformed a first body cut in
// half (the receiver's 400 gets it retried whole).
func TestStreamFaultsOnWebhooks(t *testing.T) {
	var mu sync.Mutex
	var got []string // webhook-id, and "!" for a body that is not JSON
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body json.RawMessage
		err := json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		id := r.Header.Get("webhook-id")
		if err != nil {
			id += "!"
			w.WriteHeader(400)
		}
		got = append(got, id)
		mu.Unlock()
	}))
	defer receiver.Close()
	ts := startServer(t, mapFS(map[string]string{
		"settings.yaml": "settings:\n  webhooks:\n    - {url: " + receiver.URL + ", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [message.delta]}\n",
		"default.yaml":  fmt.Sprintf(faultyStream, "{fault: repeat, chunk: 1}, {fault: drop, chunk: 2}, {fault: malformed, chunk: 3}"),
	}), withVirtualClock())
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`)
	ts.advance(t, "5s")
	var feed struct {
		Data struct{ Events []struct{ ID, Type string } }
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/v1/events?limit=100", "", "Authorization: Bearer k").Body, &feed)
	var chunks []string
	for _, ev := range feed.Data.Events {
		if ev.Type == "message.delta" {
			chunks = append(chunks, ev.ID)
		}
	}
	if len(chunks) != 8 {
		t.Fatalf("%d chunks logged", len(chunks))
	}
	deliveries := func() []webhooks.Attempt {
		var list struct {
			Deliveries []webhooks.Attempt `json:"deliveries"`
		}
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/webhooks/deliveries", "").Body, &list)
		return list.Deliveries
	}
	settled := func(n int) func() bool {
		return func() bool {
			list := deliveries()
			for _, a := range list {
				if a.Pending {
					return false
				}
			}
			return len(list) >= n
		}
	}
	// Attempts run beside the clock, on their own: a failed one's retry is
	// due 500ms after it ends, which the move may or may not have passed.
	eventually(t, "the first attempts: 8 chunks, the first twice", settled(9))
	ts.advance(t, "1s")
	eventually(t, "the two retries", settled(11))
	attempts := map[string][]string{}
	for _, a := range deliveries() {
		what := fmt.Sprintf("#%d %d", a.Attempt, a.Status)
		if a.Error != "" {
			what += " " + a.Error
		}
		attempts[a.EventID] = append(attempts[a.EventID], what)
	}
	want := map[int]string{
		0: "#1 200, #1 200",
		1: "#1 0 dropped mid-stream (a scripted stream fault): not sent, #2 200",
		2: "#1 400, #2 200",
		3: "#1 200",
	}
	for i, id := range chunks {
		w, ok := want[min(i, 3)]
		if !ok {
			continue
		}
		if got := strings.Join(attempts[id], ", "); got != w {
			t.Errorf("chunk %d: attempts %s, want %s", i+1, got, w)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	received := map[string]int{}
	for _, id := range got {
		received[id]++
	}
	if received[chunks[0]] != 2 || received[chunks[1]] != 1 || received[chunks[2]+"!"] != 1 || received[chunks[2]] != 1 || len(got) != 10 {
		t.Errorf("the receiver got %v", got)
	}
}
