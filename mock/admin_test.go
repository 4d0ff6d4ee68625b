package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/secret"
)

func TestHealthAndStatus(t *testing.T) {
	ts := startServer(t, nil)
	if res := ts.call(t, "GET", "/__mock/health", ""); res.Status != 200 || string(res.Body) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", res.Status, res.Body)
	}
	res := ts.call(t, "GET", "/__mock/status", "")
	var st struct {
		Version        string   `json:"version"`
		Fixtures       string   `json:"fixtures"`
		ActiveScenario string   `json:"active_scenario"`
		Scenarios      []string `json:"scenarios"`
		Reload         struct {
			OK     bool     `json:"ok"`
			Errors []string `json:"errors"`
		} `json:"reload"`
		Generation int `json:"generation"`
	}
	if err := json.Unmarshal(res.Body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != "dev" || st.Fixtures != "test" || st.ActiveScenario != "default" || !st.Reload.OK || st.Generation != 1 || st.Reload.Errors == nil {
		t.Fatalf("status: %s", res.Body)
	}
}

func TestAdminToken(t *testing.T) {
	ts := startServer(t, nil, func(o *mockOptions) { o.AdminToken = "s3cret" })
	if res := ts.call(t, "GET", "/__mock/status", ""); res.Status != 401 {
		t.Fatalf("without token: StatusCode=%d, want 401", res.Status)
	}
	if res := ts.call(t, "GET", "/__mock/status", "", "Authorization: Bearer wrong"); res.Status != 401 {
		t.Fatalf("wrong token: StatusCode=%d, want 401", res.Status)
	}
	if res := ts.call(t, "GET", "/__mock/status", "", "Authorization: Bearer s3cret"); res.Status != 200 {
		t.Fatalf("right token: StatusCode=%d, want 200", res.Status)
	}
	// Health says only that msgmock answers: health checks need no token.
	if res := ts.call(t, "GET", "/__mock/health", ""); res.Status != 200 || string(res.Body) != `{"status":"ok"}` {
		t.Fatalf("health without token: %d %s, want 200", res.Status, res.Body)
	}
	// The APIs themselves are not behind the admin token.
	if res := ts.sendConversations(t, validConversationsBody); res.Status != 200 {
		t.Fatalf("API call: StatusCode=%d, want 200", res.Status)
	}
}

func TestJournal(t *testing.T) {
	ts := startServer(t, nil)
	ts.sendConversations(t, validConversationsBody)
	ts.sendConversations(t, `{"sender_id":1}`)
	ts.call(t, "GET", "/v1/conversations/con_9s2kd81/messages", "", "Authorization: Bearer "+seedKey)
	ts.call(t, "GET", "/__mock/health", "") // admin calls are not journaled

	var j struct {
		Requests []struct {
			ID         string            `json:"id"`
			Method     string            `json:"method"`
			Path       string            `json:"path"`
			Headers    map[string]string `json:"headers"`
			Body       json.RawMessage   `json:"body"`
			Status     int               `json:"status"`
			At         string            `json:"at"`
			DurationMS *float64          `json:"duration_ms"`
		} `json:"requests"`
	}
	res := ts.call(t, "GET", "/__mock/requests", "")
	if err := json.Unmarshal(res.Body, &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Requests) != 3 {
		t.Fatalf("journal has %d entries, want 3: %s", len(j.Requests), res.Body)
	}
	first := j.Requests[0]
	if first.ID != "req_000001" || first.Method != "POST" || first.Path != "/v1/messages" || first.Status != 200 ||
		string(first.Body) != validConversationsBody || first.Headers["Authorization"] != secret.Mask("Bearer "+seedKey) || first.At != "2026-03-15T14:22:11Z" || first.DurationMS == nil {
		t.Errorf("first entry: %+v (credentials are masked: %q)", first, secret.Mask("Bearer "+seedKey))
	}
	if j.Requests[1].Status != 400 || j.Requests[2].Method != "GET" {
		t.Errorf("newest last: %s", res.Body)
	}

	res = ts.call(t, "GET", "/__mock/requests?path=/v1/messages&limit=1", "")
	_ = json.Unmarshal(res.Body, &j)
	if len(j.Requests) != 1 || j.Requests[0].Status != 400 {
		t.Errorf("path+limit filter: %s", res.Body)
	}
	if res := ts.call(t, "DELETE", "/__mock/requests", ""); res.Status != 204 {
		t.Fatalf("DELETE: StatusCode=%d, want 204", res.Status)
	}
	res = ts.call(t, "GET", "/__mock/requests", "")
	if string(res.Body) != `{"requests":[]}` {
		t.Errorf("after DELETE: %s", res.Body)
	}
}

func TestJournalKeepsNonJSONBodiesAsText(t *testing.T) {
	ts := startServer(t, nil)
	ts.sendConversations(t, "not json at all")
	res := ts.call(t, "GET", "/__mock/requests", "")
	if !strings.Contains(string(res.Body), `"body":"not json at all"`) {
		t.Fatalf("journal: %s", res.Body)
	}
}

func TestReset(t *testing.T) {
	ts := startServer(t, nil)
	first := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"t"}`)
	conv := first.json(t)["data"].(map[string]any)["conversation_id"].(string)
	ts.sendConversations(t, validConversationsBody)
	if res := ts.call(t, "POST", "/__mock/reset", ""); res.Status != 200 {
		t.Fatalf("reset: %d %s", res.Status, res.Body)
	}
	auth := "Authorization: Bearer " + seedKey
	if res := ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", auth); res.Status != 404 {
		t.Errorf("conversation created before reset: StatusCode=%d, want 404", res.Status)
	}
	res := ts.call(t, "GET", "/v1/conversations/con_9s2kd81/messages", "", auth)
	if n := len(messageTexts(t, res.Body)); n != 3 {
		t.Errorf("con_9s2kd81 has %d messages after reset, want the fixtures' 3", n)
	}
	if res := ts.call(t, "GET", "/__mock/requests", ""); !strings.Contains(string(res.Body), `"requests":[{`) || strings.Count(string(res.Body), `"id":"req_`) != 2 {
		t.Errorf("journal after reset should hold only the two GETs since: %s", res.Body)
	}
	// Reset rewinds the random stream: the same request gives the same ids again.
	again := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"t"}`)
	if string(again.Body) != string(first.Body) {
		t.Errorf("after reset\ngot  %s\nwant %s", again.Body, first.Body)
	}
}

// TestResetRestoresTheStartScenario: a scenario switched on by one QA run
// does not outlive its reset, server-wide or in a session.
func TestResetRestoresTheStartScenario(t *testing.T) {
	ts := startServer(t, nil, func(o *mock.Options) { o.Scenario = "streaming" })
	active := func(headers ...string) string {
		var st struct {
			ActiveScenario string `json:"active_scenario"`
		}
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "", headers...).Body, &st)
		return st.ActiveScenario
	}
	ts.call(t, "PUT", "/__mock/scenario", `{"name":"conversations-500"}`)
	ts.call(t, "PUT", "/__mock/scenario", `{"name":"workspace-500"}`, "X-Mock-Session: qa")
	if a, b := active(), active("X-Mock-Session: qa"); a != "conversations-500" || b != "workspace-500" {
		t.Fatalf("before reset: %q and %q", a, b)
	}
	ts.call(t, "POST", "/__mock/reset", "", "X-Mock-Session: qa")
	if got := active("X-Mock-Session: qa"); got != "conversations-500" {
		t.Errorf("session after its reset follows %q, want the server's conversations-500", got)
	}
	ts.call(t, "POST", "/__mock/reset", "")
	if got := active(); got != "streaming" {
		t.Errorf("server after reset: %q, want streaming (active at start)", got)
	}
	if res := ts.sendConversations(t, validConversationsBody); res.Status != 200 {
		t.Errorf("a send after reset still fails: %d %s", res.Status, res.Body)
	}
}

func TestClock(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		body   string
		status int
		now    string
	}{
		{`{"advance":"90s"}`, 200, "2026-03-15T14:23:41Z"},
		{`{"now":"2027-01-02T03:04:05Z"}`, 200, "2027-01-02T03:04:05Z"},
		{`{"advance":"soon"}`, 400, ""},
		{`{"now":"yesterday"}`, 400, ""},
		{`{}`, 400, ""},
		{`{"now":"2027-01-02T03:04:05Z","advance":"1s"}`, 400, ""},
	}
	for _, tt := range tests {
		res := ts.call(t, "POST", "/__mock/clock", tt.body)
		if res.Status != tt.status {
			t.Fatalf("%s: StatusCode=%d, want %d: %s", tt.body, res.Status, tt.status, res.Body)
		}
		if tt.now != "" && res.json(t)["now"] != tt.now {
			t.Fatalf("%s: now=%v, want %s", tt.body, res.json(t)["now"], tt.now)
		}
	}
	res := ts.sendConversations(t, validConversationsBody)
	if got := res.json(t)["data"].(map[string]any)["message"].(map[string]any)["created_at"]; got != "2027-01-02T03:04:05Z" {
		t.Errorf("created_at=%v, want the moved clock", got)
	}
}

func TestAdminRoutes(t *testing.T) {
	ts := startServer(t, nil)
	if res := ts.call(t, "GET", "/__mock/nope", ""); res.Status != 404 || !strings.Contains(string(res.Body), `"error"`) {
		t.Errorf("unknown admin route: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "POST", "/__mock/health", ""); res.Status != 405 || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("wrong method: %d Allow=%q", res.Status, res.Header.Get("Allow"))
	}
}

func TestCORS(t *testing.T) {
	ts := startServer(t, nil)
	// A preflight is granted the headers it asks for, whatever they are.
	pre := ts.call(t, "OPTIONS", "/v1/messages", "", "Origin: http://localhost:5173", "Access-Control-Request-Method: POST",
		"Access-Control-Request-Headers: authorization,content-type,sentry-trace,x-request-id")
	if pre.Status != 204 {
		t.Fatalf("preflight: StatusCode=%d, want 204", pre.Status)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":  "http://localhost:5173",
		"Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
		"Access-Control-Allow-Headers": "authorization, content-type, sentry-trace, x-request-id",
		"Access-Control-Expose-Headers": "Retry-After, WWW-Authenticate, Allow, Location, Content-Length, " +
			"X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, retry-after-ms, " +
			"x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, " +
			"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, " +
			"anthropic-ratelimit-requests-limit, anthropic-ratelimit-requests-remaining, anthropic-ratelimit-requests-reset, " +
			"anthropic-ratelimit-tokens-limit, anthropic-ratelimit-tokens-remaining, anthropic-ratelimit-tokens-reset",
	}
	for k, v := range want {
		if got := pre.Header.Get(k); got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	res := ts.sendConversations(t, validConversationsBody, "Origin: http://localhost:5173")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("simple request: Access-Control-Allow-Origin=%q", got)
	}
	// Errors carry CORS headers too, or the browser hides them from the app.
	res = ts.call(t, "POST", "/v1/messages", validConversationsBody, "Origin: http://localhost:5173")
	if res.Status != 401 || res.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("401 without CORS headers: %v", res.Header)
	}

	limited := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  cors:\n    origins: [\"http://app.test\"]\n"}))
	res = limited.call(t, "OPTIONS", "/v1/messages", "", "Origin: http://evil.test", "Access-Control-Request-Method: POST")
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("origin outside cors.origins was allowed")
	}
	res = limited.call(t, "OPTIONS", "/v1/messages", "", "Origin: http://app.test", "Access-Control-Request-Method: POST")
	if res.Header.Get("Access-Control-Allow-Origin") != "http://app.test" {
		t.Errorf("listed origin refused")
	}

	// Settings may fix the headers granted and expose more.
	fixed := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  cors:\n    headers: [Authorization, Content-Type]\n    expose: [X-Trace]\n"}))
	res = fixed.call(t, "OPTIONS", "/api/v1/messages", "", "Origin: http://app.test", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: sentry-trace")
	if got := res.Header.Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type" {
		t.Errorf("fixed list: Access-Control-Allow-Headers=%q", got)
	}
	res = fixed.sendConversations(t, validConversationsBody, "Origin: http://app.test")
	if got := res.Header.Get("Access-Control-Expose-Headers"); !strings.HasSuffix(got, ", X-Trace") {
		t.Errorf("cors.expose: Access-Control-Expose-Headers=%q", got)
	}
	// Only header names are echoed back.
	res = ts.call(t, "OPTIONS", "/v1/messages", "", "Origin: http://app.test", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: x-ok, bad header")
	if got := res.Header.Get("Access-Control-Allow-Headers"); got != "" {
		t.Errorf("a malformed request list was echoed: %q", got)
	}
}

func TestAuthModes(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": `
settings:
  auth:
    mode: listed
    tokens:
      - {token: good-key}
      - {token: old-key, expired: true}
`}))
	for key, want := range map[string]int{"good-key": 200, "old-key": 401, "other-key": 401} {
		body := `{"sender_id":"u","sender_type":"user","text":"t"}`
		res := ts.call(t, "POST", "/v1/messages", body, "Authorization: Bearer "+key, "Content-Type: application/json")
		if res.Status != want {
			t.Errorf("%s: StatusCode=%d, want %d", key, res.Status, want)
		}
	}
}

func TestAutoCreateOff(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": "settings:\n  conversations:\n    auto_create: false\n"}))
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"t"}`)
	if want := `{"status":"error","message":"Field 'conversation_id' is required.","data":null}`; res.Status != 400 || string(res.Body) != want {
		t.Fatalf("got %d %s, want 400 %s", res.Status, res.Body, want)
	}
}

func TestBodyLimitSetting(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": "settings:\n  body_limit: 100B\n"}))
	body := fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":%q}`, strings.Repeat("a", 100))
	if res := ts.sendConversations(t, body); res.Status != 413 {
		t.Fatalf("StatusCode=%d, want 413", res.Status)
	}
	// Chunked (no Content-Length) is held to the same limit.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/messages", strings.NewReader(body))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked: StatusCode=%d, want 413", res.StatusCode)
	}
}

func TestRetention(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{
		"settings.yaml": "settings:\n  retention: {conversations: 2, messages_per_conversation: 3, journal: 4}\n",
		"convs.yaml":    "conversations:\n  - id: con_fixture\n",
	}))
	var convs []string
	for i := 0; i < 3; i++ {
		res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"t"}`)
		convs = append(convs, res.json(t)["data"].(map[string]any)["conversation_id"].(string))
	}
	auth := "Authorization: Bearer k"
	if res := ts.call(t, "GET", "/v1/conversations/"+convs[0]+"/messages", "", auth); res.Status != 404 {
		t.Errorf("oldest conversation kept past the limit: %d", res.Status)
	}
	if res := ts.call(t, "GET", "/v1/conversations/"+convs[2]+"/messages", "", auth); res.Status != 200 {
		t.Errorf("newest conversation evicted: %d", res.Status)
	}
	for i := 0; i < 5; i++ {
		ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":"con_fixture","sender_id":"u","sender_type":"user","text":"m%d"}`, i))
	}
	res := ts.call(t, "GET", "/v1/conversations/con_fixture/messages", "", auth)
	if got := strings.Join(messageTexts(t, res.Body), ","); got != "m2,m3,m4" {
		t.Errorf("messages kept: %s, want m2,m3,m4 (fixture conversations are never evicted, their old messages are)", got)
	}
	res = ts.call(t, "GET", "/__mock/requests", "")
	if n := strings.Count(string(res.Body), `"id":"req_`); n != 4 {
		t.Errorf("journal holds %d entries, want the limit 4", n)
	}
}

// TestDeterminism: two servers with the same seed and frozen clock answer
// the same requests with the same bytes; another seed gives other ids.
func TestDeterminism(t *testing.T) {
	script := func(ts *testServer) string {
		var out strings.Builder
		for i := 0; i < 5; i++ {
			res := ts.sendConversations(t, fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":"n%d"}`, i))
			out.Write(res.Body)
		}
		res := ts.sendConversations(t, validConversationsBody)
		out.Write(res.Body)
		return out.String()
	}
	a := script(startServer(t, nil, withSeed(7)))
	b := script(startServer(t, nil, withSeed(7)))
	c := script(startServer(t, nil, withSeed(8)))
	if a != b {
		t.Fatalf("same seed, different output:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds, same output")
	}
}

// TestMessageBudget: past the server-wide memory budget, the least
// recently used session goes first, then the busy session's oldest
// messages. Each message here is about 200 KiB, so ten fill 2 MiB.
func TestMessageBudget(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  retention: {message_bytes: 2MiB, events: 1}\n  body_limit: 1MiB\n"}))
	text := strings.Repeat("x", 200<<10)
	send := func(session string) string {
		res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"`+text+`"}`, "X-Mock-Session: "+session)
		return res.json(t)["data"].(map[string]any)["conversation_id"].(string)
	}
	get := func(session, conv string) int {
		return ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", "Authorization: Bearer k", "X-Mock-Session: "+session).Status
	}
	var a, b []string
	for i := 0; i < 6; i++ {
		a = append(a, send("a"))
	}
	for i := 0; i < 6; i++ {
		b = append(b, send("b"))
	}
	// 12 > 10: session a, the least recently used, was dropped.
	if s := get("a", a[5]); s != 404 {
		t.Errorf("session a kept past the budget: %d", s)
	}
	if s := get("b", b[0]); s != 200 {
		t.Errorf("session b lost its first conversation: %d", s)
	}
	// One session alone over the budget sheds its own oldest messages; its
	// conversations stay addressable (only retention.conversations removes one).
	for i := 0; i < 8; i++ {
		b = append(b, send("b"))
	}
	count := func(conv string) int {
		res := ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", "Authorization: Bearer k", "X-Mock-Session: b")
		if res.Status != 200 {
			t.Fatalf("conversation %s: %d (the budget never removes a conversation)", conv, res.Status)
		}
		return len(res.json(t)["data"].(map[string]any)["messages"].([]any))
	}
	if n := count(b[0]); n != 0 {
		t.Errorf("oldest conversation kept its message past the budget: %d", n)
	}
	if n := count(b[len(b)-1]); n != 1 {
		t.Errorf("newest conversation lost its message: %d", n)
	}
}
