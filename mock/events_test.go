package mock_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/webhooks"
)

const streamingFixtures = `
scenario:
  name: default
  rules:
    - name: streamed
      when: {sender_type: user}
      reply:
        after: 5ms
        text: "Streaming words arrive one by one, {{ .Request.Text }}!"
        stream: {chunk: word, interval: 2ms}
`

type sseEvent struct {
	ID, Type, Data string
}

// sseStream reads frames from an SSE response.
type sseStream struct {
	res    *http.Response
	sc     *bufio.Scanner
	retry  string // the stream's retry: field, once read
	noPing bool   // fail on a ping: what is awaited must come first (see woken)
}

// woken makes next fail if a keep-alive ping (every 15 s) comes before
// the event it awaits: the event was logged well before that, so the
// stream should have been woken by it, not by its ticker.
func (s *sseStream) woken() *sseStream { s.noPing = true; return s }

func openStream(t *testing.T, url string, headers ...string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("stream: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	t.Cleanup(func() { res.Body.Close() })
	return &sseStream{res: res, sc: bufio.NewScanner(res.Body)}
}

// next returns the next event, skipping comments (": ping").
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.Type != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"):
			if s.noPing && line == ": ping" {
				t.Fatalf("a ping came before the next event: the event did not wake the stream")
			}
		case strings.HasPrefix(line, "retry: "):
			s.retry = line[len("retry: "):]
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Type = line[7:]
		case strings.HasPrefix(line, "data: "):
			if ev.Data != "" {
				t.Fatalf("more than one data line in an event")
			}
			ev.Data = line[6:]
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return ev
}

func TestConversationsEventsFeed(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"c.yaml": "conversations:\n  - id: con_a\n  - id: con_b\n"}))
	for i := 0; i < 5; i++ {
		conv := "con_a"
		if i%2 == 1 {
			conv = "con_b"
		}
		ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"user","text":"m%d"}`, conv, i))
	}
	ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"not in the A feed","sender_id":"u"}}`, "Authorization: Bearer k", "Content-Type: application/json")
	type page struct {
		Data struct {
			Events []struct {
				ID, Type  string
				CreatedAt string `json:"created_at"`
				Data      struct {
					ConversationID string `json:"conversation_id"`
					Message        struct{ Text string }
				}
			}
			HasMore bool `json:"has_more"`
		}
	}
	get := func(query string) page {
		res := ts.call(t, "GET", "/v1/events"+query, "", "Authorization: Bearer k")
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", query, res.Status, res.Body)
		}
		var p page
		if err := json.Unmarshal(res.Body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := get("")
	if len(all.Data.Events) != 5 || all.Data.HasMore || all.Data.Events[0].Data.Message.Text != "m0" || all.Data.Events[0].Type != "message.created" {
		t.Fatalf("feed: %+v", all)
	}
	first := get("?limit=2")
	if len(first.Data.Events) != 2 || !first.Data.HasMore {
		t.Fatalf("limit 2: %+v", first)
	}
	rest := get("?limit=2&after=" + first.Data.Events[1].ID)
	if len(rest.Data.Events) != 2 || rest.Data.Events[0].Data.Message.Text != "m2" || !rest.Data.HasMore {
		t.Fatalf("after the cursor: %+v", rest)
	}
	onlySecond := get("?conversation_id=con_b")
	if len(onlySecond.Data.Events) != 2 || onlySecond.Data.Events[1].Data.Message.Text != "m3" {
		t.Fatalf("conversation filter: %+v", onlySecond)
	}
	res := ts.call(t, "GET", "/v1/events?after=evt_nothere", "", "Authorization: Bearer k")
	if res.Status != 404 || string(res.Body) != `{"status":"error","message":"Event not found: evt_nothere.","data":null}` {
		t.Errorf("unknown cursor: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "GET", "/v1/events", ""); res.Status != 401 {
		t.Errorf("no auth: %d", res.Status)
	}
	// The shape of one event, to the byte.
	res = ts.call(t, "GET", "/v1/events?limit=1", "", "Authorization: Bearer k")
	golden(t, "events/feed_first.json", res.Body)
}

// TestSSEStreamedReply: the deltas of a streamed reply rebuild its text,
// then message.created carries the whole message; Last-Event-ID replays.
func TestSSEStreamedReply(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": streamingFixtures}))
	stream := openStream(t, ts.URL+"/v1/events/stream?access_token=k")
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"friend"}`)
	userMsg := res.json(t)["data"].(map[string]any)["message"].(map[string]any)["id"].(string)

	first := stream.next(t)
	if stream.retry != "1000" {
		t.Errorf("retry: %q, want 1000 (a client reconnects after a second)", stream.retry)
	}
	if first.Type != "message.created" || !strings.Contains(first.Data, `"text":"friend"`) || !strings.HasPrefix(first.ID, "evt_") {
		t.Fatalf("first event: %+v", first)
	}
	var rebuilt strings.Builder
	var seen []sseEvent
	for {
		ev := stream.next(t)
		seen = append(seen, ev)
		if ev.Type == "message.created" {
			var e struct {
				Data struct {
					Message struct {
						Text    string `json:"text"`
						ReplyTo string `json:"reply_to_message_id"`
					} `json:"message"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
				t.Fatal(err)
			}
			want := "Streaming words arrive one by one, friend!"
			if e.Data.Message.Text != want || rebuilt.String() != want || e.Data.Message.ReplyTo != userMsg {
				t.Fatalf("deltas rebuilt %q; created %+v; want %q replying to %s", rebuilt.String(), e.Data.Message, want, userMsg)
			}
			break
		}
		if ev.Type != "message.delta" {
			t.Fatalf("unexpected event %+v", ev)
		}
		var d struct {
			Data struct{ Delta string } `json:"data"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
			t.Fatal(err)
		}
		rebuilt.WriteString(d.Data.Delta)
	}
	if len(seen) != 8 { // 7 words, then the message
		t.Errorf("%d events after the user's message, want 7 deltas and 1 message.created", len(seen))
	}

	// Reconnect as an EventSource would, naming the last event it saw.
	replay := openStream(t, ts.URL+"/v1/events/stream", "Authorization: Bearer k", "Last-Event-ID: "+seen[2].ID)
	for _, want := range seen[3:] {
		if got := replay.next(t); got != want {
			t.Fatalf("replayed %+v, want %+v", got, want)
		}
	}
}

// TestSSEFollowsOneConversation: a stream that follows one conversation
// (conversation_id) gets that conversation's events and no other's, in
// order, however many events of other conversations come between — in
// both APIs, beside an unfiltered stream that gets them all — each woken
// by the events it sends, not by its keep-alive ticker.
func TestSSEFollowsOneConversation(t *testing.T) {
	ts := startServer(t, nil)
	one := openStream(t, ts.URL+"/v1/events/stream?access_token=k&conversation_id=con_9s2kd81").woken()
	all := openStream(t, ts.URL+"/v1/events/stream?access_token=k").woken()
	ws := openStream(t, ts.URL+"/api/v1/events/stream?conversation_id=conv_5f2a9c0e7b1d4a36", "x-api-key: k").woken()
	for i := 0; i < 3; i++ {
		for j := 0; j < 20; j++ {
			if res := ts.sendConversations(t, fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":"elsewhere %d-%d","auto_reply":false}`, i, j)); res.Status != 200 {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			if res := ts.call(t, "POST", "/api/v1/messages", fmt.Sprintf(`{"content":{"content":"elsewhere %d-%d","sender_id":"u"}}`, i, j), "Authorization: Bearer k", "Content-Type: application/json"); res.Status != 201 {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
		}
		if res := ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"here %d","auto_reply":false}`, i)); res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		if res := ts.call(t, "POST", "/api/v1/messages", fmt.Sprintf(`{"content":{"content":"here %d","sender_id":"u"},"conversation_id":"conv_5f2a9c0e7b1d4a36"}`, i), "Authorization: Bearer k", "Content-Type: application/json"); res.Status != 201 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		if ev := one.next(t); ev.Type != "message.created" || !strings.Contains(ev.Data, fmt.Sprintf(`"text":"here %d"`, i)) {
			t.Fatalf("the Conversations stream of con_9s2kd81 got %+v, want its message %d", ev, i)
		}
		if ev := ws.next(t); ev.Type != "message.created" || !strings.Contains(ev.Data, fmt.Sprintf(`"content":"here %d"`, i)) {
			t.Fatalf("the Workspace stream of conv_5f2a9c0e7b1d4a36 got %+v, want its message %d", ev, i)
		}
		for j := 0; j < 20; j++ {
			if ev := all.next(t); !strings.Contains(ev.Data, fmt.Sprintf(`"text":"elsewhere %d-%d"`, i, j)) {
				t.Fatalf("the unfiltered stream got %+v, want elsewhere %d-%d", ev, i, j)
			}
		}
		if ev := all.next(t); !strings.Contains(ev.Data, fmt.Sprintf(`"text":"here %d"`, i)) {
			t.Fatalf("the unfiltered stream got %+v, want here %d", ev, i)
		}
	}
}

func TestSSEWorkspace(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": streamingFixtures}))
	stream := openStream(t, ts.URL+"/api/v1/events/stream", "x-api-key: k")
	ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"hello","sender_id":"u"}}`, "Authorization: Bearer k", "Content-Type: application/json")
	ev := stream.next(t)
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "message.created" || m["content"] != "hello" || len(m) != 17 {
		t.Fatalf("the Workspace stream's data is the Message: %+v", ev)
	}
	if next := stream.next(t); next.Type != "message.delta" || !strings.Contains(next.Data, `"delta":"Streaming "`) {
		t.Fatalf("delta: %+v", next)
	}
	res := ts.call(t, "GET", "/api/v1/events/stream", "")
	if res.Status != 401 || string(res.Body) != `{"detail":"Not authenticated"}` {
		t.Errorf("no key: %d %s", res.Status, res.Body)
	}
}

// TestWebhookSignatureVector checks Sign against the Standard Webhooks test vector.
func TestWebhookSignatureVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := webhooks.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign=%s, want %s", got, want)
	}
}

// TestWebhookRetryAfter500: a receiver that fails once gets the same
// signed event again, and both attempts are listed.
func TestWebhookRetryAfter500(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	var mu sync.Mutex
	var ids []string
	var bodies []string
	var badSignatures int
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("webhook-signature") != want {
			badSignatures++
		}
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(n, 0)).Abs() > 5*time.Minute {
			badSignatures++ // receivers reject stale timestamps: msgmock stamps the wall clock
		}
		ids = append(ids, id)
		bodies = append(bodies, string(body))
		if len(ids) == 1 {
			w.WriteHeader(500)
		}
	}))
	defer receiver.Close()
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": fmt.Sprintf(`
settings:
  webhooks:
    - url: %s/hooks
      secret: %s
      events: [message.created]
`, receiver.URL, secret)}))
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hook me"}`)
	if res.Status != 200 {
		t.Fatal(res.Status)
	}
	type attempt struct {
		EventID     string  `json:"event_id"`
		Attempt     int     `json:"attempt"`
		Status      int     `json:"status"`
		At          string  `json:"at"`
		DurationMS  float64 `json:"duration_ms"`
		NextRetryAt string  `json:"next_retry_at"`
		Pending     bool    `json:"pending"`
	}
	var deliveries struct{ Deliveries []attempt }
	eventually(t, "the retry succeeds", func() bool {
		r := ts.call(t, "GET", "/__mock/webhooks/deliveries", "")
		deliveries.Deliveries = nil // a reused element would keep a "pending" the JSON omits
		_ = json.Unmarshal(r.Body, &deliveries)
		return len(deliveries.Deliveries) == 2 && !deliveries.Deliveries[1].Pending
	})
	// next_retry_at is when the retry is due: the attempt's end plus the
	// first back-off (500ms), not its start.
	at, _ := time.Parse(time.RFC3339Nano, deliveries.Deliveries[0].At)
	next, _ := time.Parse(time.RFC3339Nano, deliveries.Deliveries[0].NextRetryAt)
	ended := at.Add(time.Duration(deliveries.Deliveries[0].DurationMS * float64(time.Millisecond)))
	// duration_ms is cut to whole microseconds, and read back through a
	// float: the end it gives may be a microsecond early, hence the upper
	// bound. A retry due 500ms after the start instead would be at least
	// the attempt's duration early.
	if gap := next.Sub(ended); gap < 500*time.Millisecond-time.Microsecond || gap > 500*time.Millisecond+3*time.Microsecond {
		t.Errorf("next_retry_at is %v after the attempt ended, want 500ms", gap)
	}
	d := deliveries.Deliveries
	if d[0].Attempt != 1 || d[0].Status != 500 || d[0].NextRetryAt == "" || d[1].Attempt != 2 || d[1].Status != 200 || d[0].EventID != d[1].EventID {
		t.Fatalf("deliveries: %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if badSignatures != 0 || len(ids) != 2 || ids[0] != ids[1] || ids[0] != d[0].EventID || bodies[0] != bodies[1] {
		t.Fatalf("receiver saw ids %v, %d bad signatures", ids, badSignatures)
	}
	if !strings.HasPrefix(bodies[0], `{"id":"`+ids[0]+`","type":"message.created","created_at":"2026-03-15T14:22:11Z","data":{"conversation_id":"con_`) ||
		!strings.Contains(bodies[0], `"text":"hook me"`) {
		t.Errorf("body: %s", bodies[0])
	}
}

// TestThousandSSEClients: 1,000 clients connect at once (over 40
// sessions: one session holds at most engine.MaxSessionStreams), each
// receives an event and leaves; afterwards no goroutine is left behind.
func TestThousandSSEClients(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	ts := startServer(t, nil)
	transport := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 1, DisableKeepAlives: true}
	client := &http.Client{Transport: transport}
	runtime.GC()
	baseline := runtime.NumGoroutine()

	const clients, sessions = 1000, 40
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var connected, received sync.WaitGroup
	connected.Add(clients)
	received.Add(clients)
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			defer received.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/events/stream?access_token=k&conversation_id=con_9s2kd81&session=s%d", ts.URL, i%sessions), nil)
			res, err := client.Do(req)
			connected.Done()
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "event: message.created") {
					return // leave after one event
				}
			}
			errs <- fmt.Errorf("stream ended without an event: %v", sc.Err())
		}()
	}
	connected.Wait()
	// Every client has its response headers, so every stream is registered.
	for i := 0; i < sessions; i++ {
		ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"agent","text":"to all"}`, fmt.Sprintf("X-Mock-Session: s%d", i))
	}
	received.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	transport.CloseIdleConnections()
	eventually(t, "goroutines back to the baseline", func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= baseline+5
	})
}

// TestWebhookEndpointsDoNotWaitOnEachOther: a receiver that hangs and a
// healthy one side by side; the healthy one gets every event, in event
// order, while the other hangs, and the hanging attempt is listed as
// pending.
func TestWebhookEndpointsDoNotWaitOnEachOther(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	var mu sync.Mutex
	var got []string
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("webhook-id"))
		mu.Unlock()
	}))
	defer healthy.Close()
	settings := fmt.Sprintf("settings:\n  webhooks:\n    - {url: %s/hang, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n    - {url: %s/ok, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n", hang.URL, healthy.URL)
	ts := startServer(t, mapFS(map[string]string{"s.yaml": settings}))
	const n = 20
	for i := 0; i < n; i++ {
		if res := ts.sendConversations(t, fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":"m%d"}`, i)); res.Status != 200 {
			t.Fatalf("send %d: %d", i, res.Status)
		}
	}
	eventually(t, "every event at the healthy receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	var feed struct {
		Data struct {
			Events []struct{ ID string } `json:"events"`
		} `json:"data"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/v1/events?limit=1000", "", "Authorization: Bearer k").Body, &feed)
	mu.Lock()
	for i, ev := range feed.Data.Events {
		if i >= len(got) || got[i] != ev.ID {
			t.Fatalf("healthy receiver got %v, want the feed's order %v", got, feed.Data.Events)
		}
	}
	mu.Unlock()
	var list struct {
		Deliveries []webhooks.Attempt `json:"deliveries"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/webhooks/deliveries", "").Body, &list)
	hanging := 0
	for _, d := range list.Deliveries {
		if strings.HasPrefix(d.URL, hang.URL) {
			hanging++
			if !d.Pending || d.Attempt != 1 {
				t.Errorf("the hanging attempt is not listed as pending: %+v", d)
			}
		}
	}
	if hanging != 1 {
		t.Errorf("%d attempts to the hanging receiver listed, want the one in flight", hanging)
	}
}
