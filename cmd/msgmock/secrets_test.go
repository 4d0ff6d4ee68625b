package main

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Credentials outside the journal, over real HTTP: what msgmock record
// prints and writes, and what a pass-through failure logs.

// recording is a `msgmock record` run by run, with its output.
type recording struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() error
}

// startRecording runs `msgmock record` with args (besides --addr) and
// waits for its start line.
func startRecording(t *testing.T, args ...string) *recording {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recording{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"record", "--addr", "127.0.0.1:0", "--timeout", "2s"}, args...), func(string) string { return "" }, rec.stdout, rec.stderr)
	}()
	stopped := false
	var stopErr error
	rec.stop = func() error {
		if !stopped {
			stopped = true
			http.DefaultClient.CloseIdleConnections()
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() { _ = rec.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := recordingLine.FindStringSubmatch(rec.stdout.String()); m != nil {
			rec.url = m[1]
			return rec
		}
		select {
		case err := <-done:
			stopped, stopErr = true, err
			return rec
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no recording line: %q %q", rec.stdout.String(), rec.stderr.String())
	return nil
}

// TestRecordKeepsEveryCredentialOffTheDisk: the upstream URL's password and
// query key, the client's key, cookie and access_token — echoed back by
// the upstream in other cases — appear neither in the start line, the log
// nor either file written.
func TestRecordKeepsEveryCredentialOffTheDisk(t *testing.T) {
	const (
		password = "Up-Pass-W0rd-9931"
		upKey    = "upkey_5f3a9c1e77"
		apiKey   = "sk_live_TOPSECRET_4242"
		cookie   = "ck_9f8e7d6c5b4a"
		qtoken   = "qt_0123456789ab"
	)
	// The upstream echoes every credential it got, in other cases, in a
	// 401: the client's (forwarded), or the URL's Basic pair when the
	// client sends no Authorization of its own.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var echoed []string
		if user, pw, ok := r.BasicAuth(); ok {
			if user != "rec" || pw != password {
				http.Error(w, "bad upstream credentials", http.StatusForbidden)
				return
			}
			echoed = append(echoed, strings.ToLower(pw), r.Header.Get("Authorization"))
		} else {
			echoed = append(echoed, strings.ToUpper(r.Header.Get("Authorization")))
		}
		if c, err := r.Cookie("sid"); err == nil {
			echoed = append(echoed, strings.ToUpper(c.Value))
		}
		if q := r.URL.Query().Get("access_token"); q != "" {
			echoed = append(echoed, strings.ToUpper(q))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "upsid=UPCOOKIE_77aa88bb; Path=/")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"status":"error","message":"`+strings.Join(echoed, " / ")+` / upcookie_77aa88bb: not valid here.","data":null}`)
	}))
	defer up.Close()
	upstreamURL := strings.Replace(up.URL, "http://", "http://rec:"+password+"@", 1) + "/?api_key=" + upKey
	dir := filepath.Join(t.TempDir(), "rec")
	rec := startRecording(t, "--upstream", upstreamURL, "--out", dir)
	if rec.url == "" {
		t.Fatalf("record did not start: %q", rec.stderr.String())
	}
	status, body := post(t, rec.url+"/v1/messages?access_token="+qtoken, `{"sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer "+apiKey, "Content-Type: application/json", "Cookie: sid="+cookie+"; theme=dark")
	if status != 401 || !strings.Contains(string(body), strings.ToUpper(apiKey)) {
		t.Fatalf("the client gets the real answer: %d %s", status, body)
	}
	status, body = post(t, rec.url+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"with the URL's credentials"}`, "Content-Type: application/json")
	if status != 401 || !strings.Contains(string(body), strings.ToLower(password)) {
		t.Fatalf("the client gets the real answer: %d %s", status, body)
	}
	if err := rec.stop(); err != nil {
		t.Fatalf("record: %v\n%s", err, rec.stderr.String())
	}
	if !strings.Contains(rec.stdout.String(), "(upstream: http://rec:xxxxx@127.0.0.1:") || !strings.Contains(rec.stdout.String(), "api_key=xxxxx") {
		t.Errorf("the start line does not show the upstream redacted: %s", rec.stdout.String())
	}
	secrets := []string{password, strings.ToLower(password), upKey, apiKey, strings.ToUpper(apiKey), cookie, strings.ToUpper(cookie), qtoken,
		strings.ToUpper(qtoken), "upcookie_77aa88bb", base64.StdEncoding.EncodeToString([]byte("rec:" + password))}
	for _, s := range secrets {
		for what, text := range map[string]string{"stdout": rec.stdout.String(), "stderr": rec.stderr.String()} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q:\n%s", what, s, text)
			}
		}
		assertNoSecret(t, dir, s)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "recorded-scenario.yaml"))
	for _, want := range []string{"message: '<redacted> / <redacted> / <redacted> / <redacted>: not valid here.'",
		"message: '<redacted> / Basic <redacted> / <redacted>: not valid here.'"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the rules do not keep the answers with each credential redacted (%s):\n%s", want, data)
		}
	}
	conv, _ := os.ReadFile(filepath.Join(dir, "recorded-conversations.yaml"))
	if !strings.Contains(string(conv), "from http://rec:xxxxx@127.0.0.1:") {
		t.Errorf("the conversations file does not name the upstream redacted:\n%s", conv)
	}
}

// TestRecordRefusesToReplaceARecording: --out holding a recording is
// refused (exit 2, the files untouched) unless --force, which replaces it.
func TestRecordRefusesToReplaceARecording(t *testing.T) {
	up := newCountingUpstream(t)
	dir := t.TempDir()
	first := startRecording(t, "--upstream", up.URL, "--out", dir)
	if status, _ := post(t, first.url+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"first"}`, "Authorization: Bearer k", "Content-Type: application/json"); status != 200 {
		t.Fatalf("send: %d", status)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "recorded-scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	again := startRecording(t, "--upstream", up.URL, "--out", dir)
	var code exitCode
	if err := again.stop(); !errors.As(err, &code) || code != 2 || again.url != "" {
		t.Fatalf("recording again into %s: %v (url %q)", dir, err, again.url)
	}
	if msg := again.stderr.String(); !strings.Contains(msg, "holds a recording already") || !strings.Contains(msg, "--force") {
		t.Errorf("the refusal says %q", msg)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "recorded-scenario.yaml")); string(after) != string(before) {
		t.Errorf("the earlier recording changed")
	}

	forced := startRecording(t, "--upstream", up.URL, "--out", dir, "--force")
	if forced.url == "" {
		t.Fatalf("--force did not start: %s", forced.stderr.String())
	}
	if err := forced.stop(); err != nil {
		t.Fatal(err)
	}
	conv, _ := os.ReadFile(filepath.Join(dir, "recorded-conversations.yaml"))
	if !strings.Contains(string(conv), "conversations: []") {
		t.Errorf("--force did not replace the recording:\n%s", conv)
	}
}

// TestPassthroughFailureLogsNoCredential: the warning logged when the
// upstream cannot be reached names it without its password or key.
func TestPassthroughFailureLogsNoCredential(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://ops:Hunter2-Hunter2@" + ln.Addr().String() + "/base?api_key=pk_live_abcdef123456"
	ln.Close()
	m := start(t, nil, "--fixtures", passthroughFixtures(t, refused, "2s"))
	if status, body := post(t, m.url+"/v1/messages?access_token=tok_ABCDEFGH1234", `{"sender_id":"u","sender_type":"user","text":"to the upstream"}`,
		"Authorization: Bearer k", "Content-Type: application/json"); status != 502 {
		t.Fatalf("a refused upstream: %d %s", status, body)
	}
	waitFor(t, "the warning logged", func() bool { return strings.Contains(m.stderr.String(), "passthrough: no answer") })
	logs := m.stderr.String()
	for _, s := range []string{"Hunter2-Hunter2", "pk_live_abcdef123456", "tok_ABCDEFGH1234"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log shows %q:\n%s", s, logs)
		}
	}
	if !strings.Contains(logs, "ops:xxxxx@") {
		t.Errorf("the log does not name the upstream redacted:\n%s", logs)
	}
}

// TestRecordRefusesABadUpstreamWithoutShowingItsPassword: the usage error
// for an upstream that is not an http(s) URL names it redacted.
func TestRecordRefusesABadUpstreamWithoutShowingItsPassword(t *testing.T) {
	var stdout, stderr syncBuffer
	err := run(context.Background(), []string{"record", "--upstream", "ftp://ops:Secr3t-Passw0rd@files.example/?token=tk_0123456789", "--out", t.TempDir()},
		func(string) string { return "" }, &stdout, &stderr)
	var code exitCode
	if !errors.As(err, &code) || code != 2 {
		t.Fatalf("record with an ftp upstream: %v", err)
	}
	msg := stderr.String()
	if strings.Contains(msg, "Secr3t-Passw0rd") || strings.Contains(msg, "tk_0123456789") || !strings.Contains(msg, "ftp://ops:xxxxx@files.example/?token=xxxxx") {
		t.Errorf("the refusal says %q", msg)
	}
}
