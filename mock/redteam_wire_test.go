package mock_test

import (
	"encoding/json"
	"github.com/msgmock/msgmock/mock/engine"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestAPIAnswersAreNotPages: every answer of the two APIs — their own, an
// error, a rule's scripted text/html body — carries nosniff and a
// sandboxing CSP, and a rule's respond.headers cannot remove or weaken
// them (red-team finding 2: an imported HAR served text/html on the mock's
// origin, whose script then drove the admin API).
func TestAPIAnswersAreNotPages(t *testing.T) {
	ts := startServer(t, nil)
	page := `{"rules":[{"name":"page","when":{"text":"page"},"respond":{"status":200,` +
		`"headers":{"Content-Type":"text/html","Content-Security-Policy":"default-src *","X-Content-Type-Options":"sniff"},` +
		`"body":"<img src=x onerror=fetch('/__mock/reset',{method:'POST'})>"}}]}`
	if res := ts.call(t, "PUT", "/__mock/scenarios/page", page, "X-Mock-Session: pages"); res.Status != http.StatusOK {
		t.Fatalf("PUT scenario: %d %s", res.Status, res.Body)
	}
	const send = `{"sender_id":"usr_a","sender_type":"user","text":"%s"}`
	for _, tt := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		contentType              string
	}{
		{"the API's own answer", "POST", "/v1/messages", strings.Replace(send, "%s", "hello", 1), nil, 200, "application/json"},
		{"a scripted text/html body", "POST", "/v1/messages", strings.Replace(send, "%s", "page", 1),
			[]string{"X-Mock-Scenario: page"}, 200, "text/html"},
		{"an error", "GET", "/v1/conversations/con_missing/messages", "", nil, 404, "application/json"},
		{"the Workspace API", "GET", "/api/v1/conversations", "", []string{"X-Api-Key: " + seedKey}, 200, "application/json"},
		{"an unknown route", "GET", "/v1/nowhere", "", nil, 404, "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := append([]string{"Authorization: Bearer " + seedKey, "Content-Type: application/json", "X-Mock-Session: pages"}, tt.headers...)
			res := ts.call(t, tt.method, tt.path, tt.body, h...)
			if res.Status != tt.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tt.contentType) {
				t.Fatalf("%d %s (Content-Type %q); want %d, %s", res.Status, res.Body, res.Header.Get("Content-Type"), tt.status, tt.contentType)
			}
			if got := res.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff alone", got)
			}
			if got := res.Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != "sandbox; default-src 'none'; frame-ancestors 'none'" {
				t.Errorf("Content-Security-Policy %q, want the sandbox alone", got)
			}
		})
	}
}

// TestNearMissHidesCredentialConditions: a rule's condition on a
// credential header that is not equals (contains, prefix, regex …) is
// shown masked wherever near misses go — X-Mock-Near-Miss, the journal,
// /__mock/unmatched — and field names are written as ASCII in the header
// (red-team findings 5c and 10).
func TestNearMissHidesCredentialConditions(t *testing.T) {
	ts := startServer(t, nil)
	const fixtureKey = "tok_FIXTURE_abcdefgh"
	rules := `{"rules":[{"name":"by-key","when":{"headers":{"X-Custom-Token":{"contains":"` + fixtureKey + `"},` +
		`"Authorization":{"prefix":"Bearer sk_fixture_prefix_1234","ignore_case":true}},` +
		`"metadata":{"k\u00e9\r\nX-Injected: 1":"v"}},"respond":{"status":503}}]}`
	session := "X-Mock-Session: nm"
	if res := ts.call(t, "PUT", "/__mock/scenarios/nm", rules, session); res.Status != http.StatusOK {
		t.Fatalf("PUT scenario: %d %s", res.Status, res.Body)
	}
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hi"}`, session,
		"X-Mock-Scenario: nm", "X-Mock-Explain: 1", "X-Custom-Token: tok_REQUEST_zyxwvuts999")
	line := res.Header.Get("X-Mock-Near-Miss")
	if !strings.Contains(line, "by-key:") {
		t.Fatalf("no near miss for by-key: %q", line)
	}
	for i := 0; i < len(line); i++ {
		if line[i] < 0x20 || line[i] > 0x7e {
			t.Fatalf("X-Mock-Near-Miss has byte %#x at %d: %q", line[i], i, line)
		}
	}
	if !strings.Contains(line, `metadata.k\u00e9\r\nX-Injected: 1 want "v"`) {
		t.Errorf("the metadata key is not escaped as ASCII: %q", line)
	}
	unmatched := ts.call(t, "GET", "/__mock/unmatched", "", session)
	journal := ts.call(t, "GET", "/__mock/requests?limit=1", "", session)
	for _, shown := range []struct{ where, text string }{
		{"X-Mock-Near-Miss", line}, {"/__mock/unmatched", string(unmatched.Body)}, {"/__mock/requests", string(journal.Body)},
	} {
		for _, secretPart := range []string{fixtureKey, "sk_fixture_prefix_1234", "tok_REQUEST_zyxwvuts999"} {
			if strings.Contains(shown.text, secretPart) {
				t.Errorf("%s shows %s in clear:\n%s", shown.where, secretPart, shown.text)
			}
		}
		// Masked, they are still told apart: the conditions' operators
		// stay, and a fingerprint stands for the value.
		for _, kept := range []string{"contains", "prefix", "(fp "} {
			if !strings.Contains(shown.text, kept) {
				t.Errorf("%s lost %q:\n%s", shown.where, kept, shown.text)
			}
		}
	}
}

// TestReplayOfLargeEventsArrivesWhole: a stream that replays many large
// events — text of control characters, which JSON escapes six-fold — gets
// every one whole and in order, though the stream writes them in pieces
// of about 64 KiB rather than a batch of 256 events at once (red-team
// finding 3; BenchmarkReplayHeld measures what a stream holds).
func TestReplayOfLargeEventsArrivesWhole(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": "scenario: {name: default, rules: []}\n"}))
	const messages = 121 // pieces of 4 events, and a last one of 1
	texts := make([]string, messages)
	for i := range texts {
		// ~3,000 characters, ~18 KB once escaped: 121 of them pass 64 KiB
		// many times over, in one batch that is written in pieces.
		texts[i] = strconv.Itoa(i) + ":" + strings.Repeat("\x01\x02", 1500) + strings.Repeat("é", i)
		body, _ := json.Marshal(map[string]any{"sender_id": "usr_a", "sender_type": "user", "text": texts[i]})
		if res := ts.sendConversations(t, string(body), "X-Mock-Session: replay"); res.Status != http.StatusOK {
			t.Fatalf("send %d: %d %s", i, res.Status, res.Body)
		}
	}
	stream := openStream(t, ts.URL+"/v1/events/stream?access_token=k&session=replay", "Last-Event-ID: evt_unknown")
	stream.sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // a data line is longer than bufio's default
	for i, want := range texts {
		ev := stream.next(t)
		var e struct {
			Data struct {
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil || ev.Type != "message.created" {
			t.Fatalf("event %d: %s %v (%d bytes of data)", i, ev.Type, err, len(ev.Data))
		}
		if e.Data.Message.Text != want {
			t.Fatalf("event %d carries text %.20q…, want %.20q…", i, e.Data.Message.Text, want)
		}
	}
}

// TestRateLimitWindowsBelongToTheirSession: a session that sends more
// distinct API keys than the server holds windows loses its own windows,
// not another session's: the victim's used-up limit stays used up
// (red-team finding 7; mock/engine's TestWindowsAreBounded covers the
// bounds themselves).
func TestRateLimitWindowsBelongToTheirSession(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": "settings:\n  rate_limits: [{name: per-key, key: api_key, requests: 2, per: 1h}]\n"}))
	read := func(session, key string) int {
		return ts.call(t, "GET", "/v1/events", "", "X-Mock-Session: "+session, "Authorization: Bearer "+key).Status
	}
	const victimKey = "sk_test_victim_key_123456"
	if got := []int{read("victim", victimKey), read("victim", victimKey), read("victim", victimKey)}; got[2] != http.StatusTooManyRequests {
		t.Fatalf("victim's statuses %v, want the third refused", got)
	}
	// As many new keys as the whole server used to hold, and one more.
	keys := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				status, err := roundTrip(ts.Client(), "GET", ts.URL+"/v1/events", "", map[string]string{
					"X-Mock-Session": "noisy", "Authorization": "Bearer sk_noisy_" + strconv.Itoa(i)})
				if err != nil || status != http.StatusOK {
					t.Errorf("noisy key %d: %d %v", i, status, err)
				}
			}
		}()
	}
	for i := 0; i <= engine.MaxWindows; i++ {
		keys <- i
	}
	close(keys)
	wg.Wait()
	if got := read("victim", victimKey); got != http.StatusTooManyRequests {
		t.Fatalf("victim's fourth request: %d, want 429: another session's keys evicted its window", got)
	}
}

// TestMessageOverACharactersLimit: a message longer than a characters
// window's whole budget can never be accepted: both APIs answer it 413 in
// their own shape, without Retry-After, however often it is sent, and it
// uses no budget — a message that fits still goes through.
func TestMessageOverACharactersLimit(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  rate_limits:
    - {name: tpm, characters: 10, per: 1m, api: conversations}
    - {name: bucket, unit: characters, burst: 12, refill: 1/s, api: workspace}
`}))
	conversations := func(text string) response {
		return ts.call(t, "POST", "/v1/messages", `{"sender_id":"u","sender_type":"user","text":"`+text+`"}`,
			"Authorization: Bearer k", "Content-Type: application/json")
	}
	workspace := func(text string) response {
		return ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"`+text+`","sender_id":"usr_w"}}`,
			"Authorization: Bearer k", "Content-Type: application/json")
	}
	for _, tt := range []struct {
		name          string
		send          func(string) response
		tooLong, fits string
		errorText     string
	}{
		{"conversations, a fixed window", conversations, "eleven chrs", "short",
			`"message":"Message too long for rate limit \"tpm\": 11 characters, and it allows 10 at most."`},
		{"workspace, a bucket", workspace, "thirteen chrs", "sh",
			`{"detail":"Message too long for rate limit \"bucket\": 13 characters, and it allows 12 at most."}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				res := tt.send(tt.tooLong)
				if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(res.Body), tt.errorText) || res.Header.Get("Retry-After") != "" {
					t.Fatalf("try %d: %d %s Retry-After=%q; want 413 %s without Retry-After", i, res.Status, res.Body, res.Header.Get("Retry-After"), tt.errorText)
				}
			}
			if res := tt.send(tt.fits); res.Status >= 400 {
				t.Fatalf("a message that fits after the refusals: %d %s", res.Status, res.Body)
			}
		})
	}
}
