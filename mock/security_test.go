package mock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock/secret"
)

// rawCall sends one request with exactly the headers given (Host and
// Origin included), so that a browser's or an attacker's request can be
// played as it would arrive.
func (ts *testServer) rawCall(t *testing.T, method, path, body string, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// TestForeignHostsAreRefusedEverywhere: DNS rebinding puts msgmock behind
// another site's name; a Host that is not loopback, an IP address or an
// allowed name is refused 403 on every surface, in its shape, before
// anything runs (nothing is journaled), and the refusal says how to allow
// it. Allowed names (flag and settings) and IP addresses are served.
func TestForeignHostsAreRefusedEverywhere(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  security:\n    allowed_hosts: [devbox.local:8080]\n"}),
		func(o *mockOptions) { o.AllowedHosts = []string{"msgmock"} })
	const newConversation = `{"sender_id":"u","sender_type":"user","text":"hi"}`
	auth := map[string]string{"Authorization": "Bearer " + seedKey, "Content-Type": "application/json"}
	with := func(host string) map[string]string {
		h := map[string]string{"Host": host}
		for k, v := range auth {
			h[k] = v
		}
		return h
	}
	refused := []struct{ method, path, body, shape string }{
		{"POST", "/v1/messages", newConversation, `{"status":"error","message":"Host 'evil.example:8080' is not allowed`},
		{"GET", "/v1/events/stream?access_token=k", "", `{"status":"error","message":"Host 'evil.example:8080' is not allowed`},
		{"POST", "/api/v1/messages", `{"content":{"content":"hi","sender_id":"u"}}`, `{"detail":"Host 'evil.example:8080' is not allowed`},
		{"GET", "/__mock/status", "", `{"error":"Host 'evil.example:8080' is not allowed`},
		{"GET", "/__mock/", "", `{"error":"Host 'evil.example:8080' is not allowed`},
		{"OPTIONS", "/__mock/reset", "", `{"error":"Host 'evil.example:8080' is not allowed`},
		{"GET", "/openapi.json", "", `{"detail":"Host 'evil.example:8080' is not allowed`},
	}
	for _, tt := range refused {
		res := ts.rawCall(t, tt.method, tt.path, tt.body, with("evil.example:8080"))
		if res.Status != 403 || !strings.HasPrefix(string(res.Body), tt.shape) || !strings.Contains(string(res.Body), "--allowed-host 'evil.example'") {
			t.Errorf("%s %s with a foreign Host: %d %s", tt.method, tt.path, res.Status, res.Body)
		}
	}
	if j := ts.call(t, "GET", "/__mock/requests", ""); strings.Contains(string(j.Body), "/v1/messages") {
		t.Errorf("a refused request was journaled: %s", j.Body)
	}
	for _, host := range []string{"localhost:8080", "app.localhost", "127.0.0.1:9", "[::1]:8080", "192.168.1.20:8080", "msgmock:8080", "MSGMOCK", "devbox.local:8080"} {
		if res := ts.rawCall(t, "POST", "/v1/messages", newConversation, with(host)); res.Status != 200 {
			t.Errorf("Host %s: %d %s, want 200", host, res.Status, res.Body)
		}
	}
	// A listed name with a port allows that port only.
	if res := ts.rawCall(t, "GET", "/__mock/health", "", with("devbox.local:9090")); res.Status != 403 {
		t.Errorf("devbox.local on another port: %d, want 403", res.Status)
	}
}

// TestNoOtherSiteReadsOrDrivesTheAdminAPI: a page on another origin gets
// no CORS grant on any /__mock/ path, and its state-changing requests — a
// simple form post, a no-cors fetch — change nothing; msgmock's own pages
// and the listed admin origins may. The APIs keep answering pages of any
// origin, without credentials unless the settings allow them.
func TestNoOtherSiteReadsOrDrivesTheAdminAPI(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{
		"s.yaml":   "settings:\n  security:\n    admin_origins: [http://localhost:5173]\n",
		"500.yaml": "scenario:\n  name: conversations-500\n  rules:\n    - respond: {status: 500}\n",
	}))
	own := "http://" + strings.TrimPrefix(ts.URL, "http://")
	evil := "https://evil.example"
	for _, path := range []string{"/__mock/requests", "/__mock/status", "/__mock/", "/__mock/conversations", "/__mock/openapi/admin.json"} {
		res := ts.rawCall(t, "GET", path, "", map[string]string{"Origin": evil})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("GET %s from %s: Allow-Origin %q", path, evil, got)
		}
	}
	pre := ts.rawCall(t, "OPTIONS", "/__mock/reset", "", map[string]string{"Origin": evil, "Access-Control-Request-Method": "POST"})
	if pre.Header.Get("Access-Control-Allow-Origin") != "" || pre.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("a preflight from another site was granted: %v", pre.Header)
	}
	// Writes from another site: a form post (text/plain, no preflight), a
	// no-cors fetch that sends only Sec-Fetch-Site, a PUT.
	ts.call(t, "PUT", "/__mock/scenario", `{"name":"conversations-500"}`) // from a non-browser client: allowed
	writes := []struct {
		method, path, body string
		headers            map[string]string
	}{
		{"POST", "/__mock/reset", "x=1", map[string]string{"Origin": evil, "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}},
		{"PUT", "/__mock/scenario", `{"name":"default"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"PUT", "/__mock/scenario", `{"name":"default"}`, map[string]string{"Origin": "null"}},
		{"POST", "/__mock/clock", `{"advance":"1h"}`, map[string]string{"Origin": "http://localhost:3000"}},
		{"DELETE", "/__mock/requests", "", map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"PUT", "/__mock/scenarios/evil", "rules: [{respond: {status: 500}}]", map[string]string{"Origin": evil}},
	}
	for _, w := range writes {
		res := ts.rawCall(t, w.method, w.path, w.body, w.headers)
		if res.Status != 403 || !strings.Contains(string(res.Body), "not from another site") {
			t.Errorf("%s %s %v: %d %s, want 403", w.method, w.path, w.headers, res.Status, res.Body)
		}
	}
	var st struct {
		Server string `json:"server_scenario"`
		Now    string `json:"now"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
	if st.Server != "conversations-500" {
		t.Errorf("a cross-site write changed the scenario to %q", st.Server)
	}
	if res := ts.call(t, "GET", "/__mock/scenarios/evil", ""); res.Status != 404 {
		t.Errorf("a cross-site PUT added a scenario: %d", res.Status)
	}
	// msgmock's own page and a listed origin may.
	for _, origin := range []string{own, "http://localhost:5173"} {
		res := ts.rawCall(t, "PUT", "/__mock/scenario", `{"name":"default"}`, map[string]string{"Origin": origin, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"})
		if res.Status != 200 || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("PUT from %s: %d %q %s", origin, res.Status, res.Header.Get("Access-Control-Allow-Origin"), res.Body)
		}
	}
	// The APIs answer any origin, without credentials by default.
	res := ts.rawCall(t, "POST", "/v1/messages", `{"sender_id":"u","sender_type":"user","text":"hi"}`, map[string]string{"Origin": evil, "Authorization": "Bearer " + seedKey, "Content-Type": "application/json"})
	if res.Status != 200 || res.Header.Get("Access-Control-Allow-Origin") != evil || res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("the API from another origin: %d %v", res.Status, res.Header)
	}
	creds := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  cors:\n    origins: [http://app.test]\n    credentials: true\n"}))
	res = creds.rawCall(t, "GET", "/v1/events?limit=1", "", map[string]string{"Origin": "http://app.test", "Authorization": "Bearer " + seedKey})
	if res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("cors.credentials: true: %v", res.Header)
	}
}

// TestWebhookDeliveriesShowNoCredentials: a webhook URL with a password or
// a token in its query is listed redacted.
func TestWebhookDeliveriesShowNoCredentials(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer receiver.Close()
	url := strings.Replace(receiver.URL, "http://", "http://hook:hunter2-secret@", 1) + "/hooks?token=tok_very_secret_123"
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  webhooks:\n    - url: " + url + "\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"}))
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"agent","text":"hook me"}`)
	var body string
	eventually(t, "a delivery listed", func() bool {
		body = string(ts.call(t, "GET", "/__mock/webhooks/deliveries", "").Body)
		return strings.Contains(body, `"status":200`)
	})
	if strings.Contains(body, "hunter2") || strings.Contains(body, "tok_very_secret") || !strings.Contains(body, secret.RedactURL(url)) {
		t.Errorf("deliveries show credentials, or not the redacted URL %s:\n%s", secret.RedactURL(url), body)
	}
}

// TestReloadKeepsTheActiveScenario: a reload that would make the active
// scenario vanish is refused, the last good configuration keeps serving,
// and the status says why, naming the file.
func TestReloadKeepsTheActiveScenario(t *testing.T) {
	files := mapFS(map[string]string{
		"outage.yaml": "scenario:\n  rules:\n    - respond: {status: 503}\n",
	})
	ts := startServer(t, files)
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"outage"}`); res.Status != 200 {
		t.Fatal(res.Status)
	}
	delete(files, "outage.yaml")
	files["other.yaml"] = &(*mapFS(map[string]string{"x": "scenario:\n  rules:\n    - respond: {status: 500}\n"})["x"])
	if _, err := ts.store.Reload(); err == nil {
		t.Fatal("the reload that removes the active scenario was applied")
	}
	var st struct {
		Reload struct {
			OK     bool     `json:"ok"`
			Errors []string `json:"errors"`
		} `json:"reload"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
	if st.Reload.OK || len(st.Reload.Errors) != 1 || !strings.HasPrefix(st.Reload.Errors[0], "outage.yaml:1:1: scenario \"outage\" is active") {
		t.Errorf("status: %+v", st.Reload)
	}
	if res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hi"}`); res.Status != 503 {
		t.Errorf("the last good configuration is not serving: %d", res.Status)
	}
	// Once another scenario is active, the same change applies.
	ts.call(t, "PUT", "/__mock/scenario", `{"name":"default"}`)
	if _, err := ts.store.Reload(); err != nil {
		t.Fatalf("the reload after switching scenario: %v", err)
	}
}

// TestAddedScenariosAreBounded: scenarios added at run time count against
// the memory budget (per session) or a byte bound (for every session), as
// well as the count of 100.
func TestAddedScenariosAreBounded(t *testing.T) {
	ts := startServer(t, nil)
	big := "rules:\n" + strings.Repeat("  - when: {text: {contains: '"+strings.Repeat("a", 2000)+"'}}\n    respond: {status: 500}\n", 60)
	var last response
	for i := 0; i < 40; i++ {
		last = ts.call(t, "PUT", "/__mock/scenarios/big"+string(rune('a'+i%26))+string(rune('a'+i/26)), big)
		if last.Status != 200 {
			break
		}
	}
	if last.Status != 409 || !strings.Contains(string(last.Body), "4 MiB") {
		t.Fatalf("server-wide scenarios past 4 MiB: %d %s", last.Status, last.Body)
	}
	// A session's count against the budget, like its messages.
	var before, after struct {
		Memory struct{ Bytes int64 } `json:"memory"`
	}
	ts.call(t, "GET", "/__mock/requests", "", "X-Mock-Session: s1") // the session, with its fixtures
	ts.call(t, "GET", "/__mock/requests", "")                       // and the default one
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &before)
	if res := ts.call(t, "PUT", "/__mock/scenarios/mine", big, "X-Mock-Session: s1"); res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &after)
	if grew := after.Memory.Bytes - before.Memory.Bytes; grew < int64(len(big)) {
		t.Errorf("a session's scenario counts %d bytes against the budget, less than its %d-byte body", grew, len(big))
	}
	ts.call(t, "POST", "/__mock/reset", "", "X-Mock-Session: s1")
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &after)
	if after.Memory.Bytes > before.Memory.Bytes+4096 {
		t.Errorf("after the session's reset %d bytes still counted (before %d)", after.Memory.Bytes, before.Memory.Bytes)
	}
}
