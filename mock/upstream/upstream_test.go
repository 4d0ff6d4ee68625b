package upstream_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/upstream"
)

// seen is a request as the upstream received it.
type seen struct {
	Method, RequestURI, Path, Host string
	Header                         http.Header
	Body                           string
}

// recorder is an upstream that records what it receives and answers with
// answer (by default 200 and "ok").
type recorder struct {
	srv    *httptest.Server
	answer http.HandlerFunc

	mu  sync.Mutex
	got []seen
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	rec := &recorder{answer: answer}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.got = append(rec.got, seen{Method: r.Method, RequestURI: r.RequestURI, Path: r.URL.Path, Host: r.Host, Header: r.Header.Clone(), Body: string(body)})
		rec.mu.Unlock()
		if rec.answer != nil {
			rec.answer(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.got)
}

func newClient(t *testing.T, base string, timeout time.Duration) *upstream.Client {
	t.Helper()
	c, err := upstream.New(base, timeout)
	if err != nil {
		t.Fatalf("New(%q): %v", base, err)
	}
	return c
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		base, wantBase string // wantBase "": an error
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://api.example.test/v2/", "https://api.example.test/v2"},
		{"http://api.example.test/a%20b", "http://api.example.test/a%20b"},
		{"", ""},
		{"/relative/path", ""},
		{"ftp://example.test", ""},
		{"localhost:8080", ""},
		{"http://", ""},
		{"http://bad host/", ""},
	} {
		c, err := upstream.New(tc.base, time.Second)
		switch {
		case tc.wantBase == "" && err == nil:
			t.Errorf("New(%q) = %s, want an error", tc.base, c.Base())
		case tc.wantBase == "":
			if !strings.Contains(err.Error(), "want an absolute http or https URL") {
				t.Errorf("New(%q): error %q does not say what is wanted", tc.base, err)
			}
		case err != nil:
			t.Errorf("New(%q): %v", tc.base, err)
		case c.Base() != tc.wantBase:
			t.Errorf("New(%q).Base() = %q, want %q", tc.base, c.Base(), tc.wantBase)
		}
	}
}

// TestDoForwards: the method, the path under the base's prefix (escapes
// kept), the query and the body reach the upstream as they came.
func TestDoForwards(t *testing.T) {
	rec := newRecorder(t, nil)
	for _, tc := range []struct {
		name, prefix, method, target, body string
		wantURI, wantPath                  string
	}{
		{"GET with a query", "", "GET", "/v1/conversations?limit=2&after=con_1", "", "/v1/conversations?limit=2&after=con_1", "/v1/conversations"},
		{"POST with a body", "", "POST", "/v1/messages", `{"text":"héllo"}`, "/v1/messages", "/v1/messages"},
		{"under a base path", "/api", "DELETE", "/v1/conversations/con_1", "", "/api/v1/conversations/con_1", "/api/v1/conversations/con_1"},
		{"base path with a trailing slash", "/api/", "PATCH", "/v1/x?q=1", `{}`, "/api/v1/x?q=1", "/api/v1/x"},
		{"an escaped slash stays escaped", "/api", "GET", "/v1/conversations/a%2Fb/messages", "", "/api/v1/conversations/a%2Fb/messages", "/api/v1/conversations/a/b/messages"},
		{"an escaped space and query escapes", "", "GET", "/v1/a%20b?text=x%26y&z=%2F", "", "/v1/a%20b?text=x%26y&z=%2F", "/v1/a b"},
		{"an escaped base path", "/a%20b", "GET", "/c%2Fd", "", "/a%20b/c%2Fd", "/a b/c/d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, rec.srv.URL+tc.prefix, 10*time.Second)
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			before := len(rec.requests())
			res, err := c.Do(context.Background(), httptest.NewRequest(tc.method, tc.target, nil), body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != 200 || string(res.Body) != "ok" {
				t.Fatalf("answer %d %q, want 200 \"ok\"", res.Status, res.Body)
			}
			got := rec.requests()[before:]
			if len(got) != 1 {
				t.Fatalf("the upstream got %d requests, want 1", len(got))
			}
			g := got[0]
			if g.Method != tc.method || g.RequestURI != tc.wantURI || g.Path != tc.wantPath || g.Body != tc.body {
				t.Fatalf("upstream got %s %s (path %q) body %q; want %s %s (path %q) body %q", g.Method, g.RequestURI, g.Path, g.Body, tc.method, tc.wantURI, tc.wantPath, tc.body)
			}
		})
	}
}

// TestDoForwardsEndToEndHeadersOnly: the request's end-to-end headers go
// upstream, all their values; the connection's own and msgmock's X-Mock-*
// do not, and Host is the upstream's.
func TestDoForwardsEndToEndHeadersOnly(t *testing.T) {
	rec := newRecorder(t, nil)
	c := newClient(t, rec.srv.URL, 10*time.Second)
	r := httptest.NewRequest("POST", "http://mock.local/v1/messages", nil)
	forwarded := map[string][]string{
		"Authorization": {"Bearer sk_test_1"},
		"Content-Type":  {"application/json"},
		"Accept":        {"application/json"},
		"User-Agent":    {"my-sdk/1.0"},
		"X-Request-Id":  {"req_1"},
		"X-Multi":       {"a", "b"},
		"Cookie":        {"s=1"},
	}
	dropped := map[string]string{
		"Connection":          "keep-alive, X-Trace",
		"Keep-Alive":          "timeout=5",
		"Proxy-Connection":    "keep-alive",
		"Proxy-Authorization": "Basic dXNlcjpwYXNz",
		"Te":                  "trailers",
		"Trailer":             "X-Checksum",
		"Upgrade":             "websocket",
		"X-Mock-Session":      "ci-42",
		"X-Mock-Scenario":     "flaky",
		"X-Mock-Latency":      "100ms",
	}
	for k, vs := range forwarded {
		r.Header[k] = vs
	}
	for k, v := range dropped {
		r.Header.Set(k, v)
	}
	if _, err := c.Do(context.Background(), r, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	got := rec.requests()[0]
	for k, want := range forwarded {
		if !slices.Equal(got.Header.Values(k), want) {
			t.Errorf("header %s upstream: %q, want %q", k, got.Header.Values(k), want)
		}
	}
	for k := range dropped {
		if v := got.Header.Values(k); len(v) > 0 {
			t.Errorf("header %s reached the upstream: %q", k, v)
		}
	}
	if want := strings.TrimPrefix(rec.srv.URL, "http://"); got.Host != want {
		t.Errorf("Host upstream: %q, want %q", got.Host, want)
	}
}

// TestDoReadsTheAnswer: status, end-to-end headers (all values) and the
// body, decompressed; hop-by-hop and framing headers are not kept.
func TestDoReadsTheAnswer(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Request-Id", "req_9")
		h["Set-Cookie"] = []string{"a=1", "b=2"}
		h.Set("Retry-After", "3")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("Upgrade", "h2c")
		body := []byte(`{"detail":"slow down"}`)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			var zipped bytes.Buffer
			zw := gzip.NewWriter(&zipped)
			_, _ = zw.Write(body)
			_ = zw.Close()
			h.Set("Content-Encoding", "gzip")
			body = zipped.Bytes()
		}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write(body)
	})
	c := newClient(t, rec.srv.URL, 10*time.Second)
	r := httptest.NewRequest("GET", "/v1/conversations", nil)
	r.Header.Set("Accept-Encoding", "br") // the client's own: not forwarded
	res, err := c.Do(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ae := rec.requests()[0].Header.Get("Accept-Encoding"); ae == "br" {
		t.Errorf("the caller's Accept-Encoding reached the upstream")
	}
	if res.Status != 429 || string(res.Body) != `{"detail":"slow down"}` {
		t.Fatalf("answer %d %q, want 429 and the decompressed body", res.Status, res.Body)
	}
	want := http.Header{
		"Content-Type": {"application/json; charset=utf-8"},
		"X-Request-Id": {"req_9"},
		"Set-Cookie":   {"a=1", "b=2"},
		"Retry-After":  {"3"},
	}
	for k, vs := range want {
		if !slices.Equal(res.Header.Values(k), vs) {
			t.Errorf("answer header %s: %q, want %q", k, res.Header.Values(k), vs)
		}
	}
	for _, k := range []string{"Keep-Alive", "Proxy-Authenticate", "Upgrade", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection"} {
		if v := res.Header.Values(k); len(v) > 0 {
			t.Errorf("answer header %s kept: %q", k, v)
		}
	}
}

// TestDoDoesNotFollowRedirects: a redirect is the answer to pass on.
func TestDoDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", status)
		})
		c := newClient(t, rec.srv.URL, 10*time.Second)
		res, err := c.Do(context.Background(), httptest.NewRequest("POST", "/v1/messages", nil), []byte(`{}`))
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if res.Status != status || res.Header.Get("Location") != "/elsewhere" {
			t.Errorf("answer %d Location %q, want %d /elsewhere", res.Status, res.Header.Get("Location"), status)
		}
		if n := len(rec.requests()); n != 1 {
			t.Errorf("%d: the upstream got %d requests, want 1 (not followed)", status, n)
		}
	}
}

// TestDoFailures: no answer in time is ErrTimeout — before the headers or
// in the middle of the body; no HTTP answer at all is ErrUnreachable.
func TestDoFailures(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hold:
		}
	}
	stallBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		hang(w, r)
	}

	// Accepts, then closes without a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = conn.Read(buf)
			conn.Close()
		}
	}()

	refused, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()

	for _, tc := range []struct {
		name string
		base string
		want error
	}{
		{"no headers in time", newRecorder(t, hang).srv.URL, upstream.ErrTimeout},
		{"the body stalls", newRecorder(t, stallBody).srv.URL, upstream.ErrTimeout},
		{"connection refused", refusedURL, upstream.ErrUnreachable},
		{"connection closed without an answer", "http://" + ln.Addr().String(), upstream.ErrUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.base, 200*time.Millisecond)
			res, err := c.Do(context.Background(), httptest.NewRequest("GET", "/v1/conversations", nil), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Do = %+v, %v; want %v", res, err, tc.want)
			}
			other := upstream.ErrUnreachable
			if tc.want == upstream.ErrUnreachable {
				other = upstream.ErrTimeout
			}
			if errors.Is(err, other) {
				t.Fatalf("Do: %v is both %v and %v", err, tc.want, other)
			}
		})
	}
}

// TestDoReadsUpToTheLimit: an answer larger than the limit is read up to it.
func TestDoReadsUpToTheLimit(t *testing.T) {
	const limit = 64 << 20                                   // upstream.go's maxBody
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1MiB
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		for range limit/len(chunk) + 2 {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading
			}
		}
	})
	c := newClient(t, rec.srv.URL, 60*time.Second)
	res, err := c.Do(context.Background(), httptest.NewRequest("GET", "/big", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body) != limit || !bytes.Equal(res.Body[limit-len(chunk):], chunk) {
		t.Fatalf("read %d bytes, want the first %d", len(res.Body), limit)
	}
}

// TestResponseWrite: the answer written back has the status, every header
// value and the body, with a Content-Length that is the body's, over HTTP
// and after a round trip through Do.
func TestResponseWrite(t *testing.T) {
	direct := &upstream.Response{
		Status: 418,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}, "Content-Length": {"999"}},
		Body:   []byte(`{"short":true}`),
	}
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header()["Set-Cookie"] = []string{"a=1", "b=2"}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created "+r.URL.Path)
	})
	client := newClient(t, up.srv.URL, 10*time.Second)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/direct" {
			direct.Write(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		res, err := client.Do(r.Context(), r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		res.Write(w)
	}))
	t.Cleanup(front.Close)

	for _, tc := range []struct {
		path       string
		status     int
		header     http.Header
		body       string
		wantLength string
	}{
		{"/direct", 418, http.Header{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}}, `{"short":true}`, "14"},
		{"/v1/proxied", 201, http.Header{"Content-Type": {"text/plain"}, "Set-Cookie": {"a=1", "b=2"}}, "created /v1/proxied", "19"},
	} {
		res, err := http.Get(front.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || string(body) != tc.body || res.Header.Get("Content-Length") != tc.wantLength {
			t.Errorf("%s: %d %q Content-Length %q; want %d %q %s", tc.path, res.StatusCode, body, res.Header.Get("Content-Length"), tc.status, tc.body, tc.wantLength)
		}
		for k, vs := range tc.header {
			if !slices.Equal(res.Header.Values(k), vs) {
				t.Errorf("%s: header %s %q, want %q", tc.path, k, res.Header.Values(k), vs)
			}
		}
	}
}
