package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenLine = regexp.MustCompile(`(?m)listening on (http://\S+) \(fixtures: ([^;]*)(?:; [^)]*)?\)$`)

type running struct {
	url    string
	source string
	stop   func() error
	stdout *syncBuffer
	stderr *syncBuffer
}

// start calls run on 127.0.0.1:0 (plus args), waits for the line that names
// the URL and for /__mock/health, and returns a way to stop it.
func start(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	getenv := func(k string) string { return env[k] }
	if _, ok := env["MSGMOCK_ADDR"]; !ok {
		args = append([]string{"--addr", "127.0.0.1:0"}, args...)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), getenv, stdout, stderr) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			// An unused keep-alive connection of the test's client would
			// count as new, not idle, and hold Shutdown for seconds.
			http.DefaultClient.CloseIdleConnections()
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(15 * time.Second):
				stopErr = errors.New("run did not return after its context ended")
			}
		})
		return stopErr
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			r := &running{url: m[1], source: m[2], stop: stop, stdout: stdout, stderr: stderr}
			waitHealthy(t, r.url)
			t.Cleanup(func() { _ = stop() })
			return r
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before listening: %v\nstderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no listening line; stdout=%q stderr=%q", stdout.String(), stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		res, err := http.Get(url + "/__mock/health")
		if err == nil {
			res.Body.Close()
			// 401: up, behind an admin token.
			if res.StatusCode == 200 || res.StatusCode == 401 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s/__mock/health never answered", url)
}

func post(t *testing.T, url, body string, headers ...string) (int, []byte) {
	t.Helper()
	return send(t, "POST", url, body, headers...)
}

func get(t *testing.T, url string, headers ...string) (int, []byte) {
	t.Helper()
	return send(t, "GET", url, "", headers...)
}

func send(t *testing.T, method, url, body string, headers ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inTempDir runs the test from an empty directory, so ./fixtures is absent.
func inTempDir(t *testing.T) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
}

func TestRunServesBuiltinFixturesAndShutsDown(t *testing.T) {
	inTempDir(t)
	r := start(t, nil)
	if r.source != "built-in" {
		t.Errorf("fixtures source %q, want built-in (no ./fixtures here)", r.source)
	}
	if !strings.HasPrefix(r.url, "http://127.0.0.1:") || strings.HasSuffix(r.url, ":0") {
		t.Errorf("URL %q should name the real port", r.url)
	}
	status, body := post(t, r.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json")
	if status != 200 {
		t.Fatalf("StatusCode=%d, want 200: %s", status, body)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("run after shutdown: %v, want nil (exit 0)", err)
	}
	if !strings.Contains(r.stderr.String(), "msg=request method=POST path=/v1/messages status=200") {
		t.Errorf("no request log line in %q", r.stderr.String())
	}
}

func TestRunPrefersLocalFixturesDir(t *testing.T) {
	inTempDir(t)
	if err := os.MkdirAll("fixtures", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("fixtures/c.yaml", []byte("conversations:\n  - id: con_local1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, nil)
	if r.source != "fixtures" {
		t.Errorf("fixtures source %q, want fixtures", r.source)
	}
	status, _ := post(t, r.url+"/v1/messages", `{"conversation_id":"con_local1","sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer k", "Content-Type: application/json")
	if status != 200 {
		t.Errorf("local fixture conversation: StatusCode=%d, want 200", status)
	}
	// The start line says what was loaded, and that the built-ins were not.
	want := "(fixtures: fixtures; 1 file, 0 scenarios, 1 conversation; the built-in fixtures are not loaded: 'msgmock init DIR' copies them)"
	if !strings.Contains(r.stdout.String(), want) {
		t.Errorf("start line %q lacks %q", r.stdout.String(), want)
	}
	res, err := http.Get(r.url + "/__mock/status")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Loaded map[string]int }
	_ = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if st.Loaded["files"] != 1 || st.Loaded["scenarios"] != 0 || st.Loaded["conversations"] != 1 {
		t.Errorf("status loaded %v", st.Loaded)
	}
}

func TestEnvironmentTwins(t *testing.T) {
	inTempDir(t)
	r := start(t, map[string]string{
		"MSGMOCK_ADDR":        "127.0.0.1:0",
		"MSGMOCK_NOW":         "2026-03-15T14:22:11Z",
		"MSGMOCK_LOG_FORMAT":  "json",
		"MSGMOCK_ADMIN_TOKEN": "from-env",
	}, "--admin-token", "from-flag")
	res, err := http.Get(r.url + "/__mock/status")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("admin without token: StatusCode=%d, want 401", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", r.url+"/__mock/clock", nil)
	req.Header.Set("Authorization", "Bearer from-flag") // the flag wins over the environment
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"now":"2026-03-15T14:22:11Z"`) {
		t.Errorf("clock: %d %s", res.StatusCode, body)
	}
	// Log lines are written out within logFlushEvery.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.stderr.String(), `"msg":"request"`) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(r.stderr.String(), `"msg":"request"`) {
		t.Errorf("MSGMOCK_LOG_FORMAT=json ignored: %s", r.stderr.String())
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	inTempDir(t)
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "s.yaml"), []byte("settings:\n  auht: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad env value", nil, map[string]string{"MSGMOCK_SEED": "many"}, "MSGMOCK_SEED"},
		{"bad --now", []string{"--now", "tomorrow"}, nil, "--now"},
		{"bad --log-format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"unknown scenario", []string{"--scenario", "nope"}, nil, `"nope"`},
		{"missing fixtures dir", []string{"--fixtures", "/does/not/exist"}, nil, "fixtures"},
		{"invalid fixtures", []string{"--fixtures", bad}, nil, "s.yaml:2:3: unknown key"},
		{"busy address", []string{"--addr", "256.0.0.1:1"}, nil, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...), getenv, &stdout, &stderr)
			if err == nil {
				t.Fatalf("run succeeded, want an error mentioning %s", tt.want)
			}
			if all := err.Error() + stderr.String(); !strings.Contains(all, tt.want) {
				t.Errorf("error %q / stderr %q does not mention %s", err, stderr.String(), tt.want)
			}
		})
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "msgmock ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	var code exitCode
	if err := run(context.Background(), []string{"frobnicate"}, os.Getenv, io.Discard, io.Discard); !errors.As(err, &code) || code != 2 {
		t.Errorf("unknown command: %v, want exit 2", err)
	}
}

func TestValidate(t *testing.T) {
	good := t.TempDir()
	_ = os.WriteFile(filepath.Join(good, "c.yaml"), []byte("conversations:\n  - id: con_a\n"), 0o644)
	bad := t.TempDir()
	_ = os.WriteFile(filepath.Join(bad, "c.yaml"), []byte("conversations:\n  - id: con_a\n    colour: blue\n"), 0o644)
	_ = os.WriteFile(filepath.Join(bad, "s.yaml"), []byte("settings:\n  body_limit: lots\n"), 0o644)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"validate", good}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatalf("valid dir: %v (%s)", err, out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"validate", bad}, os.Getenv, &out, io.Discard)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("invalid dir: %v, want exit 1", err)
	}
	want := bad + "/c.yaml:3:5: unknown key \"colour\" in conversations[0] (allowed: id, api, workspace_id, created_at, messages, generate)\n" +
		bad + "/s.yaml:2:15: settings.body_limit: invalid size \"lots\" (use bytes or a unit: 512KiB, 1MiB, 2MB)\n"
	if out.String() != want {
		t.Errorf("validate output\ngot:\n%s\nwant:\n%s", out.String(), want)
	}
	// A rule an earlier one always pre-empts is a warning, not a failure.
	warn := t.TempDir()
	_ = os.WriteFile(filepath.Join(warn, "s.yaml"), []byte("scenario:\n  rules:\n    - respond: {status: 503}\n    - {when: {text: x}, respond: {status: 500}}\n"), 0o644)
	out.Reset()
	if err := run(context.Background(), []string{"validate", warn}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatalf("a directory with a warning: %v", err)
	}
	if want := "warning: " + warn + "/s.yaml:4:7: rules[1] \"rule-2\" can never fire: rule \"rule-1\" before it always answers the requests it matches\n"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("validate output\ngot:\n%s\nwant first:\n%s", out.String(), want)
	}
}

// TestValidateRefusesWhatCouldNotFinishOrDeliver: through the real CLI, a
// reply template that could loop without end, an inline reply on a rule
// that also matches the Conversations API, and a budget smaller than two
// bodies are load errors with their FILE:LINE:COL.
func TestValidateRefusesWhatCouldNotFinishOrDeliver(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(`scenario:
  name: risky
  rules:
    - reply: {text: "{{ range 50000000 }}{{ end }}"}
    - reply: {inline: true, text: hi}
`), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte("settings:\n  body_limit: 1MiB\n  retention: {message_bytes: 1MiB}\n"), 0o644)
	var out bytes.Buffer
	err := run(context.Background(), []string{"validate", dir}, os.Getenv, &out, io.Discard)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("validate: %v, want exit 1\n%s", err, out.String())
	}
	for _, want := range []string{
		dir + "/s.yaml:4:21: rules[0].reply.text: range 50000000: a reply template may range over a whole number up to 10000",
		dir + "/s.yaml:5:23: rules[1].reply.inline is for the Workspace API",
		dir + "/settings.yaml:3:30: settings.retention.message_bytes (1048576 bytes) must be at least twice settings.body_limit (1048576 bytes)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSameSeedAndNowAreByteIdentical runs msgmock twice with the same --seed
// and --now and replays the same requests: every response must match.
func TestSameSeedAndNowAreByteIdentical(t *testing.T) {
	inTempDir(t)
	script := func() string {
		r := start(t, nil, "--seed", "1234", "--now", "2026-03-15T14:22:11Z")
		defer r.stop()
		var out strings.Builder
		h := []string{"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json"}
		for _, body := range []string{
			`{"sender_id":"usr_82hd92","sender_type":"user","text":"Hello from curl!"}`,
			`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"again"}`,
			`{"sender_id":"usr_82hd92","sender_type":"agent","text":"third","metadata":{"k":[1,2]}}`,
		} {
			_, b := post(t, r.url+"/v1/messages", body, h...)
			out.Write(b)
			out.WriteByte('\n')
		}
		return out.String()
	}
	a, b := script(), script()
	if a != b {
		t.Fatalf("two runs differ:\n%s\n%s", a, b)
	}
}

// TestSeedExamples runs every example of the Conversations API document
// (seed 000) against msgmock with only the base URL swapped: both curl
// calls with curl, the fetch and axios calls with Node.
func TestSeedExamples(t *testing.T) {
	inTempDir(t)
	r := start(t, nil)
	examples, err := filepath.Abs(filepath.Join(testdataDir(t), "seed000"))
	if err != nil {
		t.Fatal(err)
	}
	checkSentShape := func(t *testing.T, data map[string]any, text string) {
		t.Helper()
		msg, _ := data["message"].(map[string]any)
		if msg == nil || msg["text"] != text || msg["sender_id"] != "usr_82hd92" || msg["sender_type"] != "user" {
			t.Fatalf("data.message: %v", data)
		}
		if !regexp.MustCompile(`^msg_[a-z0-9]{6}$`).MatchString(msg["id"].(string)) {
			t.Errorf("message id %v", msg["id"])
		}
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(msg["created_at"].(string)) {
			t.Errorf("created_at %v", msg["created_at"])
		}
		if !regexp.MustCompile(`^con_[a-z0-9]{7}$`).MatchString(data["conversation_id"].(string)) {
			t.Errorf("conversation_id %v", data["conversation_id"])
		}
		if _, ok := data["auto_reply_enqueued"].(bool); !ok {
			t.Errorf("auto_reply_enqueued missing: %v", data)
		}
	}
	for _, ex := range []struct{ file, text string }{
		{"curl_1.sh", "Can you summarize my last 5 calls?"},
		{"curl_2.sh", "Hello from curl!"},
	} {
		t.Run(ex.file, func(t *testing.T) {
			if _, err := exec.LookPath("curl"); err != nil {
				t.Skip("curl is not installed")
			}
			script, _ := os.ReadFile(filepath.Join(examples, ex.file))
			cmd := exec.Command("sh", "-c", strings.TrimSpace(strings.ReplaceAll(string(script), "https://api.example-ai.com", r.url))+" --silent --show-error")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("curl: %v", err)
			}
			var res map[string]any
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res["status"] != "success" || res["message"] != "Message sent successfully." {
				t.Fatalf("envelope: %s", out)
			}
			checkSentShape(t, res["data"].(map[string]any), ex.text)
			if ex.file == "curl_1.sh" {
				data := res["data"].(map[string]any)
				meta, _ := json.Marshal(data["message"].(map[string]any)["metadata"])
				if data["conversation_id"] != "con_9s2kd81" || string(meta) != `{"channel":"web","locale":"en-US"}` {
					t.Errorf("curl_1: %s", out)
				}
			}
		})
	}
	node := filepath.Join(testdataDir(t), "node")
	runNode := func(t *testing.T, file string) []byte {
		t.Helper()
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("node is not installed")
		}
		cmd := exec.Command("node", filepath.Join(node, "run-example.mjs"), filepath.Join(examples, file), r.url)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node %s: %v\n%s", file, err, stderr.String())
		}
		return out
	}
	t.Run("fetch.mjs", func(t *testing.T) {
		out := runNode(t, "fetch.mjs")
		var data map[string]any
		if err := json.Unmarshal(out, &data); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		checkSentShape(t, data, "Hello from fetch!")
	})
	t.Run("axios.ts", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(node, "node_modules", "axios")); err != nil {
			t.Skip("axios is not installed: npm ci --prefix cmd/msgmock/testdata/node")
		}
		out := runNode(t, "axios.ts")
		var id string
		if err := json.Unmarshal(out, &id); err != nil || !regexp.MustCompile(`^msg_[a-z0-9]{6}$`).MatchString(id) {
			t.Fatalf("axios logged %s, want a message id", out)
		}
	})
}

// TestSeedExamplesAreVerbatim guards the copies in testdata against drift
// from the seed document, when the document is beside the project.
func TestSeedExamplesAreVerbatim(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testdataDir(t), "..", "..", "..", "..", "shared", "seeds", "000_9598c30cab2fc349.txt"))
	if err != nil {
		t.Skip("seed document not beside the project")
	}
	squash := func(b []byte) string {
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	for _, f := range []string{"curl_1.sh", "curl_2.sh", "fetch.mjs", "axios.ts"} {
		ex, err := os.ReadFile(filepath.Join(testdataDir(t), "seed000", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(squash(doc), squash(ex)) {
			t.Errorf("%s is not, line for line, an example of the seed document", f)
		}
	}
}

var testdataAbs string

func testdataDir(t *testing.T) string {
	if testdataAbs == "" {
		abs, err := filepath.Abs("testdata")
		if err != nil {
			t.Fatal(err)
		}
		testdataAbs = abs
	}
	return testdataAbs
}

func init() {
	// Resolve testdata before any test changes directory.
	if abs, err := filepath.Abs("testdata"); err == nil {
		testdataAbs = abs
	}
}

// TestRunFromCheckout: `go run ./cmd/msgmock` at the repository root finds
// ./fixtures, which is the built-in set's source, and says so.
func TestRunFromCheckout(t *testing.T) {
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Join(wd, "..", "..")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
	r := start(t, nil)
	if r.source != "built-in (./fixtures)" {
		t.Errorf("fixtures source %q, want built-in (./fixtures)", r.source)
	}
}
