package mock_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readEndpoints are every read endpoint and event stream of both APIs,
// with a request that reaches the scenario step (auth, valid parameters,
// a conversation that exists).
var readEndpoints = []struct {
	api, path string
}{
	{"conversations", "/v1/conversations/con_9s2kd81/messages"},
	{"conversations", "/v1/events"},
	{"conversations", "/v1/events/stream?access_token=" + seedKey},
	{"workspace", "/api/v1/messages?conversation_id=conv_5f2a9c0e7b1d4a36"},
	{"workspace", "/api/v1/messages/msg_0a1b2c3d4e5f6071"},
	{"workspace", "/api/v1/conversations"},
	{"workspace", "/api/v1/events/stream?access_token=" + seedKey},
}

// TestReadErrorsOnEveryEndpoint: every read endpoint and stream connect of
// both APIs answers the errors its document lists on demand — by header
// (Prefer) and by scenario (the built-in 429 and 503 scenarios apply to
// every request of their API) — in its native shape, with Retry-After.
func TestReadErrorsOnEveryEndpoint(t *testing.T) {
	ts := startServer(t, nil)
	want := map[string]map[int]string{
		"conversations": {
			429: `{"status":"error","message":"Rate limit exceeded. Please retry later.","data":null}`,
			503: `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}`,
			500: `{"status":"error","message":"Failed to enqueue message. Please retry.","data":null}`,
		},
		"workspace": {
			429: `{"detail":"Too Many Requests"}`,
			503: `{"detail":"Service Unavailable"}`,
			500: `{"detail":"Internal Server Error"}`,
		},
	}
	for _, ep := range readEndpoints {
		if res := ts.call(t, "GET", strings.Split(ep.path, "/stream")[0]+"", "", "Authorization: Bearer "+seedKey); strings.Contains(ep.path, "/stream") {
			_ = res // a stream is tried below, with a timeout
		} else if res.Status != 200 {
			t.Fatalf("%s without a scripted error: %d %s", ep.path, res.Status, res.Body)
		}
		for _, how := range []struct {
			name   string
			header string
			status int
		}{
			{"Prefer 429", "Prefer: code=429", 429},
			{"Prefer 503", "Prefer: code=503", 503},
			{"Prefer 500", "Prefer: code=500", 500},
			{"scenario 429", "X-Mock-Scenario: " + ep.api + "-429", 429},
			{"scenario 503", "X-Mock-Scenario: " + ep.api + "-503", 503},
		} {
			t.Run(ep.path+"/"+how.name, func(t *testing.T) {
				res := ts.call(t, "GET", ep.path, "", "Authorization: Bearer "+seedKey, how.header)
				if res.Status != how.status || string(res.Body) != want[ep.api][how.status] {
					t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, how.status, want[ep.api][how.status])
				}
				if how.status != 500 && res.Header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After %q, want 1", res.Header.Get("Retry-After"))
				}
			})
		}
	}
	// The scenario that fails sends only (an enqueue failure) leaves reads alone.
	if res := ts.call(t, "GET", "/v1/events", "", "Authorization: Bearer "+seedKey, "X-Mock-Scenario: conversations-500"); res.Status != 200 {
		t.Errorf("conversations-500 on a read: %d", res.Status)
	}
}

// TestReadFaultsAndLatency: rules that name a path fault reads and stream
// connects, or hold them for their latency, as they do sends.
func TestReadFaultsAndLatency(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{
		"c.yaml": "conversations:\n  - id: con_a\n",
		"chaos.yaml": `
scenario:
  name: chaos
  rules:
    - {when: {path: /v1/events, headers: {X-Fault: reset}}, respond: {fault: reset}}
    - {when: {path: /v1/events, headers: {X-Fault: empty}}, respond: {fault: empty}}
    - {when: {path: /v1/events, headers: {X-Fault: malformed}}, respond: {fault: malformed}}
    - {when: {path: /v1/events/stream}, respond: {fault: reset}}
    - when: {method: GET, path: {prefix: /v1/conversations/}}
      respond: {latency: 1h, headers: {X-Slow: "yes"}}
`}), withVirtualClock())
	base := ts.URL
	get := func(path string, headers ...string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("X-Mock-Scenario", "chaos")
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(k, strings.TrimSpace(v))
		}
		return (&http.Transport{}).RoundTrip(req)
	}
	for _, fault := range []string{"reset", "empty"} {
		if res, err := get("/v1/events", "X-Fault: "+fault); err == nil {
			res.Body.Close()
			t.Errorf("fault %s: an answer %d", fault, res.StatusCode)
		}
	}
	res, err := get("/v1/events", "X-Fault: malformed")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || json.Valid(body) {
		t.Errorf("malformed: %d %s, want a 200 whose JSON is cut short", res.StatusCode, body)
	}
	if res, err := get("/v1/events/stream?access_token=k"); err == nil {
		res.Body.Close()
		t.Errorf("a stream connect that is reset answered %d", res.StatusCode)
	}
	// Latency on a read, on the virtual clock: held until the clock moves.
	done := make(chan *http.Response, 1)
	go func() {
		r, err := get("/v1/conversations/con_a/messages")
		if err == nil {
			done <- r
		}
	}()
	eventually(t, "the read waiting for the clock", func() bool {
		var st struct{ Waiting int }
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
		return st.Waiting == 1
	})
	select {
	case <-done:
		t.Fatal("the read was answered before its latency passed")
	default:
	}
	ts.advance(t, "1h")
	select {
	case r := <-done:
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("X-Slow") != "yes" {
			t.Errorf("after the latency: %d %v", r.StatusCode, r.Header)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read never came back")
	}
}

// sseClient is a client that, as EventSource does, reconnects when its
// stream drops and sends the id of the last event it saw.
type sseClient struct {
	url  string
	last string
	ids  []string
}

// read reads events until want were seen in all, reconnecting on a drop;
// it returns how many connections it took.
func (c *sseClient) read(ctx context.Context, want int) (connections int, err error) {
	for len(c.ids) < want {
		connections++
		req, _ := http.NewRequestWithContext(ctx, "GET", c.url, nil)
		if c.last != "" {
			req.Header.Set("Last-Event-ID", c.last)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return connections, err
		}
		sc := bufio.NewScanner(res.Body)
		id := ""
		for len(c.ids) < want && sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case line == "" && id != "":
				c.ids = append(c.ids, id)
				c.last, id = id, ""
			}
		}
		res.Body.Close()
		if ctx.Err() != nil {
			return connections, ctx.Err()
		}
	}
	return connections, nil
}

// TestStreamDropsAndTheClientResumes: a rule drops the stream's connection
// after 3 events (once: times: 1); the client reconnects with
// Last-Event-ID and gets the rest, without loss or duplicates, in order.
func TestStreamDropsAndTheClientResumes(t *testing.T) {
	for _, api := range []struct{ name, stream, send, body string }{
		{"conversations", "/v1/events/stream", "/v1/messages", `{"conversation_id":"con_a","sender_id":"u","sender_type":"agent","text":"m%d"}`},
		{"workspace", "/api/v1/events/stream", "/api/v1/messages", `{"conversation_id":"conv_0000000000000001","content":{"content":"m%d","sender_id":"u"}}`},
	} {
		t.Run(api.name, func(t *testing.T) {
			ts := startServer(t, mapFS(map[string]string{
				"c.yaml": "conversations:\n  - id: con_a\n  - {id: conv_0000000000000001, api: workspace}\n",
				"default.yaml": fmt.Sprintf(`
scenario:
  name: default
  rules:
    - when: {path: %s}
      times: 1
      respond: {drop_after: 3}
`, api.stream),
			}))
			client := &sseClient{url: ts.URL + api.stream + "?access_token=k"}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The first connection must be open before the sends: start it
			// and send once its first frame arrived.
			type result struct {
				n   int
				err error
			}
			got := make(chan result, 1)
			ready := make(chan struct{})
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", client.url, nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					got <- result{0, err}
					return
				}
				close(ready)
				sc := bufio.NewScanner(res.Body)
				id, dropped := "", true
				for sc.Scan() {
					line := sc.Text()
					switch {
					case strings.HasPrefix(line, "id: "):
						id = line[4:]
					case line == "" && id != "":
						client.ids = append(client.ids, id)
						client.last, id = id, ""
					}
				}
				if sc.Err() == nil {
					dropped = false
				}
				res.Body.Close()
				if !dropped && !errors.Is(sc.Err(), io.ErrUnexpectedEOF) && len(client.ids) != 3 {
					got <- result{0, fmt.Errorf("the first connection ended after %d events, cleanly", len(client.ids))}
					return
				}
				n, err := client.read(ctx, 5)
				got <- result{n + 1, err}
			}()
			select {
			case <-ready:
			case <-ctx.Done():
				t.Fatal("no stream")
			}
			var sent []string
			for i := 0; i < 5; i++ {
				res := ts.call(t, "POST", api.send, fmt.Sprintf(api.body, i), "Authorization: Bearer k", "Content-Type: application/json")
				if res.Status/100 != 2 {
					t.Fatalf("send %d: %d %s", i, res.Status, res.Body)
				}
			}
			var feed struct {
				Data struct {
					Events []struct{ ID string } `json:"events"`
				} `json:"data"`
			}
			r := <-got
			if r.err != nil {
				t.Fatal(r.err)
			}
			if api.name == "conversations" {
				_ = json.Unmarshal(ts.call(t, "GET", "/v1/events", "", "Authorization: Bearer k").Body, &feed)
				for _, e := range feed.Data.Events {
					sent = append(sent, e.ID)
				}
				if strings.Join(client.ids, ",") != strings.Join(sent, ",") {
					t.Errorf("the client saw %v, the feed holds %v", client.ids, sent)
				}
			}
			if r.n != 2 || len(client.ids) != 5 {
				t.Errorf("%d connections, %d events %v; want 2 and 5", r.n, len(client.ids), client.ids)
			}
			seen := map[string]bool{}
			for _, id := range client.ids {
				if seen[id] {
					t.Errorf("event %s delivered twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// TestLatencyRuleKeepsTheReplies: the built-in slow-network scenario's
// rule only adds latency and continues, so the default scenario's reply
// rule still runs: the AI replies, later.
func TestLatencyRuleKeepsTheReplies(t *testing.T) {
	ts := startServer(t, nil, withVirtualClock())
	done := make(chan response, 1)
	go func() {
		done <- ts.sendConversations(t, validConversationsBody, "X-Mock-Scenario: slow-network")
	}()
	eventually(t, "the send waiting out its latency", func() bool {
		var st struct{ Waiting int }
		_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
		return st.Waiting == 1
	})
	ts.advance(t, "30s")
	res := <-done
	if res.Status != 200 || !strings.Contains(string(res.Body), `"auto_reply_enqueued":true`) {
		t.Fatalf("slow-network: %d %s, want the reply enqueued", res.Status, res.Body)
	}
	var j struct {
		Requests []struct{ Scenario, Rule string } `json:"requests"`
	}
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/requests", "").Body, &j)
	if len(j.Requests) != 1 || j.Requests[0].Scenario != "slow-network" || j.Requests[0].Rule != "slow-send, assistant-replies" {
		t.Errorf("journal: %+v, want both rules named", j.Requests)
	}
	ts.advance(t, "3s")
	if n := len(ts.conversationMessages(t, "con_9s2kd81")); n < 5 {
		t.Errorf("%d messages: the AI reply never came", n)
	}
}

// TestContinuingRulesAndUnreachableRules: continuing rules add their
// headers before the final rule's; a rule an earlier one always pre-empts
// loads with a warning shown in the status.
func TestContinuingRulesAndUnreachableRules(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"s.yaml": `
scenario:
  name: s
  rules:
    - {name: tag, respond: {headers: {X-Trace: a}}, continue: true}
    - {name: teapot, when: {text: tea}, respond: {status: 418, headers: {X-Final: b}}}
    - {name: always, respond: {status: 503}}
    - {name: never, when: {text: x}, respond: {status: 500}}
`}))
	res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"tea"}`, "X-Mock-Scenario: s")
	if res.Status != 418 || res.Header.Get("X-Trace") != "a" || res.Header.Get("X-Final") != "b" {
		t.Errorf("got %d %v", res.Status, res.Header)
	}
	var st struct{ Warnings []string }
	_ = json.Unmarshal(ts.call(t, "GET", "/__mock/status", "").Body, &st)
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], `rules[3] "never" can never fire: rule "always" before it`) {
		t.Errorf("warnings: %q", st.Warnings)
	}
}
