package mocktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/mock/mocktest"
)

var update = flag.Bool("update", false, "rewrite testdata/replay.golden")

func do(t *testing.T, method, url, body string, headers ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestParallelSuitesSeeOnlyTheirOwnTraffic: two suites share one server,
// each in its own session; neither sees the other's conversations, events,
// journal, counters or active scenario.
func TestParallelSuitesSeeOnlyTheirOwnTraffic(t *testing.T) {
	mm := mocktest.New(t, mocktest.WithSeed(1))
	for _, suite := range []string{"suite-a", "suite-b"} {
		suite := suite
		t.Run(suite, func(t *testing.T) {
			t.Parallel()
			s := mm.Session(suite)
			h := []string{"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: " + suite}
			if suite == "suite-b" {
				if err := s.SetScenario("conversations-503"); err != nil {
					t.Fatal(err)
				}
			}
			var convs []string
			for i := 0; i < 20; i++ {
				status, body := do(t, "POST", mm.URL+"/v1/messages",
					fmt.Sprintf(`{"sender_id":"u","sender_type":"agent","text":"%s-%d"}`, suite, i), h...)
				if suite == "suite-b" {
					if status != 503 {
						t.Fatalf("suite-b's active scenario not applied: %d", status)
					}
					continue
				}
				if status != 200 {
					t.Fatalf("%d %s", status, body)
				}
				var v struct {
					Data struct {
						ConversationID string `json:"conversation_id"`
					}
				}
				_ = json.Unmarshal([]byte(body), &v)
				convs = append(convs, v.Data.ConversationID)
			}
			// The built-in 503 scenario answers every Conversations request
			// of its session, reads included; with it cleared, fixture
			// conversations are visible in every session.
			if suite == "suite-b" {
				if status, _ := do(t, "GET", mm.URL+"/v1/conversations/con_9s2kd81/messages", "", h...); status != 503 {
					t.Errorf("suite-b's scenario did not answer a read: %d", status)
				}
				if err := s.SetScenario("default"); err != nil {
					t.Fatal(err)
				}
			}
			if status, _ := do(t, "GET", mm.URL+"/v1/conversations/con_9s2kd81/messages", "", h...); status != 200 {
				t.Errorf("fixture conversation not visible in %s: %d", suite, status)
			}
			reqs := s.Requests(t, "/v1/messages")
			if len(reqs) != 20 {
				t.Fatalf("%s journal has %d sends, want its own 20", suite, len(reqs))
			}
			for _, r := range reqs {
				if !strings.Contains(string(r.Body), suite) {
					t.Fatalf("%s journal holds another suite's request: %s", suite, r.Body)
				}
			}
			_, events := do(t, "GET", mm.URL+"/v1/events?limit=1000", "", h...)
			other := map[string]string{"suite-a": "suite-b", "suite-b": "suite-a"}[suite]
			if strings.Contains(events, other) {
				t.Fatalf("%s sees %s's events", suite, other)
			}
			if suite == "suite-a" && strings.Count(events, `"type":"message.created"`) != 20 {
				t.Fatalf("suite-a events: %s", events)
			}
			// The default session saw none of it.
			if reqs := mm.Requests(t, "/v1/messages"); len(reqs) != 0 {
				t.Errorf("default session journal has %d entries", len(reqs))
			}
			for _, c := range convs {
				if status, _ := do(t, "GET", mm.URL+"/v1/conversations/"+c+"/messages", "", "Authorization: Bearer k"); status != 404 {
					t.Errorf("%s's conversation %s visible outside its session: %d", suite, c, status)
				}
			}
			// Reset is per session too.
			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if reqs := s.Requests(t, ""); len(reqs) != 0 {
				t.Errorf("%s journal after its reset: %d", suite, len(reqs))
			}
		})
	}
}

// replayFixtures: a reply for each API, with fake text and random delays,
// so the transcript covers everything --seed must pin down.
var replayFixtures = fstest.MapFS{
	"settings.yaml": {Data: []byte("settings:\n  auth: {mode: any, tokens: [{token: sk_live, owner_id: usr_owner, workspace_id: wsp_default}]}\n")},
	"convs.yaml":    {Data: []byte("conversations:\n  - id: con_replay1\n  - {id: conv_0000000000000001, api: workspace}\n")},
	"default.yaml": {Data: []byte(`
scenario:
  name: default
  rules:
    - when: {api: conversations, sender_type: user}
      chance: 0.7
      reply:
        after: {min: 1ms, max: 30ms}
        text: "{{ Sentence }} Ticket {{ Number 1000 9999 }} for {{ Name }}."
        stream: {chunk: word, interval: 1ms}
    - when: {api: workspace}
      reply:
        - {inline: true, text: "{{ Company }}: {{ .Request.Text | ToUpper }}"}
        - {after: {min: 1ms, max: 20ms}, text: "{{ Paragraph }}", role: tool}
`)},
}

// replay sends the recorded script and returns the transcript: every
// response, then the final state (listings and event feed) once every
// reply has landed.
func replay(t *testing.T) string {
	mm := mocktest.New(t, mocktest.WithFixtures(replayFixtures), mocktest.WithSeed(7),
		mocktest.WithNow(time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)))
	script, err := os.ReadFile("testdata/replay.script")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(script)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		method, rest, _ := strings.Cut(line, " ")
		path, body, _ := strings.Cut(rest, " ")
		status, resp := do(t, method, mm.URL+path, body, "Authorization: Bearer sk_live", "Content-Type: application/json")
		fmt.Fprintf(&out, "> %s %s\n< %d %s\n", method, path, status, resp)
		// One at a time, replies included: the next request waits until
		// this one's replies have landed.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := mm.WaitIdle(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{
		"/v1/conversations/con_replay1/messages",
		"/api/v1/messages?conversation_id=conv_0000000000000001",
		"/v1/events?limit=1000",
	} {
		_, body := do(t, "GET", mm.URL+path, "", "Authorization: Bearer k")
		fmt.Fprintf(&out, "= GET %s\n%s\n", path, body)
	}
	return out.String()
}

// TestGoldenReplay: with a seed and a frozen clock, a recorded sequence of
// requests to both APIs, replies included, gives the same bytes as the
// golden transcript on every run.
func TestGoldenReplay(t *testing.T) {
	got := replay(t)
	if *update {
		if err := os.WriteFile("testdata/replay.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/replay.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("replay differs from testdata/replay.golden\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// TestVirtualClockAndAddedScenario: a test that needs a reply due in an
// hour and a stub of its own takes no time and writes no file.
func TestVirtualClockAndAddedScenario(t *testing.T) {
	mm := mocktest.New(t, mocktest.WithVirtualClock(), mocktest.WithSeed(1)).Session("suite")
	if err := mm.AddScenario("late-bot", `
rules:
  - when: {sender_type: user}
    reply: {after: 1h, text: "finally"}
`); err != nil {
		t.Fatal(err)
	}
	if err := mm.SetScenario("late-bot"); err != nil {
		t.Fatal(err)
	}
	status, body := do(t, "POST", mm.URL+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"hello?"}`,
		"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: suite")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var sent struct {
		Data struct {
			ConversationID string `json:"conversation_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(body), &sent)
	if err := mm.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	_, list := do(t, "GET", mm.URL+"/v1/conversations/"+sent.Data.ConversationID+"/messages", "", "Authorization: Bearer k", "X-Mock-Session: suite")
	if !strings.Contains(list, `"text":"finally"`) {
		t.Errorf("no reply an hour later: %s", list)
	}
	if err := mm.AddScenario("broken", "rules: [{respond: {status: 42}}]"); err == nil || !strings.Contains(err.Error(), "scenarios/broken:1:") {
		t.Errorf("a broken scenario: %v, want its line and column", err)
	}
}
