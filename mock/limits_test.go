package mock_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/wire"
)

// TestSessionIDsAreBounded: a session id is kept as long as its session, so
// one longer than 128 characters, or with control characters, is refused
// in the API's own shape before anything runs; 128 is served.
func TestSessionIDsAreBounded(t *testing.T) {
	ts := startServer(t, nil)
	long := strings.Repeat("s", wire.MaxSessionID)
	tests := []struct {
		name, method, path, body, session string
		status                            int
		want                              string
	}{
		{"conversations at the limit", "POST", "/v1/messages", validConversationsBody, long, 200, ""},
		{"conversations past it", "POST", "/v1/messages", validConversationsBody, long + "s", 400,
			`{"status":"error","message":"X-Mock-Session must be at most 128 characters.","data":null}`},
		{"workspace past it", "GET", "/api/v1/conversations", "", long + "s", 400,
			`{"detail":"X-Mock-Session must be at most 128 characters."}`},
		{"admin past it", "GET", "/__mock/requests", "", long + "s", 400,
			`{"error":"X-Mock-Session must be at most 128 characters."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.call(t, tt.method, tt.path, tt.body, "Authorization: Bearer "+seedKey,
				"Content-Type: application/json", "X-Mock-Session: "+tt.session)
			if res.Status != tt.status || (tt.want != "" && string(res.Body) != tt.want) {
				t.Fatalf("got %d %s, want %d %s", res.Status, res.Body, tt.status, tt.want)
			}
		})
	}
	// A stream names its session in the query: the same bounds.
	res := ts.call(t, "GET", "/__mock/events/stream?session=a%7Fb", "")
	if want := `{"error":"X-Mock-Session must be printable ASCII."}`; res.Status != 400 || string(res.Body) != want {
		t.Fatalf("a control character: %d %s, want 400 %s", res.Status, res.Body, want)
	}
}

// tryStream opens an SSE stream and reads its first frame (retry:), so
// that it is counted before the next one opens. It returns the status and
// a closer.
func tryStream(t *testing.T, url string, headers ...string) (int, string, func()) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := (&http.Transport{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b), func() {}
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "retry: 1000\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	return 200, "", func() { res.Body.Close() }
}

// TestEventStreamsAreBounded: every stream wakes on each event of its
// session, so a session holds at most engine.MaxSessionStreams and the
// server engine.MaxStreams; past either, the API's own 503 with
// Retry-After. A closed stream frees its place.
func TestEventStreamsAreBounded(t *testing.T) {
	ts := startServer(t, nil)
	key := "access_token=" + seedKey
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for i := 0; i < engine.MaxSessionStreams; i++ {
		status, body, c := tryStream(t, ts.URL+"/v1/events/stream?session=busy&"+key)
		if status != 200 {
			t.Fatalf("stream %d of the session: %d %s", i+1, status, body)
		}
		closers = append(closers, c)
	}
	tests := []struct{ path, want string }{
		{"/v1/events/stream?session=busy&" + key, `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}`},
		{"/api/v1/events/stream?session=busy&" + key, `{"detail":"Service Unavailable"}`},
		{"/__mock/events/stream?session=busy", `{"error":"too many open event streams; close one and retry"}`},
	}
	for _, tt := range tests {
		status, body, _ := tryStream(t, ts.URL+tt.path)
		if status != 503 || body != tt.want {
			t.Errorf("%s past the session's bound: %d %s, want 503 %s", tt.path, status, body, tt.want)
		}
	}
	// A closed stream frees its place (the server notices the close when
	// its next write fails or the request context ends: poll).
	closers[0]()
	closers = closers[1:]
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, c := tryStream(t, ts.URL+"/v1/events/stream?session=busy&"+key)
		if status == 200 {
			closers = append(closers, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's place was never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The server's bound, over many sessions.
	var mu sync.Mutex
	for i := engine.MaxSessionStreams; i < engine.MaxStreams; i++ {
		status, body, c := tryStream(t, fmt.Sprintf("%s/v1/events/stream?session=s%d&%s", ts.URL, i%64, key))
		if status != 200 {
			t.Fatalf("stream %d of the server: %d %s", i+1, status, body)
		}
		mu.Lock()
		closers = append(closers, c)
		mu.Unlock()
	}
	if status, body, _ := tryStream(t, ts.URL+"/v1/events/stream?session=another&"+key); status != 503 {
		t.Fatalf("past the server's bound: %d %s, want 503", status, body)
	}
}

// TestStalledUploadsCannotHoldTheServersMemory: bodies are read as they
// arrive, each byte taken from a server-wide budget; uploads that stall
// hold it only until the body read timeout, and past the budget a request
// is answered the API's own 503 rather than read.
func TestStalledUploadsCannotHoldTheServersMemory(t *testing.T) {
	const newConversation = `{"sender_id":"u","sender_type":"user","text":"hi"}`
	old := wire.BodyReadTimeout
	wire.BodyReadTimeout = 5 * time.Second
	defer func() { wire.BodyReadTimeout = old }()
	ts := startServer(t, mapFS(map[string]string{"s.yaml": "settings:\n  body_limit: 1MiB\n"}))
	addr := strings.TrimPrefix(ts.URL, "http://")
	// Each stalled upload announces 1 MiB and sends all but one byte: eight
	// of them hold the whole budget (8 MiB).
	stall := func() (net.Conn, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(c, "POST /v1/messages HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, 1<<20)
		_, err = c.Write([]byte(strings.Repeat(" ", 1<<20-1)))
		return c, err
	}
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for i := 0; i < 8; i++ {
		c, err := stall()
		if err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	// The server reads what they sent (poll until the budget is taken up:
	// a normal request is then refused).
	deadline := time.Now().Add(10 * time.Second)
	var res response
	for {
		res = ts.call(t, "POST", "/v1/messages", newConversation, "Authorization: Bearer k", "Content-Type: application/json")
		if res.Status == 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res.Status != 503 || res.Header.Get("Retry-After") != "1" ||
		string(res.Body) != `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}` {
		t.Fatalf("with the body budget spent: %d %q %s, want the native 503 with Retry-After", res.Status, res.Header.Get("Retry-After"), res.Body)
	}
	// The stalled uploads time out and let go of it.
	deadline = time.Now().Add(20 * time.Second)
	for {
		res = ts.call(t, "POST", "/v1/messages", newConversation, "Authorization: Bearer k", "Content-Type: application/json")
		if res.Status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.Status != 200 {
		t.Fatalf("after the stalled uploads timed out: %d %s", res.Status, res.Body)
	}
}

// TestClockStaysInRange: a running clock keeps its offset as a Duration,
// which saturates past about 292 years; instants it cannot hold exactly are
// refused with 400 rather than set to somewhere else.
func TestClockStaysInRange(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		body   string
		status int
	}{
		{`{"now":"9999-12-31T23:59:59Z"}`, 400},
		{`{"now":"1969-12-31T23:59:59Z"}`, 400},
		{`{"advance":"2562047h"}`, 400},
		{`{"now":"2199-12-31T23:59:59Z"}`, 200},
		{`{"now":"2026-03-15T14:22:11Z"}`, 200},
	}
	for _, tt := range tests {
		res := ts.call(t, "POST", "/__mock/clock", tt.body)
		if res.Status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.body, res.Status, res.Body, tt.status)
		}
		if tt.status == 200 {
			want := strings.TrimSuffix(strings.Split(tt.body, `"`)[3], "Z")
			if !strings.Contains(string(res.Body), want) {
				t.Errorf("%s: the clock reads %s", tt.body, res.Body)
			}
		}
	}
}
