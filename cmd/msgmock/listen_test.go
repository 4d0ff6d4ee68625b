package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Listening beyond loopback is a decision; and however many connections
// clients open, msgmock holds at most --max-connections.

var tokenLine = regexp.MustCompile(`(?m)^msgmock: admin token \(generated for this run, shown once\): (mmk_[a-z2-7]{32})$`)

// loopbackURL is r's URL reached on 127.0.0.1, whatever address it listens on.
func loopbackURL(t *testing.T, r *running) string {
	t.Helper()
	u, err := url.Parse(r.url)
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + u.Port()
}

func TestListeningBeyondLoopback(t *testing.T) {
	inTempDir(t)
	statusWith := func(base string, headers ...string) int {
		status, _ := get(t, base+"/__mock/status", headers...)
		return status
	}
	send := func(base string) int {
		status, _ := post(t, base+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"hi"}`, "Authorization: Bearer k", "Content-Type: application/json")
		return status
	}

	t.Run("on every interface, a token is generated, printed once and required", func(t *testing.T) {
		r := start(t, nil, "--addr", "0.0.0.0:0")
		out := r.stdout.String()
		m := tokenLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no generated token in the output:\n%s", out)
		}
		token := m[1]
		if strings.Count(out, token) != 1 || strings.Contains(r.stderr.String(), token) {
			t.Errorf("the token is printed %d times on stdout, or logged:\n%s\n%s", strings.Count(out, token), out, r.stderr.String())
		}
		if !strings.Contains(out, "protections: admin token on (generated); host check on (accepts localhost, IP addresses") ||
			!strings.Contains(out, "credentials masked in the journal") {
			t.Errorf("the protections are not said:\n%s", out)
		}
		base := loopbackURL(t, r)
		if got := statusWith(base); got != 401 {
			t.Errorf("/__mock/status without the token: %d, want 401", got)
		}
		if got := statusWith(base, "Authorization: Bearer mmk_wrong"); got != 401 {
			t.Errorf("/__mock/status with another token: %d, want 401", got)
		}
		if got := statusWith(base, "Authorization: Bearer "+token); got != 200 {
			t.Errorf("/__mock/status with the token: %d, want 200", got)
		}
		if got := send(base); got != 200 {
			t.Errorf("the API wants no admin token: %d", got)
		}
		// Another run, another token.
		other := start(t, nil, "--addr", "0.0.0.0:0")
		if m2 := tokenLine.FindStringSubmatch(other.stdout.String()); m2 == nil || m2[1] == token {
			t.Errorf("a second run's token: %v (first %s)", m2, token)
		}
	})

	t.Run("an empty --admin-token given on purpose turns it off", func(t *testing.T) {
		r := start(t, nil, "--addr", "0.0.0.0:0", "--admin-token", "")
		out := r.stdout.String()
		if tokenLine.MatchString(out) || !strings.Contains(out, "admin token OFF (--admin-token '')") {
			t.Errorf("output:\n%s", out)
		}
		if got := statusWith(loopbackURL(t, r)); got != 200 {
			t.Errorf("/__mock/status: %d, want 200", got)
		}
	})

	t.Run("a token given is used, not printed", func(t *testing.T) {
		for _, tt := range []struct {
			env  map[string]string
			args []string
			from string
		}{
			{nil, []string{"--admin-token", "s3cret-given"}, "(--admin-token)"},
			{map[string]string{"MSGMOCK_ADMIN_TOKEN": "s3cret-given"}, nil, "(MSGMOCK_ADMIN_TOKEN)"},
		} {
			r := start(t, tt.env, append([]string{"--addr", "0.0.0.0:0"}, tt.args...)...)
			out := r.stdout.String()
			if tokenLine.MatchString(out) || strings.Contains(out, "s3cret-given") || !strings.Contains(out, "admin token on "+tt.from) {
				t.Errorf("output:\n%s", out)
			}
			base := loopbackURL(t, r)
			if statusWith(base) != 401 || statusWith(base, "Authorization: Bearer s3cret-given") != 200 {
				t.Errorf("the given token is not the one required")
			}
		}
	})

	t.Run("on loopback nothing changes", func(t *testing.T) {
		r := start(t, nil)
		if out := r.stdout.String(); strings.Contains(out, "msgmock: ") {
			t.Errorf("output on loopback:\n%s", out)
		}
		if got := statusWith(r.url); got != 200 {
			t.Errorf("/__mock/status: %d, want 200", got)
		}
	})

	t.Run("allowed hosts are checked and listed", func(t *testing.T) {
		r := start(t, map[string]string{"MSGMOCK_ALLOWED_HOST": "compose-svc, devbox.local:8080"}, "--addr", "0.0.0.0:0")
		if out := r.stdout.String(); !strings.Contains(out, ", compose-svc, devbox.local:8080; --allowed-host adds a name)") {
			t.Errorf("output:\n%s", out)
		}
		r = start(t, nil, "--addr", "0.0.0.0:0", "--allowed-host", "msgmock", "--allowed-host", "*")
		if out := r.stdout.String(); !strings.Contains(out, "host check OFF (allowed host *)") {
			t.Errorf("output:\n%s", out)
		}
		for _, bad := range []string{"http://msgmock:8080", "devbox.local:99999", "a b"} {
			var stderr syncBuffer
			err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--allowed-host", bad}, func(string) string { return "" }, &syncBuffer{}, &stderr)
			var code exitCode
			if !errors.As(err, &code) || code != 2 || !strings.Contains(stderr.String(), "allowed-host") {
				t.Errorf("--allowed-host %q: %v, %q", bad, err, stderr.String())
			}
		}
	})
}

// rawConn is a client connection that sends requests by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// closedByServer waits (up to 10s, a failure bound) for the server to
// close the connection.
func (c *rawConn) closedByServer() bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// startQuiet runs serve with args and waits for its start line without a
// request of its own (start's health check would hold a connection).
func startQuiet(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, r.stdout, r.stderr)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the start line", func() bool {
		m := listenLine.FindStringSubmatch(r.stdout.String())
		if m != nil {
			r.url = m[1]
		}
		return m != nil
	})
	return r
}

// tryHealth sends a request for /__mock/health and reports whether it was
// answered 200; the connection then stays open, idle.
func (c *rawConn) tryHealth() bool {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		return false
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == 200
}

// TestConnectionCap: at --max-connections, a new connection closes an idle
// one; when none is idle, the new one is refused at once, and the busy
// ones are not disturbed.
func TestConnectionCap(t *testing.T) {
	inTempDir(t)
	r := startQuiet(t, "--max-connections", "3")
	addr := strings.TrimPrefix(r.url, "http://")

	idle := []*rawConn{dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)}
	for i, c := range idle {
		if !c.tryHealth() {
			t.Fatalf("connection %d under the cap was not served", i+1)
		}
	}
	// A fourth: once the server has seen one of the three go idle (it
	// marks a connection idle just after its answer), it makes room.
	var c4 *rawConn
	waitFor(t, "a fourth connection served", func() bool {
		c4 = dialRaw(t, addr)
		return c4.tryHealth()
	})
	var open []*rawConn
	for _, c := range idle {
		if c.tryHealth() {
			open = append(open, c)
		}
	}
	if len(open) != 2 {
		t.Fatalf("%d of the three idle connections still serve, want 2 (one closed to make room)", len(open))
	}

	// Three busy: each holds an event stream, whose answer has begun.
	busy := append(open, c4)
	streams := map[*rawConn]*bufio.Reader{}
	for _, c := range busy {
		if _, err := io.WriteString(c, "GET /v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(c.r, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("stream: %v %v", res, err)
		}
		streams[c] = bufio.NewReader(res.Body)
	}
	c5 := dialRaw(t, addr)
	if c5.tryHealth() || !c5.closedByServer() {
		t.Fatalf("a connection past the cap, none idle, was not refused")
	}
	// One stream ends: a new connection gets its place, and the streams
	// still open carry what it sends.
	busy[2].Close()
	var c6 *rawConn
	waitFor(t, "a connection admitted once a place is free", func() bool {
		c6 = dialRaw(t, addr)
		return c6.tryHealth()
	})
	body := `{"sender_id":"u","sender_type":"user","text":"to every stream","auto_reply":false}`
	fmt.Fprintf(c6, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if res, err := http.ReadResponse(c6.r, nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("send: %v %v", res, err)
	}
	for i, c := range busy[:2] {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			line, err := streams[c].ReadString('\n')
			if err != nil {
				t.Fatalf("stream %d: %v", i+1, err)
			}
			if strings.Contains(line, "to every stream") {
				break
			}
		}
	}
	waitFor(t, "the refusal logged", func() bool {
		return strings.Contains(r.stderr.String(), "connection refused: none of the --max-connections is idle")
	})
}
