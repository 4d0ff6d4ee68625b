package mock_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRoutesAnswerInTheirSurfaceShape: every path outside a route gets the
// 404 of the API it belongs to, every wrong method that API's 405 with the
// methods the path serves, and nothing is redirected or cleaned (neither
// real service does either).
func TestRoutesAnswerInTheirSurfaceShape(t *testing.T) {
	ts := startServer(t, nil)
	const (
		envelope404 = `{"status":"error","message":"Resource not found.","data":null}`
		envelope405 = `{"status":"error","message":"Method not allowed.","data":null}`
		detail404   = `{"detail":"Not Found"}`
		detail405   = `{"detail":"Method Not Allowed"}`
	)
	tests := []struct {
		method, path string
		status       int
		body         string
		allow        string
	}{
		// Workspace API: FastAPI has no path cleaning and no 307 for these.
		{"GET", "/api", 404, detail404, ""},
		{"GET", "/api/", 404, detail404, ""},
		{"GET", "//api/v1/messages", 404, detail404, ""},
		{"POST", "/api/v2/messages", 404, detail404, ""},
		{"GET", "/api/v1/messages/a/b", 404, detail404, ""},
		// A 405's Allow is Starlette's: the methods of the first route for
		// the path (POST is registered before GET), and GET serves no HEAD.
		{"DELETE", "/api/v1/messages", 405, detail405, "POST"},
		{"PATCH", "/api/v1/conversations", 405, detail405, "GET"},
		{"POST", "/api/v1/events/stream", 405, detail405, "GET"},
		{"HEAD", "/api/v1/conversations", 405, "", "GET"},
		// Conversations API.
		{"GET", "//v1/messages", 404, envelope404, ""},
		{"GET", "/v1/../api/v1/messages", 404, envelope404, ""},
		{"GET", "/v1", 404, envelope404, ""},
		// The rest of the host is the FastAPI service's (the Workspace
		// API's paths start at the root; the Conversations API's at /v1).
		{"GET", "/nothing", 404, detail404, ""},
		{"GET", "/v1abc", 404, detail404, ""},
		{"GET", "/", 404, detail404, ""},
		{"PUT", "/v1/events", 405, envelope405, "GET, HEAD"},
		// A path with escapes is the router's to answer (it matches paths
		// as sent), not the table of routes without variables.
		{"POST", "/v1/%6Dessages", 404, envelope404, ""},
		{"GET", "/v1/event%73", 404, envelope404, ""},
		{"POST", "/v1/events/stream", 405, envelope405, "GET, HEAD"},
		// Admin API.
		{"GET", "//__mock/nothing", 404, `{"error":"no admin endpoint //__mock/nothing"}`, ""},
		{"PATCH", "/__mock/requests", 405, `{"error":"method PATCH not allowed; allowed: DELETE, GET, HEAD"}`, "DELETE, GET, HEAD"},
		{"DELETE", "/__mock/clock", 405, `{"error":"method DELETE not allowed; allowed: GET, HEAD, POST"}`, "GET, HEAD, POST"},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+seedKey)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || (tt.method != "HEAD" && string(body) != tt.body) {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, body, tt.status, tt.body)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow=%q, want %q", got, tt.allow)
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("Location=%q: nothing is redirected", loc)
			}
			if ct := res.Header.Get("Content-Type"); tt.method != "HEAD" && ct != "application/json" {
				t.Errorf("Content-Type=%q, want application/json", ct)
			}
		})
	}
}

// TestEncodedPathVariables: an id holding an encoded slash is one id, as
// it was for the standard library's router.
func TestEncodedPathVariables(t *testing.T) {
	ts := startServer(t, nil)
	res := ts.call(t, "GET", "/v1/conversations/a%2Fb/messages", "", "Authorization: Bearer "+seedKey)
	want := `{"status":"error","message":"Conversation not found: a/b.","data":null}`
	if res.Status != 404 || string(res.Body) != want {
		t.Fatalf("got %d %s, want 404 %s", res.Status, res.Body, want)
	}
	res = ts.call(t, "GET", "/api/v1/messages/msg%2F1", "", "x-api-key: "+seedKey)
	if res.Status != 404 || string(res.Body) != `{"detail":"Message not found"}` {
		t.Fatalf("got %d %s, want 404 Message not found", res.Status, res.Body)
	}
}

// TestRouteMissesAreJournaledPerAPI: an API's 404 and 405 are requests the
// client made, so they are journaled; the admin API's own are not.
func TestRouteMissesAreJournaledPerAPI(t *testing.T) {
	ts := startServer(t, nil)
	ts.call(t, "GET", "/api", "")
	ts.call(t, "DELETE", "/v1/messages", "")
	ts.call(t, "GET", "/__mock/nothing", "")
	res := ts.call(t, "GET", "/__mock/requests", "")
	got := string(res.Body)
	for _, want := range []string{`"path":"/api","headers"`, `"status":404`, `"path":"/v1/messages"`, `"status":405`} {
		if !strings.Contains(got, want) {
			t.Errorf("journal lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "/__mock/nothing") {
		t.Errorf("journal lists an admin request: %s", got)
	}
}

// TestWorkspaceRedirectsSlashes: as Starlette's redirect_slashes, a
// Workspace API path that matches a route once its trailing slash is
// toggled answers 307 to it, query kept, empty body; the other APIs do not.
func TestWorkspaceRedirectsSlashes(t *testing.T) {
	ts := startServer(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct{ method, path, location string }{
		{"POST", "/api/v1/messages/", "/api/v1/messages"},
		{"GET", "/api/v1/messages/?conversation_id=c", "/api/v1/messages?conversation_id=c"},
		{"GET", "/api/v1/conversations/", "/api/v1/conversations"},
		{"GET", "/api/v1/messages/msg_1/", "/api/v1/messages/msg_1"},
		{"GET", "/v1/events/", ""},
		{"GET", "/api/v1/nothing/", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if tt.location == "" {
			if res.StatusCode != 404 {
				t.Errorf("%s %s: %d, want 404", tt.method, tt.path, res.StatusCode)
			}
			continue
		}
		want := "http://" + strings.TrimPrefix(ts.URL, "http://") + tt.location
		if res.StatusCode != 307 || res.Header.Get("Location") != want || len(body) != 0 {
			t.Errorf("%s %s: %d Location=%q body=%q; want 307 to %s", tt.method, tt.path, res.StatusCode, res.Header.Get("Location"), body, want)
		}
	}
}
