package mock_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// qaFixtures scripts one rule per respond kind, selected by the text sent.
const qaFixtures = `
scenario:
  name: qa
  rules:
    - name: status-default
      when: {text: status-default}
      respond: {status: 503}
    - name: status-message
      when: {text: status-message}
      respond: {status: 400, message: "Field 'text' is required."}
    - name: headers-body
      when: {text: headers-body}
      respond: {status: 409, headers: {X-Trace: t-1}, body: {error: conflict, code: 7}}
    - name: ok-body
      when: {text: ok-body}
      respond: {status: 202, headers: {X-Queued: "yes"}, body: {queued: true}}
    - name: slow
      when: {text: slow}
      respond: {latency: 150ms}
    - name: very-slow
      when: {text: very-slow}
      respond: {latency: 30s}
    - name: malformed
      when: {text: malformed}
      respond: {fault: malformed}
    - name: reset
      when: {text: reset}
      respond: {fault: reset}
    - name: empty
      when: {text: empty}
      respond: {fault: empty}
    - name: timeout
      when: {text: timeout}
      respond: {fault: timeout}
`

// send posts text to api ("a" or "b") with the qa scenario selected.
func (ts *testServer) send(t *testing.T, api, text string, headers ...string) response {
	t.Helper()
	h := append([]string{"Authorization: Bearer " + seedKey, "Content-Type: application/json"}, headers...)
	if api == "a" {
		return ts.call(t, "POST", "/v1/messages", fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":%q}`, text), h...)
	}
	return ts.call(t, "POST", "/api/v1/messages", fmt.Sprintf(`{"content":{"content":%q,"sender_id":"u"}}`, text), h...)
}

// rawSend posts with a client of its own and returns the transport error.
func (ts *testServer) rawSend(api, text string, timeout time.Duration) (*http.Response, error) {
	path, body := "/v1/messages", fmt.Sprintf(`{"sender_id":"u","sender_type":"user","text":%q}`, text)
	if api == "b" {
		path, body = "/api/v1/messages", fmt.Sprintf(`{"content":{"content":%q,"sender_id":"u"}}`, text)
	}
	req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Scenario", "qa")
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err == nil {
		_, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	return res, err
}

func (ts *testServer) journal(t *testing.T) []journalEntry {
	t.Helper()
	var j struct {
		Requests []journalEntry `json:"requests"`
	}
	res := ts.call(t, "GET", "/__mock/requests", "")
	if err := json.Unmarshal(res.Body, &j); err != nil {
		t.Fatal(err)
	}
	return j.Requests
}

// eventually polls cond until it holds; the deadline is generous, so only
// something that never happens fails.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRespondKinds(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"qa.yaml": qaFixtures}))
	sel := "X-Mock-Scenario: qa"
	tests := []struct {
		api, text string
		status    int
		body      string
		header    [2]string
	}{
		{"a", "status-default", 503, `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}`, [2]string{"Retry-After", "1"}},
		{"b", "status-default", 503, `{"detail":"Service Unavailable"}`, [2]string{"Retry-After", "1"}},
		{"a", "status-message", 400, `{"status":"error","message":"Field 'text' is required.","data":null}`, [2]string{}},
		{"b", "status-message", 400, `{"detail":"Field 'text' is required."}`, [2]string{}},
		{"a", "headers-body", 409, `{"error":"conflict","code":7}`, [2]string{"X-Trace", "t-1"}},
		{"b", "headers-body", 409, `{"error":"conflict","code":7}`, [2]string{"X-Trace", "t-1"}},
		{"a", "ok-body", 202, `{"queued":true}`, [2]string{"X-Queued", "yes"}},
		{"b", "ok-body", 202, `{"queued":true}`, [2]string{"X-Queued", "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.api+"/"+tt.text, func(t *testing.T) {
			res := ts.send(t, tt.api, tt.text, sel)
			if res.Status != tt.status || string(res.Body) != tt.body {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.body)
			}
			if tt.header[0] != "" && res.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s=%q, want %q", tt.header[0], res.Header.Get(tt.header[0]), tt.header[1])
			}
		})
	}
	t.Run("a 2xx body still stores the message", func(t *testing.T) {
		res := ts.call(t, "GET", "/api/v1/conversations", "", "Authorization: Bearer k")
		if !strings.Contains(string(res.Body), `"message_count":1`) {
			t.Errorf("the ok-body message was not stored: %s", res.Body)
		}
	})
	for _, api := range []string{"a", "b"} {
		t.Run(api+"/latency", func(t *testing.T) {
			res := ts.send(t, api, "slow", sel)
			if res.Status != 200 && res.Status != 201 {
				t.Fatalf("StatusCode=%d", res.Status)
			}
			j := ts.journal(t)
			last := j[len(j)-1]
			// A lower bound only: the handler waited at least the latency.
			if last.Rule != "slow" || last.DurationMS < 150 {
				t.Errorf("journal: %+v, want rule slow and at least 150ms", last)
			}
		})
		t.Run(api+"/malformed", func(t *testing.T) {
			res := ts.send(t, api, "malformed", sel)
			if res.Status != 200 || json.Valid(res.Body) || len(res.Body) == 0 {
				t.Fatalf("got %d %q, want 200 with truncated JSON", res.Status, res.Body)
			}
		})
		for _, fault := range []string{"reset", "empty"} {
			t.Run(api+"/"+fault, func(t *testing.T) {
				if _, err := ts.rawSend(api, fault, 5*time.Second); err == nil {
					t.Fatalf("the client got a response; want the connection dropped")
				}
				// The client sees the connection close before the handler's
				// journal entry is written: wait for it.
				eventually(t, "the dropped request reaches the journal", func() bool {
					j := ts.journal(t)
					last := j[len(j)-1]
					return last.Rule == fault && last.Status == 0
				})
			})
		}
		t.Run(api+"/timeout", func(t *testing.T) {
			_, err := ts.rawSend(api, "timeout", 200*time.Millisecond)
			if err == nil {
				t.Fatalf("the client got a response; want it to time out")
			}
			// The handler is freed as soon as the client gives up.
			eventually(t, "the timed-out request reaches the journal", func() bool {
				j := ts.journal(t)
				return len(j) > 0 && j[len(j)-1].Rule == "timeout" && j[len(j)-1].Status == 499
			})
		})
		t.Run(api+"/client hangs up during latency", func(t *testing.T) {
			if _, err := ts.rawSend(api, "very-slow", 200*time.Millisecond); err == nil {
				t.Fatal("want a client timeout")
			}
			eventually(t, "the abandoned request is freed and journaled", func() bool {
				j := ts.journal(t)
				return len(j) > 0 && j[len(j)-1].Rule == "very-slow" && j[len(j)-1].Status == 499
			})
		})
	}
	if res := ts.send(t, "a", "after all the faults", sel); res.Status != 200 {
		t.Fatalf("server unhealthy after faults: %d", res.Status)
	}
}

// fastReplies is the default scenario with replies due at once.
const fastReplies = `
scenario:
  name: default
  rules:
    - name: assistant
      when: {api: conversations, sender_type: user}
      reply:
        after: 10ms
        text: "You said: {{ .Request.Text }}"
    - name: two-replies
      when: {api: workspace, text: {prefix: two}}
      reply:
        - {text: "inline {{ .Request.SenderID }}", inline: true}
        - {text: "later", after: 10ms, role: tool, metadata: {source: bot}}
`

type conversationsMessage struct {
	ID         string `json:"id"`
	SenderID   string `json:"sender_id"`
	SenderType string `json:"sender_type"`
	Text       string `json:"text"`
	ReplyTo    string `json:"reply_to_message_id"`
}

func (ts *testServer) conversationMessages(t testing.TB, conv string, headers ...string) []conversationsMessage {
	t.Helper()
	res := ts.call(t, "GET", "/v1/conversations/"+conv+"/messages?limit=1000", "", append([]string{"Authorization: Bearer k"}, headers...)...)
	var v struct {
		Data struct {
			Messages []conversationsMessage `json:"messages"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("%v: %s", err, res.Body)
	}
	return v.Data.Messages
}

func TestConversationsReplies(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": fastReplies}))
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hello"}`)
	data := res.json(t)["data"].(map[string]any)
	if data["auto_reply_enqueued"] != true {
		t.Fatalf("auto_reply_enqueued=%v, want true", data["auto_reply_enqueued"])
	}
	conv := data["conversation_id"].(string)
	userID := data["message"].(map[string]any)["id"].(string)

	// No reply for auto_reply false, nor for an agent's message.
	off := ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"user","text":"quiet","auto_reply":false}`, conv))
	if off.json(t)["data"].(map[string]any)["auto_reply_enqueued"] != false {
		t.Errorf("auto_reply false still enqueued a reply")
	}
	agent := ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"a","sender_type":"agent","text":"I am an agent"}`, conv))
	if agent.json(t)["data"].(map[string]any)["auto_reply_enqueued"] != false {
		t.Errorf("an agent message got a reply enqueued")
	}
	last := ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"user","text":"last"}`, conv))
	if last.Status != 200 {
		t.Fatal(last.Status)
	}
	// Replies are stored in schedule order: once the last one is there, every
	// earlier one is too.
	eventually(t, "the replies arrive", func() bool {
		msgs := ts.conversationMessages(t, conv)
		return len(msgs) > 0 && msgs[len(msgs)-1].Text == "You said: last"
	})
	var replies []conversationsMessage
	for _, m := range ts.conversationMessages(t, conv) {
		if m.SenderID == "agt_assistant" {
			replies = append(replies, m)
		}
	}
	if len(replies) != 2 {
		t.Fatalf("got %d replies, want 2 (hello, last): %+v", len(replies), replies)
	}
	if r := replies[0]; r.Text != "You said: hello" || r.SenderType != "agent" || r.ReplyTo != userID {
		t.Errorf("reply %+v, want the template rendered, sender_type agent, replying to %s", r, userID)
	}
}

func TestWorkspaceReplies(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": fastReplies}))
	h := []string{"Authorization: Bearer k", "Content-Type: application/json"}
	res := ts.call(t, "POST", "/api/v1/messages", `{"content":{"content":"two please","sender_id":"usr_9"}}`, h...)
	var created []map[string]any
	if err := json.Unmarshal(res.Body, &created); err != nil || res.Status != 201 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	if len(created) != 2 {
		t.Fatalf("201 lists %d messages, want the created one and the inline reply", len(created))
	}
	if r := created[1]; r["content"] != "inline usr_9" || r["role"] != "assistant" || r["parent_message_id"] != created[0]["id"] {
		t.Errorf("inline reply: %v", r)
	}
	conv := created[0]["conversation_id"].(string)
	eventually(t, "the delayed reply is listed", func() bool {
		list := ts.call(t, "GET", "/api/v1/messages?conversation_id="+conv, "", h...)
		return strings.Contains(string(list.Body), `"content":"later"`)
	})
	list := ts.call(t, "GET", "/api/v1/messages?conversation_id="+conv, "", h...)
	if !strings.Contains(string(list.Body), `"role":"tool"`) || !strings.Contains(string(list.Body), `"meta_data":{"source":"bot"}`) {
		t.Errorf("delayed reply fields: %s", list.Body)
	}
}

func TestTimesStateAndChance(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": `
scenario:
  name: retry
  rules:
    - name: fails-twice
      when: {text: retry}
      times: 2
      respond: {status: 500}
    - name: login-broken
      when: {text: login}
      state: {require: start, set: locked}
      respond: {status: 401}
    - name: login-locked
      when: {text: login}
      state: {require: locked, set: start}
      respond: {status: 429}
    - name: coin
      when: {text: coin}
      chance: 0.5
      respond: {status: 503}
`}))
	sel := "X-Mock-Scenario: retry"
	var got []int
	for i := 0; i < 4; i++ {
		got = append(got, ts.send(t, "a", "retry", sel).Status)
	}
	if fmt.Sprint(got) != "[500 500 200 200]" {
		t.Errorf("times: statuses %v, want [500 500 200 200]", got)
	}
	got = nil
	for i := 0; i < 4; i++ {
		got = append(got, ts.send(t, "a", "login", sel).Status)
	}
	if fmt.Sprint(got) != "[401 429 401 429]" {
		t.Errorf("state machine: statuses %v, want [401 429 401 429]", got)
	}
	// Reset restarts counters and states.
	ts.call(t, "POST", "/__mock/reset", "")
	if s := ts.send(t, "a", "retry", sel).Status; s != 500 {
		t.Errorf("after reset: %d, want 500 again", s)
	}
	coins := func(ts *testServer) string {
		var out []int
		for i := 0; i < 24; i++ {
			out = append(out, ts.send(t, "a", "coin", sel).Status)
		}
		return fmt.Sprint(out)
	}
	fixtures := mapFS(map[string]string{"s.yaml": "scenario:\n  name: retry\n  rules:\n    - {name: coin, chance: 0.5, respond: {status: 503}}\n"})
	first := coins(startServer(t, fixtures, withSeed(99)))
	second := coins(startServer(t, fixtures, withSeed(99)))
	if first != second {
		t.Errorf("chance with the same seed differs:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, "503") || !strings.Contains(first, "200") {
		t.Errorf("chance 0.5 over 24 requests gave %s", first)
	}
}

func TestScenarioSelection(t *testing.T) {
	ts := startServer(t, nil)
	if s := ts.send(t, "a", "hi", "X-Mock-Scenario: conversations-500").Status; s != 500 {
		t.Errorf("header: %d, want 500", s)
	}
	if res := ts.send(t, "a", "hi", "X-Mock-Scenario: nope"); res.Status != 400 || string(res.Body) != `{"status":"error","message":"Unknown scenario: nope.","data":null}` {
		t.Errorf("unknown scenario, API A: %d %s", res.Status, res.Body)
	}
	if res := ts.send(t, "b", "hi", "X-Mock-Scenario: nope"); res.Status != 400 || string(res.Body) != `{"detail":"Unknown scenario: nope"}` {
		t.Errorf("unknown scenario, API B: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"nope"}`); res.Status != 404 {
		t.Errorf("PUT unknown: %d", res.Status)
	}
	if res := ts.call(t, "PUT", "/__mock/scenario", `{"name":"conversations-500"}`); res.Status != 200 {
		t.Fatalf("PUT: %d %s", res.Status, res.Body)
	}
	if !strings.Contains(string(ts.call(t, "GET", "/__mock/status", "").Body), `"active_scenario":"conversations-500"`) {
		t.Errorf("status does not show the active scenario")
	}
	if s := ts.send(t, "a", "hi").Status; s != 500 {
		t.Errorf("active scenario: %d, want 500", s)
	}
	// Its rules are for API A only: API B falls through to default.
	if s := ts.send(t, "b", "hi").Status; s != 201 {
		t.Errorf("API B under conversations-500: %d, want 201", s)
	}
	// The header beats the active scenario; Prefer beats both.
	if s := ts.send(t, "a", "hi", "X-Mock-Scenario: default").Status; s != 200 {
		t.Errorf("header over active: %d, want 200", s)
	}
	if s := ts.send(t, "a", "hi", "Prefer: code=429").Status; s != 429 {
		t.Errorf("Prefer under a scenario: %d, want 429", s)
	}
	ts.call(t, "PUT", "/__mock/scenario", `{"name":"default"}`)
	if s := ts.send(t, "a", "hi").Status; s != 200 {
		t.Errorf("back to default: %d", s)
	}
	j := ts.journal(t)
	found := false
	for _, e := range j {
		found = found || (e.Scenario == "conversations-500" && e.Rule == "fail-500" && e.Status == 500)
	}
	if !found {
		t.Errorf("journal does not name scenario and rule: %+v", j)
	}
}

// TestBuiltinErrorScenarios: each built-in error scenario answers its
// status in the API's native shape.
func TestBuiltinErrorScenarios(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		scenario, api string
		status        int
		body          string
	}{
		{"conversations-400", "a", 400, `{"status":"error","message":"Field 'text' is required.","data":null}`},
		{"conversations-401", "a", 401, `{"status":"error","message":"Invalid or expired token.","data":null}`},
		{"conversations-404", "a", 404, `{"status":"error","message":"Resource not found.","data":null}`},
		{"conversations-429", "a", 429, `{"status":"error","message":"Rate limit exceeded. Please retry later.","data":null}`},
		{"conversations-500", "a", 500, `{"status":"error","message":"Failed to enqueue message. Please retry.","data":null}`},
		{"conversations-503", "a", 503, `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}`},
		{"workspace-401", "b", 401, `{"detail":"Not authenticated"}`},
		{"workspace-403", "b", 403, `{"detail":"Not authorized for this workspace"}`},
		{"workspace-404", "b", 404, `{"detail":"Conversation not found"}`},
		{"workspace-422", "b", 422, `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, scripted failure","input":null}]}`},
		{"workspace-429", "b", 429, `{"detail":"Too Many Requests"}`},
		{"workspace-500", "b", 500, `{"detail":"Internal Server Error"}`},
		{"workspace-503", "b", 503, `{"detail":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			res := ts.send(t, tt.api, "hello", "X-Mock-Scenario: "+tt.scenario)
			if res.Status != tt.status || string(res.Body) != tt.body {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.body)
			}
		})
	}
}

// TestRepliesAreDeterministic: same seed, frozen clock, same requests:
// the replies (ids, fake text) are byte-identical.
func TestRepliesAreDeterministic(t *testing.T) {
	fixtures := mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {sender_type: user}
      reply: {after: {min: 1ms, max: 20ms}, text: "{{ Sentence }} {{ Number 1 1000 }} {{ Name }}"}
`})
	run := func() string {
		ts := startServer(t, fixtures, withSeed(2024))
		res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"one"}`)
		conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)
		// One at a time, replies included (README: byte-identical runs):
		// the next request waits until nothing is scheduled. Sent sooner,
		// its place among the replies would follow the wall clock.
		eventually(t, "the first reply", func() bool { return ts.status(t).Scheduler.Pending == 0 })
		ts.sendConversations(t, fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"user","text":"two"}`, conv))
		eventually(t, "both replies", func() bool { return len(ts.conversationMessages(t, conv)) == 4 })
		return string(ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", "Authorization: Bearer k").Body)
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("replies differ between runs:\n%s\n%s", a, b)
	}
}

func TestTemplateFailureIsVisible(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - reply: {after: 1ms, text: "{{ slice .Request.Text 5 1 }}"}
`}))
	// A template that fails when run makes no reply: the request is
	// answered the API's own 500, and the failure is counted.
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"x"}`)
	if want := `{"status":"error","message":"Failed to enqueue message. Please retry.","data":null}`; res.Status != 500 || string(res.Body) != want {
		t.Fatalf("got %d %s, want 500 %s", res.Status, res.Body, want)
	}
	var st struct {
		TemplateFailures int `json:"template_failures"`
	}
	if err := json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st); err != nil || st.TemplateFailures != 1 {
		t.Errorf("template_failures %d (%v), want 1", st.TemplateFailures, err)
	}
}

// TestReplyDroppedAfterReset: a reply scheduled before a reset never lands.
func TestReplyDroppedAfterReset(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"default.yaml": `
scenario:
  name: default
  rules:
    - when: {text: slow}
      reply: {after: 300ms, text: late}
    - when: {text: fast}
      reply: {after: 400ms, text: on time}
`}))
	ts.sendConversations(t, `{"conversation_id":null,"sender_id":"u","sender_type":"user","text":"slow"}`)
	ts.call(t, "POST", "/__mock/reset", "")
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"fast"}`)
	conv := res.json(t)["data"].(map[string]any)["conversation_id"].(string)
	eventually(t, "the reply sent after the reset", func() bool { return len(ts.conversationMessages(t, conv)) == 2 })
	if strings.Contains(string(ts.call(t, "GET", "/v1/conversations/"+conv+"/messages", "", "Authorization: Bearer k").Body), "late") {
		t.Errorf("a reply scheduled before the reset landed after it")
	}
}
