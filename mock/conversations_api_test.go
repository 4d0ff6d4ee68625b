package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const validConversationsBody = `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"hi"}`

// TestConversationsSendErrors walks SPEC §2's order of checks: every documented error,
// to the character, in the envelope.
func TestConversationsSendErrors(t *testing.T) {
	ts := startServer(t, nil)
	auth := "Authorization: Bearer " + seedKey
	ctJSON := "Content-Type: application/json"
	huge := `{"sender_id":"u","sender_type":"user","text":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name    string
		headers []string
		body    string
		status  int
		message string
	}{
		// 1. Auth.
		{"no authorization", []string{ctJSON}, validConversationsBody, 401, "Invalid or expired token."},
		{"not bearer", []string{"Authorization: Basic dXNlcjpwYXNz", ctJSON}, validConversationsBody, 401, "Invalid or expired token."},
		{"empty bearer", []string{"Authorization: Bearer ", ctJSON}, validConversationsBody, 401, "Invalid or expired token."},
		{"bearer without token", []string{"Authorization: Bearer", ctJSON}, validConversationsBody, 401, "Invalid or expired token."},
		{"expired token", []string{"Authorization: Bearer sk_test_expired", ctJSON}, validConversationsBody, 401, "Invalid or expired token."},
		{"auth before content type", []string{"Content-Type: text/plain"}, "nonsense", 401, "Invalid or expired token."},
		// 2. Body.
		{"no content type", []string{auth}, validConversationsBody, 400, "Header 'Content-Type' must be application/json."},
		{"text/plain", []string{auth, "Content-Type: text/plain"}, validConversationsBody, 400, "Header 'Content-Type' must be application/json."},
		{"json suffix type", []string{auth, "Content-Type: application/vnd.api+json"}, validConversationsBody, 400, "Header 'Content-Type' must be application/json."},
		{"content type before size", []string{auth, "Content-Type: text/plain"}, huge, 400, "Header 'Content-Type' must be application/json."},
		{"2 MiB body", []string{auth, ctJSON}, huge, 413, "Request body too large."},
		{"empty body", []string{auth, ctJSON}, "", 400, "Request body must be a valid JSON object."},
		{"not json", []string{auth, ctJSON}, "{sender_id: 1}", 400, "Request body must be a valid JSON object."},
		{"truncated json", []string{auth, ctJSON}, `{"text":"hi"`, 400, "Request body must be a valid JSON object."},
		{"array", []string{auth, ctJSON}, `[` + validConversationsBody + `]`, 400, "Request body must be a valid JSON object."},
		{"string", []string{auth, ctJSON}, `"hello"`, 400, "Request body must be a valid JSON object."},
		{"number", []string{auth, ctJSON}, `42`, 400, "Request body must be a valid JSON object."},
		{"null", []string{auth, ctJSON}, `null`, 400, "Request body must be a valid JSON object."},
		{"two objects", []string{auth, ctJSON}, validConversationsBody + validConversationsBody, 400, "Request body must be a valid JSON object."},
		// 3. Fields, in table order.
		{"empty object", []string{auth, ctJSON}, `{}`, 400, "Field 'sender_id' is required."},
		{"conversation_id number", []string{auth, ctJSON}, `{"conversation_id":5}`, 400, "Field 'conversation_id' must be a string."},
		{"conversation_id object", []string{auth, ctJSON}, `{"conversation_id":{},"sender_id":"u","sender_type":"user","text":"t"}`, 400, "Field 'conversation_id' must be a string."},
		{"sender_id missing", []string{auth, ctJSON}, `{"sender_type":"user","text":"t"}`, 400, "Field 'sender_id' is required."},
		{"sender_id null", []string{auth, ctJSON}, `{"sender_id":null,"sender_type":"user","text":"t"}`, 400, "Field 'sender_id' is required."},
		{"sender_id empty", []string{auth, ctJSON}, `{"sender_id":"","sender_type":"user","text":"t"}`, 400, "Field 'sender_id' is required."},
		{"sender_id number", []string{auth, ctJSON}, `{"sender_id":12,"sender_type":"user","text":"t"}`, 400, "Field 'sender_id' must be a string."},
		{"sender_id boolean", []string{auth, ctJSON}, `{"sender_id":true,"sender_type":"user","text":"t"}`, 400, "Field 'sender_id' must be a string."},
		{"sender_id array", []string{auth, ctJSON}, `{"sender_id":["u"],"sender_type":"user","text":"t"}`, 400, "Field 'sender_id' must be a string."},
		{"sender_type missing", []string{auth, ctJSON}, `{"sender_id":"u","text":"t"}`, 400, "Field 'sender_type' is required."},
		{"sender_type empty", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"","text":"t"}`, 400, "Field 'sender_type' is required."},
		{"sender_type number", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":1,"text":"t"}`, 400, "Field 'sender_type' must be a string."},
		{"sender_type unknown", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"bot","text":"t"}`, 400, "Field 'sender_type' must be one of: user, agent, system."},
		{"sender_type wrong case", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"User","text":"t"}`, 400, "Field 'sender_type' must be one of: user, agent, system."},
		{"text missing", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user"}`, 400, "Field 'text' is required."},
		{"text null", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":null}`, 400, "Field 'text' is required."},
		{"text empty", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":""}`, 400, "Field 'text' is required."},
		{"text number", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":5}`, 400, "Field 'text' must be a string."},
		{"text object", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":{"a":1}}`, 400, "Field 'text' must be a string."},
		{"keys are case-sensitive", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","Text":"t"}`, 400, "Field 'text' is required."},
		{"reply_to number", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","reply_to_message_id":7}`, 400, "Field 'reply_to_message_id' must be a string."},
		{"metadata string", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","metadata":"web"}`, 400, "Field 'metadata' must be an object."},
		{"metadata array", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","metadata":[]}`, 400, "Field 'metadata' must be an object."},
		{"metadata number", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","metadata":1}`, 400, "Field 'metadata' must be an object."},
		{"auto_reply string", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","auto_reply":"yes"}`, 400, "Field 'auto_reply' must be a boolean."},
		{"auto_reply number", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","auto_reply":1}`, 400, "Field 'auto_reply' must be a boolean."},
		{"first bad field wins", []string{auth, ctJSON}, `{"metadata":1,"text":5,"conversation_id":false}`, 400, "Field 'conversation_id' must be a string."},
		// 4. Existence.
		{"unknown conversation", []string{auth, ctJSON}, `{"conversation_id":"con_nope123","sender_id":"u","sender_type":"user","text":"t"}`, 404, "Conversation not found: con_nope123."},
		{"reply to unknown message", []string{auth, ctJSON}, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"t","reply_to_message_id":"msg_zzzzzz"}`, 404, "Message not found: msg_zzzzzz."},
		{"reply in a new conversation", []string{auth, ctJSON}, `{"sender_id":"u","sender_type":"user","text":"t","reply_to_message_id":"msg_1a2b3c"}`, 404, "Message not found: msg_1a2b3c."},
		{"existence after fields", []string{auth, ctJSON}, `{"conversation_id":"con_nope123","sender_id":"u","sender_type":"user"}`, 400, "Field 'text' is required."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.call(t, http.MethodPost, "/v1/messages", tt.body, tt.headers...)
			want := fmt.Sprintf(`{"status":"error","message":%q,"data":null}`, tt.message)
			if res.Status != tt.status || string(res.Body) != want {
				t.Fatalf("got %d %s\nwant %d %s", res.Status, res.Body, tt.status, want)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type=%q, want application/json", ct)
			}
		})
	}
}

// TestConversationsSendAccepts covers requests the checks must let through.
func TestConversationsSendAccepts(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name    string
		headers []string
		body    string
		check   func(t *testing.T, data map[string]any)
	}{
		{"charset parameter", []string{"Content-Type: application/json; charset=utf-8"}, validConversationsBody, nil},
		{"lower-case bearer scheme", []string{"Authorization: bearer any-key"}, validConversationsBody, nil},
		{"unknown fields ignored", nil, `{"sender_id":"u","sender_type":"agent","text":"t","priority":"high","extra":{"x":[1]}}`, nil},
		{"nulls for optional fields", nil, `{"conversation_id":null,"sender_id":"u","sender_type":"system","text":"t","reply_to_message_id":null,"metadata":null,"auto_reply":null}`, func(t *testing.T, data map[string]any) {
			msg := data["message"].(map[string]any)
			if _, ok := msg["metadata"]; ok {
				t.Errorf("metadata present for a null metadata: %v", msg)
			}
		}},
		{"duplicate key: last wins", nil, `{"sender_id":"u","sender_type":"user","text":"","text":"second"}`, func(t *testing.T, data map[string]any) {
			if got := data["message"].(map[string]any)["text"]; got != "second" {
				t.Errorf("text=%v, want second", got)
			}
		}},
		{"reply to a message of the conversation", nil, `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"t","reply_to_message_id":"msg_1a2b3c"}`, func(t *testing.T, data map[string]any) {
			if got := data["message"].(map[string]any)["reply_to_message_id"]; got != "msg_1a2b3c" {
				t.Errorf("reply_to_message_id=%v, want msg_1a2b3c", got)
			}
		}},
		{"new conversation id format", nil, `{"sender_id":"u","sender_type":"user","text":"t"}`, func(t *testing.T, data map[string]any) {
			if id := data["conversation_id"].(string); !regexp.MustCompile(`^con_[a-z0-9]{7}$`).MatchString(id) {
				t.Errorf("conversation_id=%q, want con_ + 7 of [a-z0-9]", id)
			}
		}},
		{"html and unicode kept as sent", nil, `{"sender_id":"u","sender_type":"user","text":"<b>héllo</b> & 👋"}`, func(t *testing.T, data map[string]any) {
			if got := data["message"].(map[string]any)["text"]; got != "<b>héllo</b> & 👋" {
				t.Errorf("text=%q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.headers
			if len(h) == 0 || !strings.HasPrefix(h[0], "Authorization") {
				h = append([]string{"Authorization: Bearer " + seedKey}, h...)
			}
			if !strings.Contains(strings.Join(h, "\n"), "Content-Type") {
				h = append(h, "Content-Type: application/json")
			}
			res := ts.call(t, http.MethodPost, "/v1/messages", tt.body, h...)
			if res.Status != http.StatusOK {
				t.Fatalf("StatusCode=%d, want 200: %s", res.Status, res.Body)
			}
			v := res.json(t)
			if v["status"] != "success" || v["message"] != "Message sent successfully." {
				t.Fatalf("envelope: %s", res.Body)
			}
			if tt.check != nil {
				tt.check(t, v["data"].(map[string]any))
			}
		})
	}
}

// TestConversationsSendShape pins the exact bytes of a send and of the listing that
// follows, with the seed's example body (golden files).
func TestConversationsSendShape(t *testing.T) {
	ts := startServer(t, nil)
	res := ts.sendConversations(t, `{
    "conversation_id": "con_9s2kd81",
    "sender_id": "usr_82hd92",
    "sender_type": "user",
    "text": "Can you summarize my last 5 calls?",
    "metadata": {
      "channel": "web",
      "locale": "en-US"
    },
    "auto_reply": true
  }`)
	if res.Status != http.StatusOK {
		t.Fatalf("StatusCode=%d, want 200: %s", res.Status, res.Body)
	}
	golden(t, "send_a/seed_example.json", res.Body)

	res = ts.sendConversations(t, `{"sender_id":"usr_82hd92","sender_type":"user","text":"Hello from curl!"}`)
	golden(t, "send_a/new_conversation.json", res.Body)
	conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)

	list := ts.call(t, http.MethodGet, "/v1/conversations/con_9s2kd81/messages", "", "Authorization: Bearer "+seedKey)
	golden(t, "send_a/list_con_9s2kd81.json", list.Body)
	list = ts.call(t, http.MethodGet, "/v1/conversations/"+conv+"/messages?limit=1", "", "Authorization: Bearer "+seedKey)
	golden(t, "send_a/list_new.json", list.Body)
}

func TestConversationsMessages(t *testing.T) {
	ts := startServer(t, nil)
	auth := "Authorization: Bearer " + seedKey
	for i := 0; i < 3; i++ {
		ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"m%d"}`, i))
	}
	tests := []struct {
		name, path string
		headers    []string
		status     int
		check      func(t *testing.T, body []byte)
	}{
		{"all, oldest first", "/v1/conversations/con_9s2kd81/messages", []string{auth}, 200, func(t *testing.T, body []byte) {
			texts := messageTexts(t, body)
			if len(texts) != 6 || texts[0] != "Hi! Can you pull up my account?" || texts[5] != "m2" {
				t.Errorf("texts=%q", texts)
			}
		}},
		{"limit keeps the newest", "/v1/conversations/con_9s2kd81/messages?limit=2", []string{auth}, 200, func(t *testing.T, body []byte) {
			if texts := messageTexts(t, body); strings.Join(texts, ",") != "m1,m2" {
				t.Errorf("texts=%q, want m1,m2", texts)
			}
		}},
		{"bad limit", "/v1/conversations/con_9s2kd81/messages?limit=0", []string{auth}, 400, nil},
		{"unknown conversation", "/v1/conversations/con_missing/messages", []string{auth}, 404, func(t *testing.T, body []byte) {
			if want := `{"status":"error","message":"Conversation not found: con_missing.","data":null}`; string(body) != want {
				t.Errorf("body=%s, want %s", body, want)
			}
		}},
		{"no auth", "/v1/conversations/con_9s2kd81/messages", nil, 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.call(t, http.MethodGet, tt.path, "", tt.headers...)
			if res.Status != tt.status {
				t.Fatalf("StatusCode=%d, want %d: %s", res.Status, tt.status, res.Body)
			}
			if tt.check != nil {
				tt.check(t, res.Body)
			}
		})
	}
}

func messageTexts(t *testing.T, body []byte) []string {
	t.Helper()
	var v struct {
		Data struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, m := range v.Data.Messages {
		out = append(out, m.Text)
	}
	return out
}

func TestConversationsRoutes(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		method, path string
		status       int
		message      string
		allow        string
	}{
		{"GET", "/v1/messages", 405, "Method not allowed.", "POST"},
		{"PUT", "/v1/messages", 405, "Method not allowed.", "POST"},
		{"DELETE", "/v1/conversations/con_9s2kd81/messages", 405, "Method not allowed.", "GET, HEAD"},
		{"GET", "/v1/nothing", 404, "Resource not found.", ""},
		{"POST", "/v1/messages/extra", 404, "Resource not found.", ""},
		{"GET", "/v1", 404, "Resource not found.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := ts.call(t, tt.method, tt.path, "", "Authorization: Bearer "+seedKey)
			want := fmt.Sprintf(`{"status":"error","message":%q,"data":null}`, tt.message)
			if res.Status != tt.status || string(res.Body) != want {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, want)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow=%q, want %q", got, tt.allow)
			}
		})
	}
}

// TestConversationsPrefer answers every documented status, and the extra ones QA asks
// for, in the envelope with the documented default message.
func TestConversationsPrefer(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		prefer     string
		body       string
		status     int
		message    string
		retryAfter string
	}{
		{"code=400", validConversationsBody, 400, "Bad request.", ""},
		{"code=401", validConversationsBody, 401, "Invalid or expired token.", ""},
		{"code=404", validConversationsBody, 404, "Conversation not found: con_9s2kd81.", ""},
		{"code=404", `{"sender_id":"u","sender_type":"user","text":"t"}`, 404, "Resource not found.", ""},
		{"code=413", validConversationsBody, 413, "Request body too large.", ""},
		{"code=429", validConversationsBody, 429, "Rate limit exceeded. Please retry later.", "1"},
		{"code=500", validConversationsBody, 500, "Failed to enqueue message. Please retry.", ""},
		{"code=503", validConversationsBody, 503, "Service temporarily unavailable. Please retry.", "1"},
		{"code=418", validConversationsBody, 418, "I'm a teapot.", ""},
		{"respond-async, code=500", validConversationsBody, 500, "Failed to enqueue message. Please retry.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefer+" "+tt.message, func(t *testing.T) {
			res := ts.sendConversations(t, tt.body, "Prefer: "+tt.prefer)
			want := fmt.Sprintf(`{"status":"error","message":%q,"data":null}`, tt.message)
			if res.Status != tt.status || string(res.Body) != want {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, want)
			}
			if got := res.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After=%q, want %q", got, tt.retryAfter)
			}
		})
	}
	t.Run("ignored outside 400-599", func(t *testing.T) {
		if res := ts.sendConversations(t, validConversationsBody, "Prefer: code=200"); res.Status != 200 {
			t.Fatalf("StatusCode=%d, want 200", res.Status)
		}
	})
	t.Run("after validation", func(t *testing.T) {
		if res := ts.sendConversations(t, `{}`, "Prefer: code=500"); res.Status != 400 {
			t.Fatalf("StatusCode=%d, want 400 (fields are checked before Prefer)", res.Status)
		}
	})
}
