package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/secret"
)

// What the red team found in the verification API (POST /__mock/verify,
// GET /__mock/unmatched, …/usage, GET /__mock/status): work without end,
// credentials shown, sessions created by reads, answers without bound.

// heavyVerification is a verification that costs minutes of CPU on the
// journal heavyJournal fills: 100 patterns, each a regex of a few hundred
// instructions (within the 500 allowed) that Go's NFA runs over every
// 15,000-character text, twice (to count, then for the closest).
func heavyVerification() string {
	p := `{"request":{"when":{"text":{"regex":"(?:a*){1,100}x"}}}}`
	return `{"expect":[` + strings.TrimSuffix(strings.Repeat(p+",", 100), ",") + `]}`
}

// heavyJournal sends 40 messages of 15,000 characters in session.
func heavyJournal(t *testing.T, ts *testServer, session string) {
	t.Helper()
	body := `{"sender_id":"u","sender_type":"user","text":"` + strings.Repeat("a", 15000) + `"}`
	for range 40 {
		if res := ts.sendConversations(t, body, "X-Mock-Session: "+session); res.Status != 200 {
			t.Fatalf("send: %d %s", res.Status, res.Body)
		}
	}
}

// lineWriter passes each log line that holds want to lines.
type lineWriter struct {
	want  string
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.want)) {
		w.lines <- string(p)
	}
	return len(p), nil
}

// untilDeadline is a context that ends shortly before the test binary's
// -timeout would, so that a wait that never ends fails with its message.
func untilDeadline(t *testing.T) context.Context {
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}

// TestVerifyStopsWhenTheClientLeaves: a verification whose client hangs up
// stops (the server logs it, as 499), instead of working on for hours.
func TestVerifyStopsWhenTheClientLeaves(t *testing.T) {
	logged := &lineWriter{want: "path=/__mock/verify", lines: make(chan string, 1)}
	ts := startServer(t, nil, func(o *mock.Options) { o.Logger = slog.New(slog.NewTextHandler(logged, nil)) })
	heavyJournal(t, ts, "heavy")

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/__mock/verify", strings.NewReader(heavyVerification()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Mock-Session", "heavy")
	// The client gives up once the server is at work (its body read).
	time.AfterFunc(500*time.Millisecond, cancel)
	if res, err := ts.Client().Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the verification answered %d before its client left", res.StatusCode)
	}
	select {
	case line := <-logged.lines:
		if !strings.Contains(line, "status=499") {
			t.Errorf("the verification ended as %q, want status=499", line)
		}
	case <-untilDeadline(t).Done():
		t.Fatal("the verification went on working after its client left")
	}
}

// TestVerifyTimeBudget: a verification that would work for minutes answers
// 503 in the admin API's error shape once its budget is spent.
func TestVerifyTimeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("spends the 5 s budget")
	}
	ts := startServer(t, nil)
	heavyJournal(t, ts, "heavy")
	res := ts.call(t, http.MethodPost, "/__mock/verify", heavyVerification(), "X-Mock-Session: heavy")
	var answer struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(res.Body, &answer); err != nil || res.Status != http.StatusServiceUnavailable ||
		!strings.Contains(answer.Error, "budget of 5s") {
		t.Fatalf("StatusCode=%d %s, want 503 {\"error\": \"… budget of 5s …\"}", res.Status, res.Body)
	}
}

// TestRegexReadsTheFirst16KiB: a regex reads the first 16 KiB of a value,
// so what comes after cannot make it match.
func TestRegexReadsTheFirst16KiB(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"tail.yaml": `
scenario:
  name: default
  rules:
    - name: ends-in-y
      when: {text: {regex: "y$"}}
      respond: {status: 418}
    - name: starts-with-z
      when: {text: {regex: "^z"}}
      respond: {status: 402}
`}))
	for _, tt := range []struct {
		name, text string
		status     int
	}{
		{"short, the end read", strings.Repeat("a", 100) + "y", 418},
		{"16 KiB exactly, the end read", strings.Repeat("a", 16<<10-1) + "y", 418},
		{"past 16 KiB, the end not read", strings.Repeat("a", 16<<10) + "y", 200},
		{"long, its start read", "z" + strings.Repeat("a", 20000), 402},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"`+tt.text+`"}`)
			if res.Status != tt.status {
				t.Errorf("StatusCode=%d, want %d", res.Status, tt.status)
			}
		})
	}
}

// TestVerifyMasksThePatternsKeys: a failure shows the credential a pattern
// gave, under any operator, masked as the journal masks it — in request,
// sequence, closest and report — never as sent.
func TestVerifyMasksThePatternsKeys(t *testing.T) {
	const other = "sk_live_0123456789abcdefSECRET"
	ts := startServer(t, nil)
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hello"}`, "X-Mock-Session: keys")
	masked := secret.MaskHeader("Authorization", "Bearer "+seedKey)
	for _, body := range []string{
		`{"request":{"headers":{"Authorization":"Bearer ` + seedKey + `"}},"count":{"exactly":2}}`,
		`{"request":{"headers":{"Authorization":"Bearer ` + other + `"}}}`,
		`{"request":{"headers":{"Authorization":{"contains":"` + other + `"}}}}`,
		`{"request":{"headers":{"X-Api-Key":{"prefix":"` + other + `"},"Cookie":{"regex":"` + other + `"}}}}`,
		`{"sequence":[{"api":"conversations"},{"headers":{"Authorization":"Bearer ` + other + `"}}]}`,
		`{"expect":[{"request":{"headers":{"authorization":"Bearer ` + other + `"}}},{"request":{"headers":{"X-Auth-Token":"` + other + `"}}}]}`,
	} {
		status, v := ts.verify(t, "keys", body)
		answer, _ := json.Marshal(v)
		if status != http.StatusUnprocessableEntity || len(v.Failures) == 0 {
			t.Fatalf("%s: StatusCode=%d, want 422\n%s", body, status, answer)
		}
		for _, key := range []string{seedKey, other} {
			if bytes.Contains(answer, []byte(key)) {
				t.Errorf("%s: the answer shows %s as sent:\n%s", body, key, answer)
			}
		}
		if !strings.Contains(v.Report, "(fp ") {
			t.Errorf("%s: the report shows no masked key:\n%s", body, v.Report)
		}
	}
	// A key the pattern gave as sent is shown as the journal shows it.
	_, v := ts.verify(t, "keys", `{"request":{"headers":{"Authorization":"Bearer `+seedKey+`"}},"count":{"exactly":2}}`)
	if want := `{"headers":{"Authorization":` + string(mustJSON(t, masked)) + `}}`; string(v.Failures[0].Request) != want {
		t.Errorf("failures[0].request = %s, want %s", v.Failures[0].Request, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// TestVerifyShowsKeysAsSentWhenMaskingIsOff: with
// settings.security.mask_credentials: false, failures show the pattern as
// it was sent, as the journal shows requests.
func TestVerifyShowsKeysAsSentWhenMaskingIsOff(t *testing.T) {
	ts := startServer(t, mapFS(map[string]string{"settings.yaml": "settings:\n  security:\n    mask_credentials: false\n"}))
	body := `{"request":{"headers":{"Authorization":"Bearer ` + seedKey + `"}},"count":{"exactly":2}}`
	ts.sendConversations(t, `{"sender_id":"u","sender_type":"user","text":"hello"}`)
	if _, v := ts.verify(t, "", body); len(v.Failures) != 1 || !strings.Contains(string(v.Failures[0].Request), seedKey) {
		t.Errorf("failures %+v, want the key as sent", v.Failures)
	}
}

// TestStatusMasksTheListedKeys: GET /__mock/status lists the settings'
// keys masked, each with its fingerprint, unless masking is off.
func TestStatusMasksTheListedKeys(t *testing.T) {
	const settings = `
settings:
  auth:
    mode: listed
    tokens:
      - {token: sk_live_0123456789abcdefSECRET}
      - {token: short-key}
      - {token: old-key, expired: true}
`
	for _, tt := range []struct {
		name     string
		settings string
		want     []string
	}{
		{"masked", settings, []string{secret.Mask("sk_live_0123456789abcdefSECRET"), secret.Mask("short-key")}}, // sorted: "…" after "s"
		{"masking off", settings + "  security: {mask_credentials: false}\n", []string{"short-key", "sk_live_0123456789abcdefSECRET"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, mapFS(map[string]string{"settings.yaml": tt.settings}))
			var st struct {
				Auth struct {
					Keys []string `json:"keys"`
				} `json:"auth"`
			}
			res := ts.call(t, http.MethodGet, "/__mock/status", "")
			if err := json.Unmarshal(res.Body, &st); err != nil {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			if !reflect.DeepEqual(st.Auth.Keys, tt.want) {
				t.Errorf("auth.keys = %q, want %q", st.Auth.Keys, tt.want)
			}
		})
	}
}

// sessionsListed is GET /__mock/sessions's list.
func sessionsListed(t *testing.T, ts *testServer) []string {
	t.Helper()
	res := ts.call(t, http.MethodGet, "/__mock/sessions", "")
	var v struct {
		Sessions []string `json:"sessions"`
	}
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("GET /__mock/sessions: %d %s", res.Status, res.Body)
	}
	return v.Sessions
}

// TestReadsCreateNoSession: verify, unmatched and usage naming sessions
// that do not exist read them as empty and create none, so that they
// cannot evict the sessions in use (100 is the default limit).
func TestReadsCreateNoSession(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "suite-a")
	var probes []string
	for i := range 100 {
		probes = append(probes, fmt.Sprintf(`{"request":{"session":"probe-%d"},"count":{"never":true}}`, i))
	}
	if status, v := ts.verify(t, "", `{"expect":[`+strings.Join(probes, ",")+`]}`); status != 200 || v.Matched != 0 {
		t.Errorf("verify of 100 unknown sessions: StatusCode=%d, matched %d; want 200, 0", status, v.Matched)
	}
	if status, v := ts.verify(t, "probe-x", `{"request":{},"count":{"exactly":1}}`); status != 422 || v.Failures[0].Found != "no matching request" {
		t.Errorf("verify in an unknown session: StatusCode=%d %+v", status, v.Failures)
	}
	if res := ts.call(t, http.MethodGet, "/__mock/unmatched", "", "X-Mock-Session: probe-y"); res.Status != 200 || !strings.Contains(string(res.Body), `"requests":[]`) {
		t.Errorf("unmatched of an unknown session: %d %s", res.Status, res.Body)
	}
	res := ts.call(t, http.MethodGet, "/__mock/scenarios/billing/usage", "", "X-Mock-Session: probe-z")
	if res.Status != 200 || !strings.Contains(string(res.Body), `"never_fired":["invoice-fails-twice","refund-by-email","traced-workspace","never-used"]`) {
		t.Errorf("usage of an unknown session: %d %s", res.Status, res.Body)
	}
	if got := sessionsListed(t, ts); !reflect.DeepEqual(got, []string{"suite-a"}) {
		t.Errorf("sessions after the reads: %q, want [suite-a]", got)
	}
	if status, v := ts.verify(t, "suite-a", `{"request":{"api":"conversations"},"count":{"exactly":4}}`); status != 200 || v.Matched != 4 {
		t.Errorf("suite-a's journal after the reads: StatusCode=%d, matched %d", status, v.Matched)
	}
}

// TestVerifyListsAtMost100IDsPerFailure: a failure that matched more than
// 100 requests lists the first 100 ids and counts them all.
func TestVerifyListsAtMost100IDsPerFailure(t *testing.T) {
	ts := startServer(t, nil)
	for range 101 {
		ts.call(t, http.MethodGet, "/v1/events", "", "Authorization: Bearer "+seedKey)
	}
	res := ts.call(t, http.MethodPost, "/__mock/verify", `{"request":{"path":"/v1/events"},"count":{"never":true}}`)
	var v struct {
		IDs      []string `json:"ids"`
		Failures []struct {
			Matched      int      `json:"matched"`
			IDs          []string `json:"ids"`
			IDsTruncated bool     `json:"ids_truncated"`
		} `json:"failures"`
	}
	if err := json.Unmarshal(res.Body, &v); err != nil || res.Status != 422 || len(v.Failures) != 1 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	f := v.Failures[0]
	if f.Matched != 101 || len(f.IDs) != 100 || !f.IDsTruncated || f.IDs[0] != "req_000001" || f.IDs[99] != "req_000100" {
		t.Errorf("failure: matched %d, %d ids (%v … %v), ids_truncated %v; want 101, 100 (req_000001 … req_000100), true",
			f.Matched, len(f.IDs), f.IDs[0], f.IDs[len(f.IDs)-1], f.IDsTruncated)
	}
}

type unmatchedPage struct {
	Requests []struct {
		ID string `json:"id"`
	} `json:"requests"`
	Total     int    `json:"total"`
	Truncated bool   `json:"truncated"`
	Report    string `json:"report"`
	Error     string `json:"error"`
}

func (p unmatchedPage) ids() []string {
	ids := []string{}
	for _, r := range p.Requests {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestUnmatchedPages: GET /__mock/unmatched lists the first limit
// (default 100) after the request after names, with the total; bad values
// answer 400.
func TestUnmatchedPages(t *testing.T) {
	ts := startBilling(t)
	sendBillingTraffic(t, ts, "suite-a") // unmatched: req_000003, req_000006, req_000007
	get := func(query string) (int, unmatchedPage) {
		t.Helper()
		res := ts.call(t, http.MethodGet, "/__mock/unmatched"+query, "", "X-Mock-Session: suite-a")
		var p unmatchedPage
		if err := json.Unmarshal(res.Body, &p); err != nil {
			t.Fatalf("%s: %d %s", query, res.Status, res.Body)
		}
		return res.Status, p
	}
	for _, tt := range []struct {
		query     string
		ids       []string
		total     int
		truncated bool
		report    string // the report's first line
	}{
		{"", []string{"req_000003", "req_000006", "req_000007"}, 3, false, "msgmock: 3 requests matched no rule"},
		{"?limit=2", []string{"req_000003", "req_000006"}, 3, true, "msgmock: 3 requests matched no rule (the first 2 listed)"},
		{"?limit=2&after=req_000006", []string{"req_000007"}, 1, false, "msgmock: 1 request matched no rule"},
		{"?after=req_000003&limit=1", []string{"req_000006"}, 2, true, "msgmock: 2 requests matched no rule (the first 1 listed)"},
		{"?after=req_000007", []string{}, 0, false, ""},
		{"?limit=1000&path=/api/v1/messages", []string{"req_000006"}, 1, false, "msgmock: 1 request matched no rule"},
	} {
		status, p := get(tt.query)
		first, _, _ := strings.Cut(p.Report, "\n")
		if status != 200 || !reflect.DeepEqual(p.ids(), tt.ids) || p.Total != tt.total || p.Truncated != tt.truncated || first != tt.report {
			t.Errorf("%s: %d %v total %d truncated %v %q\nwant 200 %v total %d truncated %v %q",
				tt.query, status, p.ids(), p.Total, p.Truncated, first, tt.ids, tt.total, tt.truncated, tt.report)
		}
	}
	for query, want := range map[string]string{
		"?limit=0":      `limit must be a whole number from 1 to 1000; got "0"`,
		"?limit=1001":   `limit must be a whole number from 1 to 1000; got "1001"`,
		"?limit=ten":    `limit must be a whole number from 1 to 1000; got "ten"`,
		"?after=3":      "after must be a request id such as req_000012",
		"?after=req_x1": "after must be a request id such as req_000012",
	} {
		if status, p := get(query); status != 400 || p.Error != want {
			t.Errorf("%s: %d %q, want 400 %q", query, status, p.Error, want)
		}
	}
}

// TestUnmatchedListsAtMost100ByDefault: without limit, the first 100.
func TestUnmatchedListsAtMost100ByDefault(t *testing.T) {
	ts := startBilling(t)
	var wg sync.WaitGroup
	errs := make(chan error, 101)
	for range 101 { // reads no rule of billing answers
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/conversations", nil)
			req.Header.Set("Authorization", "Bearer "+seedKey)
			res, err := ts.Client().Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode != 200 {
					err = errors.New(res.Status)
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res := ts.call(t, http.MethodGet, "/__mock/unmatched", "")
	var p unmatchedPage
	if err := json.Unmarshal(res.Body, &p); err != nil || len(p.Requests) != 100 || p.Total != 101 || !p.Truncated {
		t.Errorf("%d: %d requests, total %d, truncated %v; want 100, 101, true", res.Status, len(p.Requests), p.Total, p.Truncated)
	}
}
