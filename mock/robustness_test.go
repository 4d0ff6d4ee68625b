package mock_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputMatrix sends each API bodies and headers that a careless or
// hostile client could: every one gets the API's own clear error (or is
// accepted), never a 5xx and never a dropped connection.
func TestBadInputMatrix(t *testing.T) {
	ts := startServer(t, nil)
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	deepArr := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	huge := `{"sender_id":"u","sender_type":"user","text":"` + strings.Repeat("x", 5<<20) + `"}`
	hugeWorkspaceBody := `{"content":{"content":"` + strings.Repeat("x", 5<<20) + `","sender_id":"u"}}`
	bodies := map[string][2]string{ // name: {API A body, API B body}
		"empty":                {"", ""},
		"whitespace":           {"  \n\t ", "  \n\t "},
		"huge (5 MiB)":         {huge, hugeWorkspaceBody},
		"deeply nested object": {deep, deep},
		"deeply nested array":  {deepArr, deepArr},
		"invalid UTF-8":        {"{\"sender_id\":\"\xff\xfe\",\"sender_type\":\"user\",\"text\":\"\xc3\x28\"}", "{\"content\":{\"content\":\"\xc3\x28\",\"sender_id\":\"u\"}}"},
		"raw NUL bytes":        {"{\"text\":\"a\x00b\"}", "{\"content\":\x00}"},
		"escaped NUL":          {`{"sender_id":"u","sender_type":"user","text":"a\u0000b"}`, `{"content":{"content":"a\u0000b","sender_id":"u"}}`},
		"lone surrogate":       {`{"sender_id":"u","sender_type":"user","text":"\ud800"}`, `{"content":{"content":"\ud800","sender_id":"u"}}`},
		"duplicate keys":       {`{"sender_id":"u","sender_id":7,"sender_type":"user","text":"t"}`, `{"content":{"content":"a","content":7,"sender_id":"u"}}`},
		"numbers out of range": {`{"sender_id":"u","sender_type":"user","text":"t","auto_reply":1e999,"metadata":{"n":1e999}}`, `{"content":{"content":"t","sender_id":"u","created_at":99999999999999999999},"enable_memories":1e999}`},
		"big integers":         {`{"sender_id":123456789012345678901234567890,"sender_type":"user","text":"t"}`, `{"content":{"content":"t","sender_id":"u"},"enable_memories":123456789012345678901234567890}`},
		"every field wrong":    {`{"conversation_id":[],"sender_id":{},"sender_type":1,"text":true,"reply_to_message_id":1,"metadata":"x","auto_reply":"x"}`, `{"content":{"content":[],"sender_id":{},"created_at":true,"role":1,"message_type":null,"tool_calls":"x","parent_message_id":[],"tags":{},"meta_data":"x","attachments":1},"conversation_id":[],"enable_memories":[]}`},
		"trailing garbage":     {`{"sender_id":"u","sender_type":"user","text":"t"}}}`, `{"content":{"content":"t","sender_id":"u"}}}}`},
		"not an object":        {`"just a string"`, `"just a string"`},
		"control characters":   {"{\"text\":\"line\nbreak\"}", "{\"content\":{\"content\":\"line\nbreak\"}}"},
		"binary garbage":       {"\x00\x01\x02\x03\xff\xfe\xfd", "\x00\x01\x02\x03\xff\xfe\xfd"},
	}
	check := func(t *testing.T, api string, res response) {
		t.Helper()
		if api == "b" && res.Status == 500 && string(res.Body) == "Internal Server Error" &&
			res.Header.Get("Content-Type") == "text/plain; charset=utf-8" {
			// What a real FastAPI service answers when a value Python
			// accepted (NaN, 1e999, a lone surrogate) cannot be written
			// back (testdata/fastapi): its own 500, not msgmock failing.
			return
		}
		if res.Status >= 500 {
			t.Fatalf("5xx: %d %s", res.Status, res.Body)
		}
		if !json.Valid(res.Body) {
			t.Fatalf("%d with a body that is not JSON: %q", res.Status, res.Body)
		}
		ok := res.Status < 300
		if api == "a" && !ok && !bytes.HasPrefix(res.Body, []byte(`{"status":"error","message":"`)) {
			t.Fatalf("not the envelope: %s", res.Body)
		}
		if api == "b" && !ok && !bytes.HasPrefix(res.Body, []byte(`{"detail":`)) {
			t.Fatalf("not FastAPI's shape: %s", res.Body)
		}
	}
	for name, b := range bodies {
		t.Run("A/"+name, func(t *testing.T) {
			check(t, "a", ts.sendConversations(t, b[0]))
		})
		t.Run("B/"+name, func(t *testing.T) {
			check(t, "b", ts.call(t, "POST", "/api/v1/messages", b[1], "Authorization: Bearer k", "Content-Type: application/json"))
		})
	}

	headerCases := map[string][]string{
		"repeated Authorization": {"Authorization: Bearer sk_test_expired", "Authorization: Bearer k"},
		"repeated Content-Type":  {"Content-Type: text/plain", "Content-Type: application/json"},
		"long header (512 KiB)":  {"X-Long: " + strings.Repeat("h", 512<<10)},
		"many headers":           manyHeaders(500),
		"odd Content-Type":       {"Content-Type: application/json; charset=\"\"; boundary=;;"},
		"odd Authorization":      {"Authorization: Bearer \t  "},
		"odd Prefer":             {"Prefer: code=99999999999999999999, code=abc, code="},
		"odd X-Workspace-Id":     {"X-Workspace-Id: " + strings.Repeat("w", 10000)},
		"odd X-Mock-Scenario":    {"X-Mock-Scenario: ../../etc/passwd"},
		"odd X-Mock-Session":     {"X-Mock-Session: " + strings.Repeat("s", 10000)},
	}
	for name, hs := range headerCases {
		t.Run("headers/"+name, func(t *testing.T) {
			for _, api := range []string{"a", "b"} {
				path, body := "/v1/messages", `{"sender_id":"u","sender_type":"user","text":"t"}`
				if api == "b" {
					path, body = "/api/v1/messages", `{"content":{"content":"t","sender_id":"u"}}`
				}
				req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer k")
				req.Header.Set("Content-Type", "application/json")
				for i, h := range hs {
					k, v, _ := strings.Cut(h, ":")
					if i == 0 {
						req.Header.Del(k)
					}
					req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
				}
				res, err := ts.Client().Do(req)
				if err != nil {
					t.Fatalf("%s: dropped: %v", api, err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				check(t, api, response{Status: res.StatusCode, Header: res.Header, Body: b})
			}
		})
	}
	t.Run("headers over the server's limit", func(t *testing.T) {
		// net/http answers 431 itself, before msgmock sees the request.
		req, _ := http.NewRequest("POST", ts.URL+"/v1/messages", strings.NewReader("{}"))
		req.Header.Set("X-Huge", strings.Repeat("h", 2<<20))
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("dropped: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("StatusCode=%d, want 431", res.StatusCode)
		}
	})
	// Still healthy afterwards.
	if res := ts.sendConversations(t, validConversationsBody); res.Status != 200 {
		t.Fatalf("after the matrix: %d", res.Status)
	}
}

func manyHeaders(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("X-H%d: %d", i, i)
	}
	return out
}
