package mock_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestWorkspaceBodiesFastAPIRejects covers bodies the golden text files
// cannot hold.
func TestWorkspaceBodiesFastAPIRejects(t *testing.T) {
	ts := startServer(t, nil)
	h := []string{"Authorization: Bearer " + seedKey, "Content-Type: application/json"}
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"invalid UTF-8", "{\"content\": {\"content\": \"\xff\xfe\", \"sender_id\": \"u\"}}", 400, `{"detail":"There was an error parsing the body"}`},
		{"nested deeper than Python recurses", strings.Repeat("[", 5000) + strings.Repeat("]", 5000), 400, `{"detail":"There was an error parsing the body"}`},
		{"2 MiB body", `{"content": {"content": "` + strings.Repeat("x", 2<<20) + `", "sender_id": "u"}}`, 413, `{"detail":"Request Entity Too Large"}`},
		{"UTF-8 BOM is accepted", "\xef\xbb\xbf{\"content\": {\"content\": \"hi\", \"sender_id\": \"u\"}}", 201, ""},
		{"NUL inside a string", "{\"content\": {\"content\": \"a\x00b\", \"sender_id\": \"u\"}}", 422, `{"detail":[{"type":"json_invalid","loc":["body",26],"msg":"JSON decode error","input":{},"ctx":{"error":"Invalid control character at"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.call(t, http.MethodPost, "/api/v1/messages", tt.body, h...)
			if res.Status != tt.status || (tt.want != "" && string(res.Body) != tt.want) {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.want)
			}
		})
	}
}

// TestWorkspaceListsWhatWasSent: a created message can be read back by id
// and in its conversation's listing, in the same shape.
func TestWorkspaceListsWhatWasSent(t *testing.T) {
	ts := startServer(t, nil)
	h := []string{"Authorization: Bearer " + seedKey, "Content-Type: application/json"}
	res := ts.call(t, "POST", "/api/v1/messages", `{"content": {"content": "first", "sender_id": "u", "tags": ["x"]}}`, h...)
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	created := strings.TrimSuffix(strings.TrimPrefix(string(res.Body), "["), "]")
	id := between(created, `"id":"`, `"`)
	conv := between(created, `"conversation_id":"`, `"`)
	got := ts.call(t, "GET", "/api/v1/messages/"+id, "", h...)
	if got.Status != 200 || string(got.Body) != created {
		t.Errorf("get by id: %d\n%s\nwant\n%s", got.Status, got.Body, created)
	}
	ts.call(t, "POST", "/api/v1/messages", `{"content": {"content": "second", "sender_id": "u"}, "conversation_id": "`+conv+`"}`, h...)
	list := ts.call(t, "GET", "/api/v1/messages?conversation_id="+conv+"&order_direction=desc", "", h...)
	if list.Status != 200 || !strings.HasPrefix(string(list.Body), `[{"conversation_id":"`+conv) || strings.Index(string(list.Body), "second") > strings.Index(string(list.Body), "first") {
		t.Errorf("listing, newest first: %s", list.Body)
	}
	if got := ts.call(t, "GET", "/api/v1/messages/"+id, "", append(h, "X-Workspace-Id: wsp_acme")...); got.Status != 404 {
		t.Errorf("another workspace sees the message: %d", got.Status)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// TestWorkspacesAnyButTheReservedOne: the built-in settings accept any
// workspace except wsp_forbidden, which always answers 403; a workspaces
// list in the settings still restricts.
func TestWorkspacesAnyButTheReservedOne(t *testing.T) {
	send := func(ts *testServer, ws string) int {
		return ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"hi","sender_id":"u"}}`,
			"Authorization: Bearer k", "Content-Type: application/json", "X-Workspace-Id: "+ws).Status
	}
	builtin := startServer(t, nil)
	for ws, want := range map[string]int{"wsp_default": 201, "wsp_anything": 201, "wsp_forbidden": 403} {
		if got := send(builtin, ws); got != want {
			t.Errorf("built-in, %s: %d, want %d", ws, got, want)
		}
	}
	listed := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  workspaces: [wsp_a]\n"}))
	for ws, want := range map[string]int{"wsp_a": 201, "wsp_b": 403, "wsp_forbidden": 403} {
		if got := send(listed, ws); got != want {
			t.Errorf("listed, %s: %d, want %d", ws, got, want)
		}
	}
}
