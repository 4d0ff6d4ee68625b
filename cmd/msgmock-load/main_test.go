package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/msgmock/msgmock/mock/mocktest"
)

// TestLoadAgainstMsgmock drives a real msgmock briefly and checks the report.
func TestLoadAgainstMsgmock(t *testing.T) {
	mm := mocktest.New(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-c", "4", "-d", "300ms", mm.URL}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^POST http://127\.0\.0\.1:\d+/v1/messages: 4 connections, `),
		regexp.MustCompile(`(?m)^requests [1-9]\d*, errors 0, [1-9]\d* req/s$`),
		regexp.MustCompile(`(?m)^latency p50 \S+, p99 \S+$`),
		regexp.MustCompile(`(?m)^status 200: [1-9]\d*$`),
	} {
		if !want.MatchString(report) {
			t.Errorf("report lacks %s:\n%s", want, report)
		}
	}
	if n := len(mm.Requests(t, "/v1/messages")); n == 0 {
		t.Errorf("msgmock's journal shows no request")
	}
}

func TestLoadCountsStatusesAndHeaders(t *testing.T) {
	var withHeader atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") == "yes" && r.Method == "GET" {
			withHeader.Add(1)
		}
		w.WriteHeader(503)
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-c", "2", "-d", "200ms", "-method", "GET", "-body", "", "-path", "/x", "-H", "X-Test: yes", srv.URL}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "status 503: ") || withHeader.Load() == 0 {
		t.Errorf("report %q, requests with the header: %d", out.String(), withHeader.Load())
	}
	if err := run(context.Background(), []string{"-c", "0", srv.URL}, &out); err == nil {
		t.Errorf("-c 0 accepted")
	}
}

// TestCurveFixturesServeTheCurves: the curves' fixtures load in a real
// msgmock; fill stores its messages in the 1,000 conversations in turn;
// each rules-N scenario answers the seed's request with its last rule.
func TestCurveFixturesServeTheCurves(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"curve-fixtures", "-journal", "5000", dir}, &out); err != nil {
		t.Fatal(err)
	}
	mm := mocktest.New(t, mocktest.WithFixturesDir(dir))
	if err := run(context.Background(), []string{"fill", "-n", "2500", "-c", "4", mm.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2500 messages in ") {
		t.Errorf("fill's report: %q", out.String())
	}
	// con_c001 got messages 1, 1001 and 2001, none answered.
	status, body := get(t, mm.URL+"/v1/conversations/con_c001/messages")
	if status != 200 || strings.Count(body, `"sender_type":"user"`) != 3 || !strings.Contains(body, "Message 2001 of the fill.") || strings.Contains(body, `"agent"`) {
		t.Fatalf("con_c001: %d %s", status, body)
	}
	if n := len(mm.Requests(t, "/v1/messages")); n != 2500 {
		t.Errorf("journal holds %d of the 2,500 sends (retention.journal 5000)", n)
	}
	for _, sc := range []string{"rules-1", "rules-10", "rules-100", "rules-1000"} {
		req, _ := http.NewRequest(http.MethodPost, mm.URL+"/v1/messages", strings.NewReader(`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","auto_reply":true}`))
		req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mock-Scenario", sc)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		reqs := mm.Requests(t, "/v1/messages")
		if last := reqs[len(reqs)-1]; res.StatusCode != 200 || last.Scenario != sc || last.Rule != "last" {
			t.Errorf("%s: %d, answered by %s/%s", sc, res.StatusCode, last.Scenario, last.Rule)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
