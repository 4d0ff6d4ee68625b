package mock_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/admin/inspector"
)

// The inspector's files and the admin endpoints it reads, over HTTP. The
// page itself is driven in Chromium by cmd/msgmock/inspector_test.go.

func TestInspectorFilesAreServedFromTheBinary(t *testing.T) {
	ts := startServer(t, nil, func(o *mockOptions) { o.AdminToken = "s3cret" })

	// The page and its files need no token (they hold no data); the API does.
	page := ts.call(t, "GET", "/__mock/", "")
	if page.Status != 200 || page.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /__mock/: %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	if st := ts.call(t, "GET", "/__mock/status", ""); st.Status != 401 {
		t.Fatalf("status without the token: %d", st.Status)
	}

	// Every file the page names is served, with its type; nothing comes
	// from elsewhere, so the page works offline.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(page.Body), -1)
	if len(refs) < 2 {
		t.Fatalf("the page names no script or style: %s", page.Body)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, ref := range refs {
		if ref[1] == "data:," || strings.HasPrefix(ref[1], "#") {
			continue
		}
		if !strings.HasPrefix(ref[1], "/__mock/inspector/") {
			t.Errorf("the page loads %s from outside the binary", ref[1])
			continue
		}
		res := ts.call(t, "GET", ref[1], "")
		ext := ref[1][strings.LastIndexByte(ref[1], '.'):]
		if res.Status != 200 || res.Header.Get("Content-Type") != types[ext] || len(res.Body) == 0 {
			t.Errorf("GET %s: %d %q", ref[1], res.Status, res.Header.Get("Content-Type"))
		}
		// A second load is a 304 from its ETag.
		if again := ts.call(t, "GET", ref[1], "", "If-None-Match: "+res.Header.Get("ETag")); again.Status != 304 {
			t.Errorf("GET %s with its ETag: %d", ref[1], again.Status)
		}
	}
	for _, name := range inspector.Names() {
		res := ts.call(t, "GET", "/__mock/inspector/"+name, "")
		if m := regexp.MustCompile(`https?://[a-z]`).Find(res.Body); m != nil {
			t.Errorf("%s names an address (%s…): the page must work offline", name, m)
		}
	}

	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/__mock/inspector/nope.js", 404, `{"error":"no admin endpoint /__mock/inspector/nope.js"}`},
		{"/__mock/inspector/index.html", 404, `{"error":"no admin endpoint /__mock/inspector/index.html"}`},
		{"/__mock/inspector/%22.js", 404, `{"error":"no admin endpoint /__mock/inspector/\".js"}`},
	} {
		if res := ts.call(t, "GET", tt.path, ""); res.Status != tt.status || string(res.Body) != tt.body {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, res.Status, res.Body, tt.status, tt.body)
		}
	}

	// /__mock sends a browser to the page.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(ts.URL + "/__mock")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 302 || res.Header.Get("Location") != "/__mock/" {
		t.Fatalf("GET /__mock: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// journalEntry is an entry of GET /__mock/requests.
type journalEntry struct {
	ID         string            `json:"id"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Status     int               `json:"status"`
	Scenario   string            `json:"scenario"`
	Rule       string            `json:"rule"`
	DurationMS float64           `json:"duration_ms"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
	Response   struct {
		Headers       map[string]string `json:"headers"`
		Body          json.RawMessage   `json:"body"`
		BodyTruncated bool              `json:"body_truncated"`
	} `json:"response"`
}

func journal(t *testing.T, ts *testServer, query string, headers ...string) []journalEntry {
	t.Helper()
	res := ts.call(t, "GET", "/__mock/requests"+query, "", headers...)
	var out struct{ Requests []journalEntry }
	if res.Status != 200 || json.Unmarshal(res.Body, &out) != nil {
		t.Fatalf("GET /__mock/requests%s: %d %s", query, res.Status, res.Body)
	}
	return out.Requests
}

func TestJournalKeepsTheResponse(t *testing.T) {
	ts := startServer(t, nil)
	body := `{"conversation_id":"con_9s2kd81", "sender_id":"u","sender_type":"user","text":"n is 1.50"}`
	sent := ts.sendConversations(t, body)
	missing := ts.call(t, "GET", "/v1/conversations/con_nope/messages", "", "Authorization: Bearer k")
	failed := ts.call(t, "POST", "/api/v1/messages", "{", "Authorization: Bearer k", "Content-Type: application/json")

	all := journal(t, ts, "")
	if len(all) != 3 {
		t.Fatalf("journal: %+v", all)
	}
	for i, want := range []response{sent, missing, failed} {
		got := all[i]
		if got.Status != want.Status || got.Response.Headers["Content-Type"] != want.Header.Get("Content-Type") {
			t.Errorf("%s %s: journal %d %q, answered %d %q", got.Method, got.Path, got.Status, got.Response.Headers["Content-Type"], want.Status, want.Header.Get("Content-Type"))
		}
		if string(got.Response.Body) != string(want.Body) {
			t.Errorf("%s %s: journal kept the response body\n%s\nbut the client got\n%s", got.Method, got.Path, got.Response.Body, want.Body)
		}
	}

	// after= lists what came later; one entry and its exact body by id.
	if later := journal(t, ts, "?after="+all[0].ID); len(later) != 2 || later[0].ID != all[1].ID {
		t.Fatalf("after %s: %+v", all[0].ID, later)
	}
	if none := journal(t, ts, "?after="+all[2].ID); len(none) != 0 {
		t.Fatalf("after the last: %+v", none)
	}
	if res := ts.call(t, "GET", "/__mock/requests?after=12", ""); res.Status != 400 {
		t.Fatalf("after=12: %d %s", res.Status, res.Body)
	}
	one := ts.call(t, "GET", "/__mock/requests/"+all[0].ID, "")
	var entry journalEntry
	if one.Status != 200 || json.Unmarshal(one.Body, &entry) != nil || entry.ID != all[0].ID || entry.Path != "/v1/messages" {
		t.Fatalf("GET /__mock/requests/%s: %d %s", all[0].ID, one.Status, one.Body)
	}
	raw := ts.call(t, "GET", "/__mock/requests/"+all[0].ID+"/body", "")
	if raw.Status != 200 || string(raw.Body) != body {
		t.Fatalf("raw body: %d %s", raw.Status, raw.Body)
	}
	for _, id := range []string{"req_999999", "nope", "req_x"} {
		if res := ts.call(t, "GET", "/__mock/requests/"+id, ""); res.Status != 404 {
			t.Errorf("GET /__mock/requests/%s: %d %s", id, res.Status, res.Body)
		}
	}
	// Another session's entries are not this one's.
	if res := ts.call(t, "GET", "/__mock/requests/"+all[0].ID, "", "X-Mock-Session: other"); res.Status != 404 {
		t.Errorf("another session's request: %d", res.Status)
	}
}

func TestJournalCapsTheResponse(t *testing.T) {
	ts := startServer(t, nil)
	// 2,000 messages make a page of well over 16 KiB.
	long := strings.Repeat("x", 900)
	for i := 0; i < 30; i++ {
		ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"agent","text":"`+long+`"}`)
	}
	res := ts.call(t, "GET", "/v1/conversations/con_9s2kd81/messages?limit=100", "", "Authorization: Bearer "+seedKey)
	if len(res.Body) <= 16<<10 {
		t.Fatalf("the page is only %d bytes", len(res.Body))
	}
	last := journal(t, ts, "?limit=1")[0]
	var kept string
	if err := json.Unmarshal(last.Response.Body, &kept); err != nil || !last.Response.BodyTruncated || len(kept) != 16<<10 || !strings.HasPrefix(string(res.Body), kept) {
		t.Fatalf("a %d-byte response: truncated=%v, kept %d bytes (%v)", len(res.Body), last.Response.BodyTruncated, len(kept), err)
	}
}

func TestAdminConversationsAndSessions(t *testing.T) {
	ts := startServer(t, nil)
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"in s1"}`, "X-Mock-Session: s1")
	ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"ws in s2","sender_id":"u"}}`,
		"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: s2")

	var sessions struct{ Sessions []string }
	if res := ts.call(t, "GET", "/__mock/sessions", ""); json.Unmarshal(res.Body, &sessions) != nil || strings.Join(sessions.Sessions, ",") != "s2,s1" {
		t.Fatalf("sessions (most recent first): %s", res.Body)
	}

	type conversation struct {
		API      string            `json:"api"`
		ID       string            `json:"id"`
		Fixture  bool              `json:"fixture"`
		Messages []json.RawMessage `json:"messages"`
	}
	list := func(session string) []conversation {
		var out struct{ Conversations []conversation }
		res := ts.call(t, "GET", "/__mock/conversations", "", "X-Mock-Session: "+session)
		if res.Status != 200 || json.Unmarshal(res.Body, &out) != nil {
			t.Fatalf("conversations: %d %s", res.Status, res.Body)
		}
		return out.Conversations
	}
	find := func(cs []conversation, text string) *conversation {
		for i, c := range cs {
			for _, m := range c.Messages {
				if strings.Contains(string(m), text) {
					return &cs[i]
				}
			}
		}
		return nil
	}
	def, s1, s2 := list(""), list("s1"), list("s2")
	if c := find(def, "Hi! Can you pull up my account?"); c == nil || c.ID != "con_9s2kd81" || !c.Fixture || c.API != "conversations" {
		t.Fatalf("the fixture conversation: %+v", c)
	}
	if find(def, "in s1") != nil || find(s2, `"in s1"`) != nil {
		t.Fatal("a session's conversation shows in another")
	}
	if c := find(s1, `"text":"in s1"`); c == nil || c.API != "conversations" || c.Fixture {
		t.Fatalf("s1's conversation: %+v", c)
	}
	// Each message as its own API shows it.
	if c := find(s2, `"content":"ws in s2"`); c == nil || c.API != "workspace" || !strings.Contains(string(c.Messages[0]), `"checksum":`) {
		t.Fatalf("s2's conversation: %+v", c)
	}
}

func TestAdminEventStreamCarriesBothAPIs(t *testing.T) {
	ts := startServer(t, nil, func(o *mockOptions) { o.AdminToken = "s3cret" })
	if res := ts.call(t, "GET", "/__mock/events/stream?session=s", ""); res.Status != 401 {
		t.Fatalf("without the token: %d", res.Status)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/__mock/events/stream?session=s&access_token=s3cret", nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"agent","text":"a"}`, "X-Mock-Session: s")
	ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"b","sender_id":"u"}}`,
		"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: s", "X-Workspace-Id: wsp_other")
	ts.sendConversations(t, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"agent","text":"not in s"}`)

	sc := bufio.NewScanner(res.Body)
	var got []map[string]any
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sc.Scan() && len(got) < 2 {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev map[string]any
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Errorf("data %s: %v", data, err)
					return
				}
				got = append(got, ev)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no events on the admin stream")
	}
	if len(got) != 2 {
		t.Fatalf("events: %v", got)
	}
	a, b := got[0], got[1]
	if a["api"] != "conversations" || a["type"] != "message.created" || a["data"].(map[string]any)["conversation_id"] != "con_9s2kd81" {
		t.Errorf("first event: %v", a)
	}
	// Every workspace, not only the key's: the admin sees everything.
	if b["api"] != "workspace" || b["data"].(map[string]any)["workspace_id"] != "wsp_other" {
		t.Errorf("second event: %v", b)
	}
}
