package main

import (
	"bytes"
	"context"
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
