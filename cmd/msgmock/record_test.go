package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// msgmock record, the passthrough setting, msgmock verify and the 502/504
// of an upstream that fails, over real HTTP: the upstreams are real
// msgmocks (run) or httptest servers.

var recordingLine = regexp.MustCompile(`recording on (http://\S+) `)

// startRecord runs `msgmock record` on a free port and returns its URL and
// a function that stops it (and waits for the last write).
func startRecord(t *testing.T, upstreamURL, dir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"record", "--upstream", upstreamURL, "--out", dir, "--addr", "127.0.0.1:0", "--timeout", "2s"},
			func(string) string { return "" }, stdout, stderr)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			http.DefaultClient.CloseIdleConnections()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("record: %v\n%s", err, stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := recordingLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stop
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no recording line: %q %q", stdout.String(), stderr.String())
	return "", nil
}

const secretKey = "sk_live_TOPSECRET_4242"

func TestRecordServesWhatTheUpstreamAnswered(t *testing.T) {
	// The upstream: a msgmock on a virtual clock, so that its AI reply
	// lands when the test says.
	up := start(t, nil, "--fixtures", fixturesDir(t), "--clock", "virtual", "--seed", "5")
	dir := filepath.Join(t.TempDir(), "recorded")
	rec, stop := startRecord(t, up.url, dir)

	auth, jsonCT := "Authorization: Bearer "+secretKey, "Content-Type: application/json"
	if status, body := post(t, rec+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Where is my parcel?"}`, auth, jsonCT); status != 200 {
		t.Fatalf("send through the recorder: %d %s", status, body)
	}
	// A msgmock serving the directory picks up what is recorded, live.
	served := start(t, nil, "--fixtures", dir)
	waitFor(t, "the recorded message served", func() bool {
		_, body := get(t, served.url+"/v1/conversations/con_9s2kd81/messages", "Authorization: Bearer k")
		return strings.Contains(string(body), "Where is my parcel?")
	})

	// An error answer to a send, with the header that matters.
	failing := `{"sender_id":"usr_9","sender_type":"user","text":"please fail"}`
	status, failBody := send(t, "POST", rec+"/v1/messages", failing, auth, jsonCT, "Prefer: code=503")
	if status != 503 {
		t.Fatalf("a 503 through the recorder: %d %s", status, failBody)
	}
	status, wsBody := post(t, rec+"/api/v1/messages", `{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92","tags":["q3"]}}`,
		"x-api-key: "+secretKey, jsonCT)
	if status != 201 {
		t.Fatalf("workspace send: %d %s", status, wsBody)
	}
	var created []struct {
		ConversationID string `json:"conversation_id"`
	}
	if err := json.Unmarshal(wsBody, &created); err != nil || len(created) != 1 {
		t.Fatalf("workspace 201: %s", wsBody)
	}
	// The AI reply lands upstream; the recorder sees it in the listing.
	if status, body := post(t, up.url+"/__mock/clock", `{"advance":"5s"}`); status != 200 {
		t.Fatalf("clock: %d %s", status, body)
	}
	_, upList := get(t, rec+"/v1/conversations/con_9s2kd81/messages", auth)
	_, upWS := get(t, rec+"/api/v1/messages?conversation_id="+created[0].ConversationID, "x-api-key: "+secretKey)
	if !strings.Contains(string(upList), `"sender_type":"agent"`) || strings.Count(string(upList), `"id":`) != 5 {
		t.Fatalf("the upstream's listing: %s", upList)
	}
	stop()

	// What was written loads, names no credential, and is read atomically.
	var out syncBuffer
	if err := run(context.Background(), []string{"validate", dir}, os.Getenv, &out, &out); err != nil {
		t.Fatalf("validate %s: %v\n%s", dir, err, out.String())
	}
	assertNoSecret(t, dir, secretKey)

	// Served, the recording gives the same answers as the upstream did.
	replay := start(t, nil, "--fixtures", dir, "--scenario", "recorded")
	if _, body := get(t, replay.url+"/v1/conversations/con_9s2kd81/messages", "Authorization: Bearer any"); string(body) != string(upList) {
		t.Errorf("the conversation served\n%s\nthe upstream's\n%s", body, upList)
	}
	if _, body := get(t, replay.url+"/api/v1/messages?conversation_id="+created[0].ConversationID, "Authorization: Bearer any"); string(body) != string(upWS) {
		t.Errorf("the Workspace conversation served\n%s\nthe upstream's\n%s", body, upWS)
	}
	// The recorded rule answers the same send with the same error, without Prefer.
	req, _ := http.NewRequest("POST", replay.url+"/v1/messages", strings.NewReader(failing))
	req.Header.Set("Authorization", "Bearer any")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || string(body) != string(failBody) || res.Header.Get("Retry-After") != "1" {
		t.Errorf("the recorded error: %d %s (Retry-After %q), want 503 %s", res.StatusCode, body, res.Header.Get("Retry-After"), failBody)
	}
	// …as many times as the upstream gave it: then the send goes through.
	if status, body := post(t, replay.url+"/v1/messages", failing, "Authorization: Bearer any", jsonCT); status != 200 {
		t.Errorf("after the recorded error: %d %s", status, body)
	}
}

// assertNoSecret fails if any file below dir holds secret.
func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if strings.Contains(string(data), secret) {
			t.Errorf("%s holds the credential:\n%s", path, data)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walk %s: %d files, %v", dir, n, err)
	}
}

func TestRecordRedactsCredentialsTheUpstreamEchoes(t *testing.T) {
	// An upstream that says the key back in its error.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"status":"error","message":"`+r.Header.Get("Authorization")+` is not valid here.","data":null}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	rec, stop := startRecord(t, up.URL, dir)
	status, body := post(t, rec+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer "+secretKey, "Content-Type: application/json")
	if status != 401 || !strings.Contains(string(body), secretKey) {
		t.Fatalf("the client gets the real answer: %d %s", status, body)
	}
	stop()
	assertNoSecret(t, dir, secretKey)
	data, _ := os.ReadFile(filepath.Join(dir, "recorded-scenario.yaml"))
	if !strings.Contains(string(data), "message: <redacted> is not valid here.") {
		t.Errorf("the rule does not keep the answer with the key redacted:\n%s", data)
	}
}

// countingUpstream answers every request with a fixed envelope and keeps
// what it was asked.
type countingUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newCountingUpstream(t *testing.T) *countingUpstream {
	u := &countingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "real")
		_, _ = io.WriteString(w, `{"from":"upstream"}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *countingUpstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

func passthroughFixtures(t *testing.T, upstreamURL, timeout string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := "settings:\n  passthrough: {url: \"" + upstreamURL + "\", timeout: " + timeout + "}\n" +
		"conversations:\n  - id: con_local\n  - id: conv_local\n    api: workspace\n" +
		"scenario:\n  name: default\n  rules:\n    - name: scripted\n      when: {text: {contains: scripted}}\n      respond: {status: 200}\n"
	if err := os.WriteFile(filepath.Join(dir, "mix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPassthroughForwardsOnlyWhatTheFixturesDoNotCover(t *testing.T) {
	up := newCountingUpstream(t)
	m := start(t, nil, "--fixtures", passthroughFixtures(t, up.URL, "2s"))
	auth, jsonCT := "Authorization: Bearer k", "Content-Type: application/json"
	for _, tt := range []struct {
		method, path, body string
		forwarded          bool
	}{
		{"POST", "/v1/messages", `{"conversation_id":"con_local","sender_id":"u","sender_type":"user","text":"scripted hello"}`, false},
		{"POST", "/v1/messages", `{"conversation_id":"con_local","sender_id":"u","sender_type":"user","text":"nothing scripts this"}`, true},
		{"POST", "/v1/messages", `{"conversation_id":"con_remote","sender_id":"u","sender_type":"user","text":"scripted, but not here"}`, true},
		{"GET", "/v1/conversations/con_local/messages", "", false},
		{"GET", "/v1/conversations/con_remote/messages?limit=5", "", true},
		{"POST", "/api/v1/messages", `{"content":{"content":"scripted","sender_id":"u"},"conversation_id":"conv_local"}`, false},
		{"POST", "/api/v1/messages", `{"content":{"content":"free","sender_id":"u"}}`, true},
		{"GET", "/api/v1/messages/msg_0000000000000000", "", true},
		{"POST", "/v1/messages", `{"sender_id":"u","sender_type":"user"}`, false}, // a 400 msgmock gives itself
	} {
		before := len(up.requests())
		status, body := send(t, tt.method, m.url+tt.path, tt.body, auth, jsonCT, "X-Mock-Session: pt")
		got := len(up.requests()) - before
		switch {
		case tt.forwarded && (got != 1 || status != 200 || string(body) != `{"from":"upstream"}`):
			t.Errorf("%s %s: want it forwarded; upstream saw %d, answered %d %s", tt.method, tt.path, got, status, body)
		case !tt.forwarded && got != 0:
			t.Errorf("%s %s: forwarded, want msgmock's own answer (%d %s)", tt.method, tt.path, status, body)
		}
	}
	// msgmock's own headers stay home; the body goes as it came.
	for _, r := range up.requests() {
		if strings.Contains(r, "X-Mock") {
			t.Errorf("forwarded %q", r)
		}
	}
	if got := up.requests()[0]; got != `POST /v1/messages {"conversation_id":"con_local","sender_id":"u","sender_type":"user","text":"nothing scripts this"}` {
		t.Errorf("first forwarded request: %q", got)
	}
	_, journal := get(t, m.url+"/__mock/requests", "X-Mock-Session: pt")
	if n := strings.Count(string(journal), `"rule":"passthrough"`); n != 5 {
		t.Errorf("journal shows %d passthrough requests, want 5", n)
	}
}

func TestUpstreamThatFailsGets502And504(t *testing.T) {
	// Refused: a port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	// Hanging: answers nothing until the test ends.
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)

	for _, tt := range []struct {
		name, upstream string
		status         int
		conv, ws       string
	}{
		{"refused", refused, 502, `{"status":"error","message":"Bad Gateway.","data":null}`, `{"detail":"Bad Gateway"}`},
		{"hanging", hanging.URL, 504, `{"status":"error","message":"Gateway Timeout.","data":null}`, `{"detail":"Gateway Timeout"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := start(t, nil, "--fixtures", passthroughFixtures(t, tt.upstream, "300ms"))
			status, body := post(t, m.url+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"to the upstream"}`,
				"Authorization: Bearer k", "Content-Type: application/json")
			if status != tt.status || string(body) != tt.conv {
				t.Errorf("Conversations API: %d %s, want %d %s", status, body, tt.status, tt.conv)
			}
			status, body = post(t, m.url+"/api/v1/messages", `{"content":{"content":"to the upstream","sender_id":"u"}}`,
				"Authorization: Bearer k", "Content-Type: application/json")
			if status != tt.status || string(body) != tt.ws {
				t.Errorf("Workspace API: %d %s, want %d %s", status, body, tt.status, tt.ws)
			}

			// Recording through the same upstream answers the same, and
			// records the failure as a rule.
			dir := t.TempDir()
			rec, stop := startRecord(t, tt.upstream, dir)
			status, body = post(t, rec+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"to the upstream"}`,
				"Authorization: Bearer k", "Content-Type: application/json")
			if status != tt.status || string(body) != tt.conv {
				t.Errorf("record: %d %s, want %d %s", status, body, tt.status, tt.conv)
			}
			stop()
			data, _ := os.ReadFile(filepath.Join(dir, "recorded-scenario.yaml"))
			if !strings.Contains(string(data), "status: "+itoa(tt.status)) || !strings.Contains(string(data), "text: to the upstream") {
				t.Errorf("the failure is not recorded:\n%s", data)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestVerifyFindsDriftAndPassesWithout(t *testing.T) {
	fixtures := fixturesDir(t)
	script := filepath.Join(t.TempDir(), "contract.yaml")
	if err := os.WriteFile(script, []byte(`requests:
  - name: send into the seed's conversation
    method: POST
    path: /v1/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456, Content-Type: application/json}
    body: {conversation_id: con_9s2kd81, sender_id: usr_82hd92, sender_type: user, text: "Can you summarize my last 5 calls?", auto_reply: false}
  - name: start a conversation
    method: POST
    path: /v1/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456, Content-Type: application/json}
    body: {sender_id: usr_82hd92, sender_type: user, text: Hello, auto_reply: false}
    save: {conv: data.conversation_id}
  - name: read it back
    path: /v1/conversations/${conv}/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456}
  - name: the seed's conversation
    path: /v1/conversations/con_9s2kd81/messages?limit=3
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456}
  - name: a documented 400
    method: POST
    path: /v1/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456, Content-Type: application/json}
    body: {sender_id: usr_82hd92, sender_type: user}
  - name: an unknown conversation
    path: /v1/conversations/con_nope123/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456}
  - name: a Workspace send
    method: POST
    path: /api/v1/messages
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456, Content-Type: application/json}
    body: {content: {content: Summarise the deck, sender_id: usr_82hd92}}
    save: {ws: 0.conversation_id}
  - name: the Workspace conversation
    path: /api/v1/messages?conversation_id=${ws}
    headers: {Authorization: Bearer sk_test_51_fakeapikey123456}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	verifyAgainst := func(upstreamURL string) (string, error) {
		var out syncBuffer
		err := run(context.Background(), []string{"verify", "--upstream", upstreamURL, "--fixtures", fixtures, script}, os.Getenv, &out, &out)
		return out.String(), err
	}

	// The same service: no drift, exit 0.
	same := start(t, nil, "--fixtures", fixtures, "--seed", "11")
	if out, err := verifyAgainst(same.url); err != nil || !strings.Contains(out, "no drift") || strings.Count(out, "\nok ") != 8 {
		t.Fatalf("against the same service: %v\n%s", err, out)
	}

	// Plant drifts: the upstream's seed conversation says something else,
	// and its 404 message changed.
	drifted := t.TempDir()
	if err := os.CopyFS(drifted, os.DirFS(fixtures)); err != nil {
		t.Fatal(err)
	}
	conv, _ := os.ReadFile(filepath.Join(drifted, "conversations.yaml"))
	conv = []byte(strings.Replace(string(conv), "Of course. I can see your account and your recent calls.", "Sure, one moment.", 1))
	if err := os.WriteFile(filepath.Join(drifted, "conversations.yaml"), conv, 0o644); err != nil {
		t.Fatal(err)
	}
	other := start(t, nil, "--fixtures", drifted)
	out, err := verifyAgainst(other.url)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("a drift must exit 1: %v\n%s", err, out)
	}
	for _, want := range []string{
		"DRIFT the seed's conversation (GET /v1/conversations/con_9s2kd81/messages?limit=3)",
		`body $.data.messages[0].text: upstream "Sure, one moment.", msgmock "Of course. I can see your account and your recent calls."`,
		"1 of 8 requests differ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}

	// A status drift: the upstream answers every send with 500.
	failing := start(t, nil, "--fixtures", fixtures, "--scenario", "conversations-500")
	out, err = verifyAgainst(failing.url)
	if !errors.As(err, &code) || code != 1 || !strings.Contains(out, "status: upstream 500, msgmock 200") {
		t.Fatalf("a status drift: %v\n%s", err, out)
	}
}

// TestRecordedFilesAreAlwaysWhole reads the directory without pause while
// the recorder rewrites it, batch after batch of sends: every read loads (a
// half-written file would not), and each batch reaches the file.
func TestRecordedFilesAreAlwaysWhole(t *testing.T) {
	up := start(t, nil, "--fixtures", fixturesDir(t))
	dir := t.TempDir()
	rec, stop := startRecord(t, up.url, dir)
	file := filepath.Join(dir, "recorded-conversations.yaml")
	var reads atomic.Int64
	var readErr atomic.Value
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			data, err := os.ReadFile(file)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err == nil {
				_, err = scenarios.Load(fstest.MapFS{"c.yaml": {Data: data}}, "")
			}
			if err != nil {
				readErr.Store(fmt.Errorf("read %d: %v\n%s", reads.Load()+1, err, data))
				return
			}
			reads.Add(1)
		}
	}()
	const batches, perBatch = 4, 50
	for b := 0; b < batches; b++ {
		for i := 0; i < perBatch; i++ {
			n := b*perBatch + i
			status, body := post(t, rec+"/v1/messages", fmt.Sprintf(`{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"message %d","auto_reply":false}`, n),
				"Authorization: Bearer k", "Content-Type: application/json")
			if status != 200 {
				t.Fatalf("send %d: %d %s", n, status, body)
			}
		}
		last := fmt.Sprintf("text: message %d\n", (b+1)*perBatch-1)
		waitFor(t, "batch "+fmt.Sprint(b+1)+" in the file", func() bool {
			data, _ := os.ReadFile(file)
			return strings.Contains(string(data), last)
		})
	}
	close(quit)
	<-done
	stop()
	if err, _ := readErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	if reads.Load() < batches {
		t.Fatalf("only %d reads", reads.Load())
	}
}
