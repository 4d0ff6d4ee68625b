package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const seedKey = "sk_test_51_fakeapikey123456"

// frozenNow is the instant tests freeze the clock at.
var frozenNow = time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)

type testServer struct {
	*httptest.Server
	mock  *mock.Server
	store *scenarios.Store
}

type mockOptions = mock.Options

type serverOption func(*mock.Options)

func withSeed(seed uint64) serverOption { return func(o *mock.Options) { o.Seed = seed } }

// startServer serves fsys (default: the built-in fixtures) over a real
// loopback listener, with the clock frozen at frozenNow and seed 42.
func startServer(t testing.TB, fsys fs.FS, opts ...serverOption) *testServer {
	t.Helper()
	if fsys == nil {
		fsys = fixtures.FS
	}
	store, err := scenarios.NewFSStore("test", fsys, "", nil)
	if err != nil {
		t.Fatalf("load fixtures: %v", err)
	}
	now := frozenNow
	o := mock.Options{Fixtures: store, Clock: clock.New(&now), Seed: 42}
	for _, opt := range opts {
		opt(&o)
	}
	m := mock.NewServer(context.Background(), o)
	ts := httptest.NewServer(m)
	t.Cleanup(func() {
		ts.Close()
		m.Close()
	})
	return &testServer{Server: ts, mock: m, store: store}
}

// mapFS builds a fixtures directory from file name → YAML.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return v
}

// call sends one request; headers are "Name: value" strings.
func (ts *testServer) call(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// sendConversations posts a Conversations API message with the seed's key.
func (ts *testServer) sendConversations(t testing.TB, body string, headers ...string) response {
	t.Helper()
	h := append([]string{"Authorization: Bearer " + seedKey, "Content-Type: application/json"}, headers...)
	return ts.call(t, http.MethodPost, "/v1/messages", body, h...)
}

// golden compares got with testdata/name, rewriting it under -update.
// JSON is compared after indenting, so the files stay readable.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if json.Valid(got) {
		var buf bytes.Buffer
		_ = json.Indent(&buf, got, "", "  ")
		buf.WriteByte('\n')
		got = buf.Bytes()
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// startHTTP serves h on a loopback listener.
func startHTTP(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

// roundTrip sends one request with client, drains and closes the answer,
// and returns its status: the loop body of every load-driving benchmark.
func roundTrip(client *http.Client, method, url, body string, headers map[string]string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}
