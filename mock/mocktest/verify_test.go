package mocktest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/msgmock/msgmock/mock/mocktest"
)

// outcome records what a helper did to the test it was given: the
// failures it reported, and whether it stopped the test.
type outcome struct {
	testing.TB
	mu      sync.Mutex
	errors  []string
	stopped bool
}

func (o *outcome) Helper() {}

func (o *outcome) Error(args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errors = append(o.errors, fmt.Sprint(args...))
}

func (o *outcome) Fatal(args ...any) {
	o.Error(args...)
	o.stopped = true
	runtime.Goexit()
}

// run calls helper with a recording test, in a goroutine of its own as
// Fatal's Goexit needs.
func run(t *testing.T, helper func(testing.TB)) *outcome {
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		helper(o)
	}()
	<-done
	return o
}

var billing = fstest.MapFS{"billing.yaml": {Data: []byte(`
scenario:
  name: billing
  rules:
    - name: invoice-fails-twice
      when: {api: conversations, text: {contains: invoice}}
      times: 2
      respond: {status: 503}
    - name: refund
      when: {api: conversations, metadata: {channel: email}}
      respond: {headers: {X-Refund: queued}}
    - name: never-used
      when: {api: workspace}
      respond: {status: 500}
`)}}

// serverReport is what msgmock itself answers, for comparison.
func serverReport(t *testing.T, method, url, body, session string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Mock-Session", session)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var v struct {
		Report string `json:"report"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %s", method, url, b)
	}
	return strings.TrimSuffix(v.Report, "\n")
}

// TestVerifyHelpers: Verify, VerifyInOrder, Unmatched and AssertAllUsed
// pass when what they check holds, and otherwise fail the test with
// msgmock's report as msgmock wrote it; a pattern msgmock refuses stops
// the test. Each reads the helper's session alone.
func TestVerifyHelpers(t *testing.T) {
	mm := mocktest.New(t, mocktest.WithFixtures(billing), mocktest.WithScenario("billing"), mocktest.WithSeed(1))
	suite := mm.Session("suite")
	h := []string{"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: suite"}
	for _, body := range []string{
		`{"sender_id":"usr_a","sender_type":"user","text":"invoice 1"}`,
		`{"sender_id":"usr_a","sender_type":"user","text":"hello","metadata":{"channel":"sms"}}`,
		`{"sender_id":"usr_a","sender_type":"user","text":"refund","metadata":{"channel":"email"}}`,
	} {
		do(t, "POST", mm.URL+"/v1/messages", body, h...)
	}
	invoice := mocktest.Pattern{API: "conversations", When: map[string]any{"text": mocktest.Contains("invoice")}}
	for _, tt := range []struct {
		name   string
		helper func(testing.TB)
		fails  string // the report msgmock gives: method, path and body of the same check; "" when it holds
	}{
		{"Verify holds", func(t testing.TB) {
			if got := suite.Verify(t, invoice, mocktest.Exactly(1)); len(got) != 1 || got[0].Status != 503 {
				t.Error(fmt.Sprintf("returned %+v", got))
			}
		}, ""},
		{"Verify fails", func(t testing.TB) { suite.Verify(t, invoice, mocktest.AtLeast(2)) },
			`POST /__mock/verify {"request":{"api":"conversations","when":{"text":{"contains":"invoice"}}},"count":{"at_least":2}}`},
		{"Verify with a range and a key as sent", func(t testing.TB) {
			suite.Verify(t, mocktest.Pattern{Headers: map[string]any{"Authorization": "Bearer k"}, Method: "POST"}, mocktest.AtLeast(1).AtMost(3))
		}, ""},
		{"Verify never", func(t testing.TB) {
			suite.Verify(t, mocktest.Pattern{When: map[string]any{"metadata": map[string]any{"channel": mocktest.IgnoreCase("EMAIL")}}}, mocktest.Never())
		}, `POST /__mock/verify {"request":{"when":{"metadata":{"channel":{"equals":"EMAIL","ignore_case":true}}}},"count":{"never":true}}`},
		{"VerifyInOrder holds", func(t testing.TB) {
			suite.VerifyInOrder(t, invoice, mocktest.Pattern{Rule: "refund"})
		}, ""},
		{"VerifyInOrder fails on the order", func(t testing.TB) {
			suite.VerifyInOrder(t, mocktest.Pattern{Rule: "refund"}, invoice)
		}, `POST /__mock/verify {"sequence":[{"rule":"refund"},{"api":"conversations","when":{"text":{"contains":"invoice"}}}]}`},
		{"Unmatched holds for a path", func(t testing.TB) { suite.Unmatched(t, "/api/v1/messages") }, ""},
		{"Unmatched fails", func(t testing.TB) {
			if got := suite.Unmatched(t, "/v1/messages"); len(got) != 1 || len(got[0].NearMisses) != 2 {
				t.Error(fmt.Sprintf("returned %+v", got))
			}
		}, "GET /__mock/unmatched?path=/v1/messages "},
		{"AssertAllUsed fails", func(t testing.TB) { suite.AssertAllUsed(t, "billing") }, "GET /__mock/scenarios/billing/usage "},
		{"in another session nothing was sent", func(t testing.TB) {
			mm.Session("other").Verify(t, mocktest.Pattern{}, mocktest.Never())
			mm.Session("other").Unmatched(t, "")
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, tt.helper)
			if tt.fails == "" {
				if len(o.errors) > 0 {
					t.Errorf("failed the test: %q", o.errors)
				}
				return
			}
			method, rest, _ := strings.Cut(tt.fails, " ")
			path, body, _ := strings.Cut(rest, " ")
			want := serverReport(t, method, mm.URL+path, body, "suite")
			if want == "" || len(o.errors) != 1 || o.errors[0] != want || o.stopped {
				t.Errorf("failed the test with %q (stopped %v)\nwant msgmock's report:\n%s", o.errors, o.stopped, want)
			}
		})
	}

	t.Run("a pattern msgmock refuses stops the test", func(t *testing.T) {
		o := run(t, func(t testing.TB) {
			suite.Verify(t, mocktest.Pattern{When: map[string]any{"text": mocktest.Regex("(")}}, mocktest.Exactly(1))
		})
		if !o.stopped || len(o.errors) != 1 || o.errors[0] != "mocktest: POST /__mock/verify: 400 the verification has problems\nbody:1:37: request.when.text.regex: missing closing ): `(`" {
			t.Errorf("stopped %v with %q", o.stopped, o.errors)
		}
	})
	t.Run("every rule used", func(t *testing.T) {
		used := mm.Session("used")
		h := []string{"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Session: used"}
		do(t, "POST", mm.URL+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"invoice","metadata":{"channel":"email"}}`, h...)
		do(t, "POST", mm.URL+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"invoice again"}`, h...)
		do(t, "POST", mm.URL+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"refund","metadata":{"channel":"email"}}`, h...)
		do(t, "POST", mm.URL+"/api/v1/messages", `{"content":{"content":"x","sender_id":"u"}}`, h...)
		if o := run(t, func(t testing.TB) { used.AssertAllUsed(t, "billing") }); len(o.errors) != 0 {
			t.Errorf("every rule fired, each as often as its times: %q", o.errors)
		}
	})
}
