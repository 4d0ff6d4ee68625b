package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Rate limits over real HTTP, on the virtual clock: windows fill up, the
// headers count down, the N+1th request gets the API's own 429 with
// Retry-After, and moving the clock past the reset opens the window again.

const limitsSettings = `
settings:
  rate_limits:
    - name: per-key
      key: api_key
      requests: 3
      per: 1m
      api: conversations
`

// limitHeaders are a response's X-RateLimit-* and Retry-After, as
// "limit/remaining/reset retry" for compact comparisons.
func limitHeaders(r response) string {
	s := r.Header.Get("X-RateLimit-Limit") + "/" + r.Header.Get("X-RateLimit-Remaining") + "/" + r.Header.Get("X-RateLimit-Reset")
	if ra := r.Header.Get("Retry-After"); ra != "" {
		s += " retry " + ra
	}
	return s
}

func sendAs(t *testing.T, ts *testServer, key string, headers ...string) response {
	t.Helper()
	h := append([]string{"Authorization: Bearer " + key, "Content-Type: application/json"}, headers...)
	return ts.call(t, "POST", "/v1/messages", `{"sender_id":"u","sender_type":"user","text":"hi"}`, h...)
}

// TestRateLimitWindowPerKey: a fixed window of 3 requests a minute per API
// key refuses the 4th with the envelope's 429 and the time left as
// Retry-After; another key and another session have windows of their own;
// the window opens again once the clock passes its reset.
func TestRateLimitWindowPerKey(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": limitsSettings}), withVirtualClock())
	steps := []struct {
		name    string
		advance string // before the request
		do      func() response
		status  int
		headers string
	}{
		{"first", "", func() response { return sendAs(t, ts, "key-a") }, 200, "3/2/60"},
		{"second, 10s later", "10s", func() response { return sendAs(t, ts, "key-a") }, 200, "3/1/50"},
		{"a read counts too", "10s", func() response {
			return ts.call(t, "GET", "/v1/events", "", "Authorization: Bearer key-a")
		}, 200, "3/0/40"},
		{"the fourth is refused", "", func() response { return sendAs(t, ts, "key-a") }, 429, "3/0/40 retry 40"},
		{"another key has its own window", "", func() response { return sendAs(t, ts, "key-b") }, 200, "3/2/60"},
		{"another session has its own window", "", func() response { return sendAs(t, ts, "key-a", "X-Mock-Session: other") }, 200, "3/2/60"},
		{"the Workspace API is not limited", "", func() response {
			return ts.call(t, "GET", "/api/v1/conversations", "", "Authorization: Bearer key-a")
		}, 200, "//"},
		{"still refused just before the reset", "39s", func() response { return sendAs(t, ts, "key-a") }, 429, "3/0/1 retry 1"},
		{"a fresh window at the reset", "1s", func() response { return sendAs(t, ts, "key-a") }, 200, "3/2/60"},
	}
	for _, s := range steps {
		if s.advance != "" {
			ts.advance(t, s.advance)
		}
		res := s.do()
		if res.Status != s.status || limitHeaders(res) != s.headers {
			t.Fatalf("%s: %d %s, want %d %s\n%s", s.name, res.Status, limitHeaders(res), s.status, s.headers, res.Body)
		}
		if s.status == 429 {
			if got := string(res.Body); got != `{"status":"error","message":"Rate limit exceeded. Please retry later.","data":null}` {
				t.Errorf("%s: body %s", s.name, got)
			}
		}
	}
	// The refusal is journaled with the limit that refused it.
	found := false
	for _, e := range ts.journal(t) {
		found = found || e.Status == 429 && e.Rule == "rate_limit:per-key"
	}
	if !found {
		t.Errorf("no journal entry names the limit: %+v", ts.journal(t))
	}
}

// TestRateLimitOrderOfChecks: where a 429 comes among each API's checks.
// The Conversations API refuses right after auth, before the body is read
// (its gateway); the Workspace API after the JSON parse and auth, before
// validation (a FastAPI dependency). What is answered before the limit
// does not count.
func TestRateLimitOrderOfChecks(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  rate_limits:
    - {name: one, key: session, requests: 1, per: 1h}
`}), withVirtualClock())
	wsSend := func(body string, headers ...string) response {
		return ts.call(t, "POST", "/api/v1/messages", body, append([]string{"Content-Type: application/json"}, headers...)...)
	}
	auth := "Authorization: Bearer k"
	for _, tc := range []struct {
		name    string
		session string
		do      func(h string) response
		status  int
		limited bool // carries the rate-limit headers
	}{
		{"conversations: no key, 401 first", "c1", func(h string) response {
			return ts.call(t, "POST", "/v1/messages", "{}", "Content-Type: application/json", h)
		}, 401, false},
		{"conversations: a bad body after the limit counts", "c1", func(h string) response {
			return ts.call(t, "POST", "/v1/messages", "{}", "Content-Type: application/json", auth, h)
		}, 400, true},
		{"conversations: the window is spent, refused before the body", "c1", func(h string) response {
			return ts.call(t, "POST", "/v1/messages", "not json", "Content-Type: text/plain", auth, h)
		}, 429, true},
		{"workspace: bad JSON, 422 before auth and the limit", "w1", func(h string) response {
			return wsSend("{", auth, h)
		}, 422, false},
		{"workspace: no key, 401", "w1", func(h string) response { return wsSend(`{}`, h) }, 401, false},
		{"workspace: a validation error after the limit counts", "w1", func(h string) response { return wsSend(`{}`, auth, h) }, 422, true},
		{"workspace: the window is spent, 429 before validation", "w1", func(h string) response { return wsSend(`{}`, auth, h) }, 429, true},
	} {
		res := tc.do("X-Mock-Session: " + tc.session)
		if res.Status != tc.status || (res.Header.Get("X-RateLimit-Limit") != "") != tc.limited {
			t.Errorf("%s: %d (limit headers %q), want %d (limited %v)\n%s", tc.name, res.Status, limitHeaders(res), tc.status, tc.limited, res.Body)
		}
		if tc.status == 429 && strings.HasPrefix(tc.name, "workspace") && string(res.Body) != `{"detail":"Too Many Requests"}` {
			t.Errorf("%s: body %s", tc.name, res.Body)
		}
	}
}

// TestRateLimitTokenBucket: a bucket of 2 refilled at 1 a second lets a
// burst of 2 through, refuses the next with the time one token takes
// (retry-after-ms too, as configured), and refills on the clock.
func TestRateLimitTokenBucket(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  rate_limits:
    - {name: bucket, key: api_key, burst: 2, refill: 1/s, retry_after_ms: true}
`}), withVirtualClock())
	for i, want := range []struct {
		advance, headers, ms string
		status               int
	}{
		{"", "2/1/1", "", 200},
		{"", "2/0/2", "", 200},
		{"", "2/0/2 retry 1", "1000", 429},
		{"600ms", "2/0/2 retry 1", "400", 429},
		{"400ms", "2/0/2", "", 200},
		{"10s", "2/1/1", "", 200},
	} {
		if want.advance != "" {
			ts.advance(t, want.advance)
		}
		res := sendAs(t, ts, "key-a")
		if res.Status != want.status || limitHeaders(res) != want.headers || res.Header.Get("retry-after-ms") != want.ms {
			t.Fatalf("request %d: %d %s retry-after-ms=%q, want %d %s %q", i+1, res.Status, limitHeaders(res), res.Header.Get("retry-after-ms"), want.status, want.headers, want.ms)
		}
	}
}

// TestRateLimitCharactersAndStyles: a characters window counts the
// message's characters (sends only), and the openai and anthropic styles
// add their services' header names.
func TestRateLimitCharactersAndStyles(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  rate_limits:
    - {name: rpm, requests: 100, per: 1m, headers: openai}
    - {name: tpm, characters: 12, per: 1m, headers: openai}
    - {name: anthropic-rpm, requests: 50, per: 1m, headers: anthropic, api: workspace}
`}), withVirtualClock())
	send := func(text string) response {
		return ts.call(t, "POST", "/v1/messages", fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":%q}`, text),
			"Authorization: Bearer k", "Content-Type: application/json")
	}
	res := send("héllo") // 5 characters, not 6 bytes
	want := map[string]string{
		"x-ratelimit-limit-requests": "100", "x-ratelimit-remaining-requests": "99", "x-ratelimit-reset-requests": "1m0s",
		"x-ratelimit-limit-tokens": "12", "x-ratelimit-remaining-tokens": "7", "x-ratelimit-reset-tokens": "1m0s",
		// The most constrained: 7 of 12 characters left is less than 99 of 100 requests.
		"X-RateLimit-Limit": "12", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "60",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if res := ts.call(t, "GET", "/v1/events", "", "Authorization: Bearer k"); res.Header.Get("x-ratelimit-remaining-tokens") != "" {
		t.Errorf("a read shows a characters window: %v", res.Header)
	}
	ts.advance(t, "30s")
	res = send("far too long")
	if res.Status != 429 || res.Header.Get("Retry-After") != "30" || res.Header.Get("retry-after-ms") != "30000" {
		t.Fatalf("12 characters over 7 left: %d Retry-After=%q retry-after-ms=%q", res.Status, res.Header.Get("Retry-After"), res.Header.Get("retry-after-ms"))
	}
	// The Workspace API's own limit, in Anthropic's names.
	ws := ts.call(t, "GET", "/api/v1/conversations", "", "Authorization: Bearer k")
	if got := ws.Header.Get("anthropic-ratelimit-requests-remaining"); got != "49" {
		t.Errorf("anthropic-ratelimit-requests-remaining %q, want 49", got)
	}
	if got := ws.Header.Get("anthropic-ratelimit-requests-reset"); got != "2026-03-15T14:23:41Z" {
		t.Errorf("anthropic-ratelimit-requests-reset %q, want the reset instant", got)
	}
}

// TestRateLimitScenarioStatusReset: a scenario's limits apply to the
// requests that run it, /__mock/status shows each window of the session,
// and a reset of the session clears its windows.
func TestRateLimitScenarioStatusReset(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"limited.yaml": `
scenario:
  name: limited
  rate_limits:
    - {name: two, key: session, requests: 2, per: 1m}
  rules: []
`}), withVirtualClock())
	scen := "X-Mock-Scenario: limited"
	for i := 0; i < 2; i++ {
		if res := sendAs(t, ts, "k", scen, "X-Mock-Session: s1"); res.Status != 200 {
			t.Fatalf("send %d: %d", i, res.Status)
		}
	}
	if res := sendAs(t, ts, "k", "X-Mock-Session: s1"); res.Status != 200 || res.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("without the scenario: %d %s", res.Status, limitHeaders(res))
	}
	if res := sendAs(t, ts, "k", scen, "X-Mock-Session: s1"); res.Status != 429 {
		t.Fatalf("third in the scenario: %d", res.Status)
	}
	// An unknown X-Mock-Scenario counts against no scenario's window: its 400 is the answer.
	if res := sendAs(t, ts, "k", "X-Mock-Scenario: nope", "X-Mock-Session: s1"); res.Status != 400 || res.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("an unknown scenario: %d %s", res.Status, limitHeaders(res))
	}
	windows := func(session string) string {
		var st struct {
			RateLimits struct {
				Windows []struct {
					Scope, Name, Key, Unit, Type string
					Limit, Remaining             int64
					ResetMS                      int64 `json:"reset_ms"`
				} `json:"windows"`
			} `json:"rate_limits"`
		}
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "", "X-Mock-Session: "+session).Body, &st)
		var out []string
		for _, w := range st.RateLimits.Windows {
			out = append(out, fmt.Sprintf("%s/%s/%s %s %s %d/%d %dms", w.Scope, w.Name, w.Key, w.Unit, w.Type, w.Remaining, w.Limit, w.ResetMS))
		}
		return strings.Join(out, "; ")
	}
	ts.advance(t, "15s")
	if got, want := windows("s1"), "limited/two/s1 requests window 0/2 45000ms"; got != want {
		t.Errorf("status of s1: %q, want %q", got, want)
	}
	if got := windows("s2"); got != "" {
		t.Errorf("status of s2 shows %q", got)
	}
	if res := ts.call(t, "POST", "/__mock/reset", "", "X-Mock-Session: s1"); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if got := windows("s1"); got != "" {
		t.Errorf("after the reset: %q", got)
	}
	if res := sendAs(t, ts, "k", scen, "X-Mock-Session: s1"); res.Status != 200 || limitHeaders(res) != "2/1/60" {
		t.Fatalf("after the reset: %d %s", res.Status, limitHeaders(res))
	}
}

// TestRetryAfterOfARuleWins: a scripted 429 or 503 that sets Retry-After
// keeps it; the dialects add Retry-After: 1 only when none is set.
func TestRetryAfterOfARuleWins(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {text: slow-down}
      respond: {status: 429, headers: {Retry-After: "30"}}
    - when: {text: plain}
      respond: {status: 503}
`}))
	for _, tc := range []struct{ api, text, want string }{
		{"a", "slow-down", "30"}, {"b", "slow-down", "30"}, {"a", "plain", "1"}, {"b", "plain", "1"},
	} {
		if got := ts.send(t, tc.api, tc.text).Header.Get("Retry-After"); got != tc.want {
			t.Errorf("%s %s: Retry-After %q, want %q", tc.api, tc.text, got, tc.want)
		}
	}
}

// TestRateLimitConcurrent: of 40 requests sent at once against a window of
// 25, exactly 25 pass, whatever the interleaving.
func TestRateLimitConcurrent(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  rate_limits:
    - {name: w, key: api_key, requests: 25, per: 1h}
    - {name: b, key: api_key, burst: 1000, refill: 1/s}
`}), withVirtualClock())
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", ts.URL+"/v1/events", nil)
			req.Header.Set("Authorization", "Bearer shared")
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			count[res.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if count[200] != 25 || count[429] != 15 {
		t.Fatalf("statuses %v, want 25 × 200 and 15 × 429", count)
	}
	// A refused request takes from no window: the bucket lost 25, not 40.
	if res := ts.call(t, "GET", "/v1/events", "", "Authorization: Bearer shared"); res.Status != 429 {
		t.Fatalf("%d", res.Status)
	}
	var st struct {
		RateLimits struct {
			Windows []struct {
				Name      string `json:"name"`
				Remaining int64  `json:"remaining"`
			} `json:"windows"`
		} `json:"rate_limits"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
	for _, w := range st.RateLimits.Windows {
		if w.Name == "b" && w.Remaining != 975 {
			t.Errorf("bucket: %d left, want 975", w.Remaining)
		}
	}
}

// TestRateLimitOfTheActiveScenario: on the built-in fixtures, whose
// rate-limited scenario defines limits, a send meets them exactly when
// the scenario it runs has them — made active for its session, for the
// server, or named in X-Mock-Scenario — and no longer once a reset or a
// switch back makes another scenario active. (Whether a limit may apply
// is asked before the request's transaction, without the session's lock:
// Store.ActiveScenario.)
func TestRateLimitOfTheActiveScenario(t *testing.T) {
	ts := startServer(t, nil, withVirtualClock())
	limited := func(session string, extra ...string) bool {
		t.Helper()
		res := sendAs(t, ts, "k-"+session, append(extra, "X-Mock-Session: "+session)...)
		if res.Status != 200 {
			t.Fatalf("send in %s: %d", session, res.Status)
		}
		return res.Header.Get("X-RateLimit-Limit") != ""
	}
	if limited("a") || limited("b") {
		t.Fatal("limits on the default scenario")
	}
	if !limited("a", "X-Mock-Scenario: rate-limited") {
		t.Fatal("X-Mock-Scenario: rate-limited sent no limit headers")
	}
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"rate-limited"}`, "X-Mock-Session: a"); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if !limited("a") || limited("b") {
		t.Fatal("active for session a: a limited, b not, expected")
	}
	if res := ts.call(t, "POST", "/__mock/reset", "", "X-Mock-Session: a"); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if limited("a") {
		t.Fatal("limits after the session's reset")
	}
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"rate-limited"}`); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if !limited("b") || !limited("new-session") {
		t.Fatal("active for the server: every session limited, expected")
	}
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"default"}`, "X-Mock-Session: b"); res.Status != 200 {
		t.Fatal(res.Status)
	}
	if limited("b") || !limited("c") {
		t.Fatal("b back on default: b free, c still limited, expected")
	}
}
