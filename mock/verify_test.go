package mock_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The verification API (POST /__mock/verify), near misses, and the
// unmatched and usage reports, over real HTTP on the fixtures of
// testdata/verify: a billing scenario with a rule that fails twice, one
// that matches by metadata, one by a header's presence, and one no test
// fires.

type difference struct {
	Field    string `json:"field"`
	Expected any    `json:"expected"`
	Actual   any    `json:"actual"`
}

type closestRequest struct {
	ID          string       `json:"id"`
	Differences []difference `json:"differences"`
}

type verifyFailure struct {
	Expectation int               `json:"expectation"`
	Session     string            `json:"session"`
	Request     json.RawMessage   `json:"request"`
	Sequence    []json.RawMessage `json:"sequence"`
	Step        *int              `json:"step"`
	Expected    string            `json:"expected"`
	Found       string            `json:"found"`
	Matched     int               `json:"matched"`
	IDs         []string          `json:"ids"`
	Closest     []closestRequest  `json:"closest"`
}

type verifyAnswer struct {
	OK       bool             `json:"ok"`
	Matched  int              `json:"matched"`
	IDs      []string         `json:"ids"`
	Entries  []map[string]any `json:"entries"`
	Failures []verifyFailure  `json:"failures"`
	Closest  []closestRequest `json:"closest"`
	Report   string           `json:"report"`
	Error    string           `json:"error"`
	Errors   []string         `json:"errors"`
}

func (ts *testServer) verify(t testing.TB, session, body string) (int, verifyAnswer) {
	t.Helper()
	res := ts.call(t, http.MethodPost, "/__mock/verify", body, "X-Mock-Session: "+session, "Content-Type: application/json")
	var v verifyAnswer
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("POST /__mock/verify answered %d, not JSON: %v\n%s", res.Status, err, res.Body)
	}
	return res.Status, v
}

func startBilling(t testing.TB) *testServer {
	t.Helper()
	return startServer(t, os.DirFS("testdata/verify"), func(o *mockOptions) { o.Scenario = "billing" })
}

// sendWorkspace posts a Workspace API message with the seed's key.
func (ts *testServer) sendWorkspace(t testing.TB, body string, headers ...string) response {
	t.Helper()
	h := append([]string{"Authorization: Bearer " + seedKey, "Content-Type: application/json"}, headers...)
	return ts.call(t, http.MethodPost, "/api/v1/messages", body, h...)
}

// sendBillingTraffic sends, in session: two invoices from the web (the
// rule fails them: 503), a message from another sender, one by email
// (refund-by-email), a Workspace message with X-Trace and one without,
// and a read; req_000001 … req_000007.
func sendBillingTraffic(t *testing.T, ts *testServer, session string) {
	t.Helper()
	s := "X-Mock-Session: " + session
	for _, c := range []struct {
		workspace bool
		body      string
		status    int
		headers   []string
	}{
		{false, `{"sender_id":"usr_a","sender_type":"user","text":"invoice 1","metadata":{"channel":"web"}}`, 503, nil},
		{false, `{"sender_id":"usr_a","sender_type":"user","text":"invoice 2","metadata":{"channel":"web"}}`, 503, nil},
		{false, `{"sender_id":"usr_b","sender_type":"user","text":"hello","metadata":{"channel":"sms"}}`, 200, nil},
		{false, `{"sender_id":"usr_a","sender_type":"user","text":"refund me","metadata":{"channel":"email"}}`, 200, nil},
		{true, `{"content":{"content":"traced","sender_id":"usr_w"}}`, 201, []string{"X-Trace: t1"}},
		{true, `{"content":{"content":"plain","sender_id":"usr_w"}}`, 201, nil},
	} {
		var res response
		if c.workspace {
			res = ts.sendWorkspace(t, c.body, append(c.headers, s)...)
		} else {
			res = ts.sendConversations(t, c.body, append(c.headers, s)...)
		}
		if res.Status != c.status {
			t.Fatalf("%s: %d, want %d\n%s", c.body, res.Status, c.status, res.Body)
		}
	}
	if res := ts.call(t, "GET", "/api/v1/conversations", "", "Authorization: Bearer "+seedKey, s); res.Status != 200 {
		t.Fatalf("GET /api/v1/conversations: %d %s", res.Status, res.Body)
	}
}

func TestVerifyCounts(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "counts")
	invoices := `{"api":"conversations","method":"POST","path":"/v1/messages","when":{"text":{"contains":"invoice"}}}`
	for _, tt := range []struct {
		name, body string
		status     int
		ids        []string
		found      string // a failure's, when it fails
	}{
		{"exactly holds", `{"request":` + invoices + `,"count":{"exactly":2}}`, 200, []string{"req_000001", "req_000002"}, ""},
		{"exactly fails", `{"request":` + invoices + `,"count":{"exactly":3}}`, 422, []string{"req_000001", "req_000002"}, "2 matching requests: req_000001, req_000002"},
		{"at least holds", `{"request":{"api":"workspace"},"count":{"at_least":3}}`, 200, []string{"req_000005", "req_000006", "req_000007"}, ""},
		{"at least fails", `{"request":{"api":"workspace","method":"POST"},"count":{"at_least":3}}`, 422, []string{"req_000005", "req_000006"}, "2 matching requests: req_000005, req_000006"},
		{"at most holds", `{"request":{"when":{"sender_id":"usr_b"}},"count":{"at_most":1}}`, 200, []string{"req_000003"}, ""},
		{"at most fails", `{"request":{"when":{"sender_id":"usr_a"}},"count":{"at_most":2}}`, 422, []string{"req_000001", "req_000002", "req_000004"}, "3 matching requests: req_000001, req_000002, req_000004"},
		{"never holds", `{"request":{"when":{"text":{"contains":"cancel","ignore_case":true}}},"count":{"never":true}}`, 200, []string{}, ""},
		{"never fails", `{"request":{"status":503},"count":{"never":true}}`, 422, []string{"req_000001", "req_000002"}, "2 matching requests: req_000001, req_000002"},
		{"a count left out is at least 1", `{"request":{"rule":"refund-by-email"}}`, 200, []string{"req_000004"}, ""},
		{"between", `{"request":{"api":"conversations"},"count":{"at_least":1,"at_most":3}}`, 422, []string{"req_000001", "req_000002", "req_000003", "req_000004"}, "4 matching requests: req_000001, req_000002, req_000003, req_000004"},
		{"a rule that fired among others", `{"request":{"rule":"invoice-fails-twice","status":503},"count":{"exactly":2}}`, 200, []string{"req_000001", "req_000002"}, ""},
		{"no rule answered", `{"request":{"rule":{"absent":true},"method":"POST"},"count":{"exactly":2}}`, 200, []string{"req_000003", "req_000006"}, ""},
		{"a header's absence", `{"request":{"api":"workspace","headers":{"X-Trace":{"absent":true}}},"count":{"exactly":2}}`, 200, []string{"req_000006", "req_000007"}, ""},
		{"a metadata value", `{"request":{"when":{"metadata":{"channel":{"regex":"^(web|email)$"}}}},"count":{"exactly":3}}`, 200, []string{"req_000001", "req_000002", "req_000004"}, ""},
		{"a body field's absence", `{"request":{"method":"POST","when":{"conversation_id":{"absent":true}}},"count":{"exactly":6}}`, 200, []string{"req_000001", "req_000002", "req_000003", "req_000004", "req_000005", "req_000006"}, ""},
		{"the Workspace role as the API takes it", `{"request":{"when":{"role":"user","workspace_id":"wsp_default"}},"count":{"exactly":2}}`, 200, []string{"req_000005", "req_000006"}, ""},
		{"a key as sent, though the journal masks it", `{"request":{"headers":{"Authorization":"Bearer ` + seedKey + `"}},"count":{"exactly":7}}`, 200, []string{"req_000001", "req_000002", "req_000003", "req_000004", "req_000005", "req_000006", "req_000007"}, ""},
		{"a key by its fingerprint", `{"request":{"headers":{"Authorization":{"suffix":"(fp 38782e13)"}},"api":"workspace"},"count":{"exactly":3}}`, 200, []string{"req_000005", "req_000006", "req_000007"}, ""},
		{"another key", `{"request":{"headers":{"Authorization":"Bearer sk_other_key_of_some_length"}},"count":{"never":true}}`, 200, []string{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, v := ts.verify(t, "counts", tt.body)
			if status != tt.status || v.OK != (tt.status == 200) {
				t.Fatalf("status %d ok %v, want %d\n%+v", status, v.OK, tt.status, v)
			}
			if !reflect.DeepEqual(v.IDs, tt.ids) || v.Matched != len(tt.ids) || len(v.Entries) != len(tt.ids) {
				t.Errorf("ids %v (matched %d, %d entries), want %v", v.IDs, v.Matched, len(v.Entries), tt.ids)
			}
			for i, e := range v.Entries {
				if e["id"] != tt.ids[i] {
					t.Errorf("entries[%d] is %v, want %s", i, e["id"], tt.ids[i])
				}
			}
			if tt.status == 200 {
				if len(v.Failures) != 0 || v.Report != "" {
					t.Errorf("a verification that holds has failures %+v, report %q", v.Failures, v.Report)
				}
				return
			}
			if len(v.Failures) != 1 || v.Failures[0].Found != tt.found {
				t.Fatalf("failures %+v, want one that found %q", v.Failures, tt.found)
			}
			if !strings.Contains(v.Report, "found    "+tt.found) {
				t.Errorf("the report does not say what was found:\n%s", v.Report)
			}
		})
	}
}

func TestVerifySequence(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "seq")
	step := func(text string) string { return `{"method":"POST","when":{"text":{"contains":"` + text + `"}}}` }
	for _, tt := range []struct {
		name, body string
		status     int
		ids        []string
		step       int
		found      string
		closest    []closestRequest
	}{
		{"in order, others between", `{"sequence":[` + step("invoice") + `,` + step("refund") + `,` + step("plain") + `]}`, 200,
			[]string{"req_000001", "req_000004", "req_000006"}, 0, "", nil},
		{"the same pattern twice takes two requests", `{"sequence":[` + step("invoice") + `,` + step("invoice") + `]}`, 200,
			[]string{"req_000001", "req_000002"}, 0, "", nil},
		{"out of order", `{"sequence":[` + step("refund") + `,` + step("hello") + `]}`, 422,
			[]string{"req_000004"}, 1, "sequence[1] matches only requests before req_000004: req_000003, out of order",
			[]closestRequest{{ID: "req_000003", Differences: []difference{{Field: "order", Expected: "after req_000004", Actual: "before it"}}}}},
		{"a step nothing matches", `{"sequence":[` + step("hello") + `,{"api":"workspace","method":"POST","when":{"text":"plan"}}]}`, 422,
			[]string{"req_000003"}, 1, "sequence[0] to [0] matched req_000003; no request after them matches sequence[1]",
			[]closestRequest{
				{ID: "req_000005", Differences: []difference{{Field: "text", Expected: "plan", Actual: "traced"}}},
				{ID: "req_000006", Differences: []difference{{Field: "text", Expected: "plan", Actual: "plain"}}},
				{ID: "req_000004", Differences: []difference{{Field: "api", Expected: "workspace", Actual: "conversations"}, {Field: "text", Expected: "plan", Actual: "refund me"}}},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, v := ts.verify(t, "seq", tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d\n%+v", status, tt.status, v)
			}
			if !reflect.DeepEqual(v.IDs, tt.ids) {
				t.Errorf("ids %v, want %v", v.IDs, tt.ids)
			}
			if status == 200 {
				return
			}
			f := v.Failures[0]
			if f.Step == nil || *f.Step != tt.step || f.Found != tt.found {
				t.Errorf("failed at step %v, found %q; want step %d, %q", f.Step, f.Found, tt.step, tt.found)
			}
			if !reflect.DeepEqual(f.Closest, tt.closest) || !reflect.DeepEqual(v.Closest, tt.closest) {
				t.Errorf("closest %+v (at the top %+v), want %+v", f.Closest, v.Closest, tt.closest)
			}
		})
	}
}

// TestVerifyNamesTheClosestRequest: a verification that fails says what it
// expected, what it found, and which requests came closest with each field
// that differed; several expectations fail at once, each reported.
func TestVerifyNamesTheClosestRequest(t *testing.T) {
	ts := startBilling(t)
	s := "X-Mock-Session: closest"
	ts.sendConversations(t, `{"sender_id":"usr_b","sender_type":"user","text":"invoice please"}`, s)
	ts.sendWorkspace(t, `{"content":{"content":"an invoice, from elsewhere","sender_id":"usr_w"}}`, s)
	ts.sendConversations(t, `{"sender_id":"usr_c","sender_type":"agent","text":"hello"}`, s)

	status, v := ts.verify(t, "closest", `{"request":{"api":"conversations","when":{"sender_id":"usr_a","text":{"contains":"invoice"}}},"count":{"exactly":1}}`)
	if status != http.StatusUnprocessableEntity || v.OK || v.Matched != 0 {
		t.Fatalf("status %d ok %v matched %d, want 422 with nothing matched", status, v.OK, v.Matched)
	}
	want := []closestRequest{
		{ID: "req_000001", Differences: []difference{{Field: "sender_id", Expected: "usr_a", Actual: "usr_b"}}},
		{ID: "req_000002", Differences: []difference{{Field: "api", Expected: "conversations", Actual: "workspace"}, {Field: "sender_id", Expected: "usr_a", Actual: "usr_w"}}},
		{ID: "req_000003", Differences: []difference{{Field: "text", Expected: map[string]any{"contains": "invoice"}, Actual: "hello"}, {Field: "sender_id", Expected: "usr_a", Actual: "usr_c"}}},
	}
	if !reflect.DeepEqual(v.Closest, want) {
		t.Errorf("closest\n got %+v\nwant %+v", v.Closest, want)
	}
	golden(t, "verify/closest.report", []byte(v.Report))

	// Three expectations: the first and the last fail, and both say so.
	status, v = ts.verify(t, "closest", `{"expect":[
		{"request":{"when":{"sender_type":"agent"}},"count":{"at_least":2}},
		{"sequence":[{"when":{"text":{"prefix":"invoice"}}},{"when":{"text":"hello"}}]},
		{"sequence":[{"when":{"text":"hello"}},{"api":"workspace"}]}
	]}`)
	if status != http.StatusUnprocessableEntity || len(v.Failures) != 2 || v.Failures[0].Expectation != 0 || v.Failures[1].Expectation != 2 {
		t.Fatalf("status %d, failures %+v; want 422 with expectations 0 and 2", status, v.Failures)
	}
	if !reflect.DeepEqual(v.IDs, []string{"req_000003", "req_000001"}) || v.Matched != 4 {
		t.Errorf("ids %v matched %d, want req_000003, req_000001 (each once) and 4 (1 + 2 + 1)", v.IDs, v.Matched)
	}
	golden(t, "verify/several.report", []byte(v.Report))
}

// TestVerifyRefusesBadPatterns: a body that is not a verification gets 400
// with every problem, each located in the body.
func TestVerifyRefusesBadPatterns(t *testing.T) {
	ts := startBilling(t)
	for _, tt := range []struct{ name, body, want string }{
		{"a regex that does not compile", `{"request":{"when":{"text":{"regex":"("}}}}`, "body:1:37: request.when.text.regex: missing closing ): `(`"},
		{"an unknown key", `{"request":{"paths":"/v1"}}`, `body:1:13: unknown key "paths" in request (allowed: api, method, path, headers, status, session, scenario, rule, when)`},
		{"exactly with at_least", `{"request":{},"count":{"exactly":1,"at_least":1}}`, "body:1:23: count: exactly and never stand alone; at_least and at_most may go together"},
		{"an empty sequence", `{"sequence":[]}`, "body:1:13: sequence lists no pattern"},
		{"a method twice", `{"request":{"method":"GET","when":{"method":"POST"}}}`, "body:1:22: request: method is given twice, at the top and in when; give it once"},
		{"absent with an operator", `{"request":{"when":{"headers":{"X":{"absent":true,"equals":"a"}}}}}`, "body:1:36: request.when.headers.X: absent stands alone ({absent: true} or {absent: false})"},
		{"a sequence over two sessions", `{"sequence":[{"session":"a"},{}]}`, "body:1:30: sequence[1]: a sequence reads one session's journal; every pattern of it names the same session, or none"},
		{"not an object", `not json {`, "body:1:1: the body must be a mapping"},
		{"nothing", ``, `body: the body is empty: send {"request": {…}, "count": {…}}, {"sequence": […]} or {"expect": […]}`},
		{"a status out of range", `{"request":{"status":700}}`, "body:1:22: request.status must be between 100 and 599, got 700"},
		{"a range upside down", `{"request":{"when":{"text":"a"}},"count":{"at_least":3,"at_most":1}}`, "body:1:54: count: at_least (3) is above at_most (1)"},
		{"every problem at once", `{"expect":[{"request":{"api":"chat"}},{"sequence":[{"when":{"text":{"regex":"["}}}]}]}`,
			"body:1:30: expect[0].request.api must be conversations or workspace, got \"chat\"\nbody:1:77: expect[1].sequence[0].when.text.regex: missing closing ]: `[`"},
		{"absence of a method", `{"request":{"method":{"absent":true}},"count":{"never":false}}`,
			"body:1:23: unknown key \"absent\" in request.method (allowed: equals, contains, prefix, suffix, regex, ignore_case)\nbody:1:56: count.never: false asks for nothing; give a count instead"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, v := ts.verify(t, "bad", tt.body)
			if status != http.StatusBadRequest || v.Error != "the verification has problems" || strings.Join(v.Errors, "\n") != tt.want {
				t.Errorf("%d %q\n got %q\nwant %q", status, v.Error, strings.Join(v.Errors, "\n"), tt.want)
			}
		})
	}
}

// TestNearMisses: a request no rule answered keeps the closest rules in
// its journal entry, with each field that differed; X-Mock-Explain: 1
// adds them to the answer as X-Mock-Near-Miss, and without it the answer
// is byte for byte what it was.
func TestNearMisses(t *testing.T) {
	ts := startBilling(t)
	for _, tt := range []struct {
		name      string
		workspace bool
		body      string
		headers   []string
		before    int // invoices from the web sent first (the rule fails the first two)
		want      []nearMiss
		header    string
	}{
		{"a body field differs", false, `{"sender_id":"usr_a","sender_type":"user","text":"my invoice","metadata":{"channel":"sms"}}`, nil, 0,
			[]nearMiss{
				{Scenario: "billing", Rule: "invoice-fails-twice", Differences: []difference{{Field: "metadata.channel", Expected: "web", Actual: "sms"}}},
				{Scenario: "billing", Rule: "refund-by-email", Differences: []difference{{Field: "metadata.channel", Expected: "email", Actual: "sms"}}},
			},
			`billing/invoice-fails-twice: metadata.channel want "web" got "sms"; billing/refund-by-email: metadata.channel want "email" got "sms"`},
		{"a rule used up", false, `{"sender_id":"usr_a","sender_type":"user","text":"invoice 3","metadata":{"channel":"web"}}`, nil, 2,
			[]nearMiss{
				{Scenario: "billing", Rule: "invoice-fails-twice", Differences: []difference{{Field: "times", Expected: "fewer than 2 firings", Actual: "fired 2 times"}}},
				{Scenario: "billing", Rule: "refund-by-email", Differences: []difference{{Field: "metadata.channel", Expected: "email", Actual: "web"}}},
			},
			`billing/invoice-fails-twice: times want "fewer than 2 firings" got "fired 2 times"; billing/refund-by-email: metadata.channel want "email" got "web"`},
		{"a header missing, a sender and text apart", true, `{"content":{"content":"plain","sender_id":"usr_w"}}`, nil, 0,
			[]nearMiss{
				{Scenario: "billing", Rule: "traced-workspace", Differences: []difference{{Field: "headers.X-Trace", Expected: map[string]any{"absent": false}, Actual: nil}}},
				{Scenario: "billing", Rule: "never-used", Differences: []difference{{Field: "text", Expected: map[string]any{"prefix": "never"}, Actual: "plain"}}},
			},
			`billing/traced-workspace: headers.X-Trace want present got none; billing/never-used: text want prefix "never" got "plain"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			session := "X-Mock-Session: near-" + strings.ReplaceAll(tt.name, " ", "-")
			send := func(explain bool) response {
				t.Helper()
				for i := 0; i < tt.before; i++ {
					ts.sendConversations(t, `{"sender_id":"usr_a","sender_type":"user","text":"invoice","metadata":{"channel":"web"}}`, session)
				}
				h := append([]string{session}, tt.headers...)
				if explain {
					h = append(h, "X-Mock-Explain: 1")
				}
				if tt.workspace {
					return ts.sendWorkspace(t, tt.body, h...)
				}
				return ts.sendConversations(t, tt.body, h...)
			}
			plain := send(false)
			if got := plain.Header.Values("X-Mock-Near-Miss"); got != nil {
				t.Errorf("X-Mock-Near-Miss without X-Mock-Explain: %q", got)
			}
			entry := lastEntry(t, ts, session)
			if entry.Unmatched != true || !reflect.DeepEqual(entry.NearMisses, tt.want) {
				t.Errorf("journal: unmatched %v, near misses\n got %+v\nwant %+v", entry.Unmatched, entry.NearMisses, tt.want)
			}

			// The same request again, after a reset (the same ids), asking.
			if res := ts.call(t, "POST", "/__mock/reset", "", session); res.Status != 200 {
				t.Fatal(res.Status)
			}
			explained := send(true)
			if got := explained.Header.Get("X-Mock-Near-Miss"); got != tt.header {
				t.Errorf("X-Mock-Near-Miss\n got %q\nwant %q", got, tt.header)
			}
			if string(explained.Body) != string(plain.Body) || explained.Status != plain.Status {
				t.Errorf("the answer changed with X-Mock-Explain:\n%d %s\n%d %s", plain.Status, plain.Body, explained.Status, explained.Body)
			}
			explained.Header.Del("X-Mock-Near-Miss")
			explained.Header.Del("Date")
			plain.Header.Del("Date")
			if !reflect.DeepEqual(explained.Header, plain.Header) {
				t.Errorf("headers changed with X-Mock-Explain:\n%v\n%v", plain.Header, explained.Header)
			}
		})
	}

	// A read no rule could reach is unmatched, with no near miss to show.
	res := ts.call(t, "GET", "/api/v1/conversations", "", "Authorization: Bearer "+seedKey, "X-Mock-Session: read", "X-Mock-Explain: 1")
	if e := lastEntry(t, ts, "X-Mock-Session: read"); res.Status != 200 || !e.Unmatched || e.NearMisses != nil || res.Header.Values("X-Mock-Near-Miss") != nil {
		t.Errorf("a read: %d %v, entry %+v", res.Status, res.Header, e)
	}
	// A request a rule answered has none, and is not unmatched.
	ts.sendConversations(t, `{"sender_id":"usr_a","sender_type":"user","text":"refund","metadata":{"channel":"email"}}`, "X-Mock-Session: answered", "X-Mock-Explain: 1")
	if e := lastEntry(t, ts, "X-Mock-Session: answered"); e.Unmatched || e.NearMisses != nil || e.Rule != "refund-by-email" {
		t.Errorf("an answered request: %+v", e)
	}
}

type nearMiss struct {
	Scenario    string       `json:"scenario"`
	Rule        string       `json:"rule"`
	Differences []difference `json:"differences"`
}

type journalEntryWithMisses struct {
	ID         string     `json:"id"`
	Rule       string     `json:"rule"`
	Unmatched  bool       `json:"unmatched"`
	NearMisses []nearMiss `json:"near_misses"`
}

func lastEntry(t *testing.T, ts *testServer, session string) journalEntryWithMisses {
	t.Helper()
	var page struct {
		Requests []journalEntryWithMisses `json:"requests"`
	}
	res := ts.call(t, "GET", "/__mock/requests?limit=1", "", session)
	if err := json.Unmarshal(res.Body, &page); err != nil || len(page.Requests) != 1 {
		t.Fatalf("GET /__mock/requests: %d %s", res.Status, res.Body)
	}
	return page.Requests[0]
}

type usageAnswer struct {
	Scenario string `json:"scenario"`
	Session  string `json:"session"`
	State    string `json:"state"`
	AllUsed  bool   `json:"all_used"`
	Rules    []struct {
		Name       string `json:"name"`
		Hits       int    `json:"hits"`
		Times      int    `json:"times"`
		Left       int    `json:"left"`
		NeverFired bool   `json:"never_fired"`
	} `json:"rules"`
	NeverFired []string `json:"never_fired"`
	TimesLeft  []string `json:"times_left"`
	Report     string   `json:"report"`
}

// TestUnmatchedAndUsage: after a suite's traffic, GET /__mock/unmatched
// lists what no rule answered with its near misses, and
// GET /__mock/scenarios/billing/usage flags the rule that never fired and
// the one whose times is not used up — each session on its own.
func TestUnmatchedAndUsage(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "suite-a")
	ts.sendConversations(t, `{"sender_id":"usr_a","sender_type":"user","text":"invoice","metadata":{"channel":"web"}}`, "X-Mock-Session: suite-b")

	var un struct {
		Requests []journalEntryWithMisses `json:"requests"`
		Report   string                   `json:"report"`
	}
	res := ts.call(t, "GET", "/__mock/unmatched", "", "X-Mock-Session: suite-a")
	if err := json.Unmarshal(res.Body, &un); err != nil || res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	var ids []string
	for _, e := range un.Requests {
		ids = append(ids, e.ID)
	}
	if want := []string{"req_000003", "req_000006", "req_000007"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("unmatched %v, want %v", ids, want)
	}
	golden(t, "verify/unmatched.report", []byte(un.Report))
	res = ts.call(t, "GET", "/__mock/unmatched?path=/api/v1/messages", "", "X-Mock-Session: suite-a")
	if err := json.Unmarshal(res.Body, &un); err != nil || len(un.Requests) != 1 || un.Requests[0].ID != "req_000006" {
		t.Errorf("unmatched sends of the Workspace API: %d %s", res.Status, res.Body)
	}

	for _, tt := range []struct {
		session     string
		hits        []int
		never, left []string
		allUsed     bool
		report      string
	}{
		{"suite-a", []int{2, 1, 1, 0}, []string{"never-used"}, []string{}, false, "verify/usage-a.report"},
		{"suite-b", []int{1, 0, 0, 0}, []string{"refund-by-email", "traced-workspace", "never-used"}, []string{"invoice-fails-twice"}, false, "verify/usage-b.report"},
		{"suite-c", []int{0, 0, 0, 0}, []string{"invoice-fails-twice", "refund-by-email", "traced-workspace", "never-used"}, []string{}, false, ""},
	} {
		t.Run(tt.session, func(t *testing.T) {
			var u usageAnswer
			res := ts.call(t, "GET", "/__mock/scenarios/billing/usage", "", "X-Mock-Session: "+tt.session)
			if err := json.Unmarshal(res.Body, &u); err != nil || res.Status != 200 {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			var hits []int
			for _, r := range u.Rules {
				hits = append(hits, r.Hits)
				if r.NeverFired != (r.Hits == 0) {
					t.Errorf("rule %s: never_fired %v with %d hits", r.Name, r.NeverFired, r.Hits)
				}
			}
			if !reflect.DeepEqual(hits, tt.hits) || !reflect.DeepEqual(u.NeverFired, tt.never) || !reflect.DeepEqual(u.TimesLeft, tt.left) || u.AllUsed != tt.allUsed || u.Session != tt.session {
				t.Errorf("usage %+v\nwant hits %v, never fired %v, times left %v", u, tt.hits, tt.never, tt.left)
			}
			if tt.report != "" {
				golden(t, tt.report, []byte(u.Report))
			}
		})
	}

	// A scenario added over the API has its usage too; one that does not exist, none.
	ts.call(t, "PUT", "/__mock/scenarios/extra", "rules:\n  - {name: only, when: {sender_id: usr_z}, respond: {status: 418}}\n", "X-Mock-Session: suite-c")
	ts.sendConversations(t, `{"sender_id":"usr_z","sender_type":"user","text":"tea"}`, "X-Mock-Session: suite-c", "X-Mock-Scenario: extra")
	var u usageAnswer
	res = ts.call(t, "GET", "/__mock/scenarios/extra/usage", "", "X-Mock-Session: suite-c")
	if err := json.Unmarshal(res.Body, &u); err != nil || !u.AllUsed || u.Report != "" || len(u.Rules) != 1 || u.Rules[0].Hits != 1 {
		t.Errorf("usage of an added scenario: %d %s", res.Status, res.Body)
	}
	if res := ts.call(t, "GET", "/__mock/scenarios/extra/usage", "", "X-Mock-Session: suite-a"); res.Status != 404 {
		t.Errorf("another session's added scenario: %d %s", res.Status, res.Body)
	}
}

// TestVerifyIsPerSession: a verification reads the journal of its
// request's session, or of the session its pattern names.
func TestVerifyIsPerSession(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "suite-a")
	for _, tt := range []struct {
		session, body string
		status        int
		matched       int
	}{
		{"suite-a", `{"request":{"api":"conversations"},"count":{"exactly":4}}`, 200, 4},
		{"suite-b", `{"request":{"api":"conversations"},"count":{"never":true}}`, 200, 0},
		{"", `{"request":{},"count":{"never":true}}`, 200, 0},
		{"suite-b", `{"request":{"api":"conversations","session":"suite-a"},"count":{"exactly":4}}`, 200, 4},
		{"suite-a", `{"sequence":[{"session":"suite-b","api":"conversations"}]}`, 422, 0},
	} {
		status, v := ts.verify(t, tt.session, tt.body)
		if status != tt.status || v.Matched != tt.matched {
			t.Errorf("session %q %s: %d matched %d, want %d matched %d", tt.session, tt.body, status, v.Matched, tt.status, tt.matched)
		}
	}
	res := ts.call(t, "GET", "/__mock/unmatched", "", "X-Mock-Session: suite-b")
	if !strings.Contains(string(res.Body), `"requests":[]`) {
		t.Errorf("suite-b's unmatched: %s", res.Body)
	}
}
