package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/importer"
)

// msgmock import har, end to end: HAR files are imported with the command,
// the output is served by a real msgmock with its scenario, and the HAR's
// API requests are replayed in order against it — the same statuses, the
// same bodies (where the replay mints new ids and times, the HAR's stand
// for them), in the same order. The HAR files are read here with the
// test's own decoding and its own idea of what an API path is, not the
// importer's.

const harDir = "../../mock/importer/testdata"

// harTestFile is what the replay reads of a HAR.
type harTestFile struct {
	Log struct {
		Entries []harTestEntry `json:"entries"`
	} `json:"log"`
}

type harTestEntry struct {
	Request struct {
		Method   string      `json:"method"`
		URL      string      `json:"url"`
		Headers  []harTestNV `json:"headers"`
		PostData *struct {
			Text string `json:"text"`
		} `json:"postData"`
	} `json:"request"`
	Response struct {
		Status  int         `json:"status"`
		Headers []harTestNV `json:"headers"`
		Content struct {
			Size     float64 `json:"size"`
			Text     *string `json:"text"`
			Encoding string  `json:"encoding"`
		} `json:"content"`
		Error string `json:"_error"`
	} `json:"response"`
}

type harTestNV struct{ Name, Value string }

// apiRequest: the requests of either API the replay sends (streams are
// not replayed: an open stream has no end to compare).
var apiRequest = regexp.MustCompile(`^(POST /v1/messages|GET /v1/conversations/[^/]+/messages|GET /v1/events|POST /api/v1/messages|GET /api/v1/messages(/[^/]+)?|GET /api/v1/conversations)$`)

func readTestHAR(t *testing.T, path string) []harTestEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f harTestFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f.Log.Entries
}

// replayer sends a HAR's API requests to a msgmock and compares the answers.
type replayer struct {
	t         *testing.T
	base      string
	ids       map[string]string // the HAR's id → the replay's
	back      map[string]string // the replay's id → the HAR's
	secrets   []string          // redacted on disk: <redacted> on both sides
	readRules bool
	client    *http.Client
	compared  int
}

func newReplayer(t *testing.T, base string, secrets []string) *replayer {
	return &replayer{t: t, base: base, ids: map[string]string{}, back: map[string]string{}, secrets: secrets,
		readRules: importer.ReadRulesSupported(), client: &http.Client{Timeout: 10 * time.Second}}
}

var generatedID = regexp.MustCompile(`^(msg|con|conv|evt)_[a-z0-9]+$`)

// toReplay puts the replay's ids in place of the HAR's.
func (r *replayer) toReplay(s string) string {
	for h, g := range r.ids {
		s = strings.ReplaceAll(s, h, g)
	}
	return s
}

func (r *replayer) redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "<redacted>")
	}
	return s
}

// learn pairs the ids of the HAR's answer with the replay's, position by
// position.
func (r *replayer) learn(h, g any) {
	switch hv := h.(type) {
	case map[string]any:
		if gv, ok := g.(map[string]any); ok {
			for k := range hv {
				r.learn(hv[k], gv[k])
			}
		}
	case []any:
		if gv, ok := g.([]any); ok {
			for i := 0; i < len(hv) && i < len(gv); i++ {
				r.learn(hv[i], gv[i])
			}
		}
	case string:
		gs, ok := g.(string)
		if ok && gs != hv && generatedID.MatchString(hv) && generatedID.MatchString(gs) && strings.SplitN(hv, "_", 2)[0] == strings.SplitN(gs, "_", 2)[0] {
			if _, known := r.ids[hv]; !known {
				r.ids[hv], r.back[gs] = gs, hv
			}
		}
	}
}

// normalize is a JSON answer with the replay's ids put back to the HAR's,
// and the times of what the replay created anew left out.
func (r *replayer) normalize(body string, fromReplay bool) any {
	v := decodeAny(r.redact(body))
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			id, _ := x["id"].(string)
			if fromReplay {
				if h, ok := r.back[id]; ok {
					id = h
				}
			}
			if _, minted := r.ids[id]; minted {
				for _, k := range []string{"created_at", "updated_at", "sent_at"} {
					delete(x, k)
				}
			}
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case string:
			if h, ok := r.back[x]; ok && fromReplay {
				return h
			}
		}
		return v
	}
	return walk(v)
}

func decodeAny(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	return v
}

// replay sends every API request of entries in order and compares.
func (r *replayer) replay(entries []harTestEntry) {
	t := r.t
	t.Helper()
	for i, e := range entries {
		u, err := url.Parse(e.Request.URL)
		if err != nil || !apiRequest.MatchString(e.Request.Method+" "+u.Path) {
			continue
		}
		where := "entry #" + itoa(i+1) + " " + e.Request.Method + " " + u.Path
		wantStatus := e.Response.Status
		if wantStatus == 0 && !strings.Contains(e.Response.Error, "CONNECTION_RESET") {
			continue // no answer recorded: nothing to reproduce
		}
		if e.Request.Method == "GET" && wantStatus >= 400 && !r.readRules {
			t.Logf("%s: the HAR's %d to a read is not replayed: this msgmock's rules match sends only", where, wantStatus)
			continue
		}
		var wantBody string
		compareBody := false
		if c := e.Response.Content; c.Text != nil {
			wantBody = *c.Text
			if c.Encoding == "base64" {
				b, _ := base64.StdEncoding.DecodeString(*c.Text)
				wantBody = string(b)
			}
			compareBody = c.Size <= float64(len(wantBody))
		}
		target := r.base + r.toReplay(u.EscapedPath())
		if u.RawQuery != "" {
			target += "?" + r.toReplay(u.RawQuery)
		}
		var body io.Reader
		if e.Request.PostData != nil {
			body = strings.NewReader(r.toReplay(e.Request.PostData.Text))
		}
		send := func() (int, string, error) {
			req, _ := http.NewRequest(e.Request.Method, target, body)
			for _, h := range e.Request.Headers {
				switch strings.ToLower(h.Name) {
				case "host", "content-length", "connection", "accept-encoding":
					continue
				}
				if !strings.HasPrefix(h.Name, ":") {
					req.Header.Add(h.Name, h.Value)
				}
			}
			res, err := r.client.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			return res.StatusCode, string(b), err
		}
		status, got, err := send()
		if wantStatus == 0 {
			if err == nil {
				t.Errorf("%s: the HAR shows a reset connection; the replay answered %d %s", where, status, got)
			}
			r.compared++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if status >= 200 && status < 300 && compareBody {
			r.learn(decodeAny(wantBody), decodeAny(got))
		}
		same := func() bool {
			if status != wantStatus {
				return false
			}
			if !compareBody {
				return true
			}
			if status >= 400 {
				return r.redact(got) == r.redact(wantBody) // errors: byte for byte
			}
			return reflect.DeepEqual(r.normalize(got, true), r.normalize(wantBody, false))
		}
		// A reply the scenario scripts lands a moment after its send: a
		// read after it may need to be asked again.
		for deadline := time.Now().Add(5 * time.Second); !same() && e.Request.Method == "GET" && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			status, got, err = send()
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
		if !same() {
			t.Errorf("%s:\n got %d %s\nwant %d %s", where, status, r.redact(got), wantStatus, r.redact(wantBody))
		}
		r.compared++
	}
}

// importHARCmd runs msgmock import har and returns its output.
func importHARCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"import", "har"}, args...), func(string) string { return "" }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestImportHARReplaysTheRecordedAnswers(t *testing.T) {
	tests := []struct {
		har      string
		scenario string
		summary  []string // lines the summary prints
		secrets  []string // every credential the HAR carries
		minimum  int      // requests compared at least
	}{
		{
			har: "assets-chromium.har", scenario: "assets-chromium",
			summary: []string{"read 19 entries of", "used 7:", "skipped 12:", "another site (cdn.example.net)", "another site (fonts.gstatic.com)",
				"a CORS preflight", "the HAR truncated its body (80 of 441 bytes)", "msgmock's admin API", "not an HTTP request (data:)",
				"not a path of either API", "rule entry-9-200 (1 reply)"},
			secrets: []string{"sk_test_51_fakeapikey123456"},
			minimum: 8,
		},
		{
			har: "send-errors-firefox.har", scenario: "send-errors-firefox",
			summary: []string{"read 18 entries of", "(Firefox 128.0)", "rule entry-2-429", "rule entry-3-500", "rule entry-4-503", "rule entry-5-ok",
				"msgmock answers it itself: conversation con_missing is not in the fixtures", "no answer was recorded (status 0)"},
			secrets: []string{"sk_test_51_fakeapikey123456", "sk_live_expired_b"},
			minimum: 15,
		},
		{
			har: "credentials.har", scenario: "creds",
			summary: []string{"read 7 entries of", "rule entry-1-401", "rule entry-6-reset", "another site (auth.example-ai.com)"},
			secrets: []string{"sk_live_TOKEN_abc123", "COOKIE_sess_456", "CSRF_789", "CSRF_HEADER_246", "QUERY_KEY_123", "hunter2pass",
				"META_TOKEN_999", "ACCESS_TOKEN_777", "REFRESH_888", "FORM_PASS_654", "SETCOOKIE_new_321", "SETCOOKIE_refresh_852", "SSE_TOKEN_555"},
			minimum: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.har, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			args := []string{filepath.Join(harDir, tt.har), "--out", dir}
			if tt.scenario != strings.TrimSuffix(tt.har, ".har") {
				args = append(args, "--scenario", tt.scenario)
			}
			stdout, stderr, err := importHARCmd(t, args...)
			if err != nil {
				t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
			}
			for _, line := range append(tt.summary, "wrote "+filepath.Join(dir, tt.scenario+".yaml"),
				"replay it: msgmock --fixtures "+dir+" --scenario "+tt.scenario) {
				if !strings.Contains(stdout, line) {
					t.Errorf("the summary does not say %q:\n%s", line, stdout)
				}
			}
			for _, secret := range tt.secrets {
				assertNoSecret(t, dir, secret)
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"validate", dir}, os.Getenv, &out, &out); err != nil {
				t.Fatalf("validate: %v\n%s", err, out.String())
			}
			srv := start(t, nil, "--fixtures", dir, "--scenario", tt.scenario)
			r := newReplayer(t, srv.url, tt.secrets)
			r.replay(readTestHAR(t, filepath.Join(harDir, tt.har)))
			if r.compared < tt.minimum {
				t.Errorf("compared %d requests, want at least %d", r.compared, tt.minimum)
			}
			// Replayed again after a reset, the same answers in the same order.
			if status, body := post(t, srv.url+"/__mock/reset", ""); status != 200 {
				t.Fatalf("reset: %d %s", status, body)
			}
			again := newReplayer(t, srv.url, tt.secrets)
			again.replay(readTestHAR(t, filepath.Join(harDir, tt.har)))
		})
	}
}

func TestImportHARRefusesWhatIsNotAHAR(t *testing.T) {
	whole, err := os.ReadFile(filepath.Join(harDir, "send-errors-firefox.har"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content, says string
	}{
		{"empty", "", "not a HAR: the file is empty"},
		{"blank", " \n\t\n", "not a HAR: the file is empty"},
		{"not JSON", "HTTP/1.1 200 OK\r\n", "not a HAR: not JSON: invalid character 'H' looking for beginning of value at byte 1"},
		{"truncated", string(whole[:len(whole)/2]), "not a HAR: the JSON ends early"},
		{"an array", `[{"request":{}}]`, "not a HAR: the top level is JSON array, a HAR has an object there"},
		{"no entries", `{"log":{"version":"1.2","creator":{"name":"x"}}}`, `not a HAR: the JSON has no log.entries`},
		{"entries not a list", `{"log":{"entries":{}}}`, "not a HAR: log.entries is JSON object, a HAR has an array there"},
		{"two documents", `{"log":{"entries":[]}} {}`, "not a HAR: more JSON follows the HAR's closing brace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			file := filepath.Join(parent, "bug.har")
			if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(parent, "out")
			stdout, stderr, err := importHARCmd(t, file, "--out", out)
			var code exitCode
			if !errors.As(err, &code) || code != 2 {
				t.Fatalf("exit %v, want 2", err)
			}
			if stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "msgmock import har: "+file+": "+tt.says) {
				t.Errorf("stdout %q stderr %q, want one line: %s", stdout, stderr, tt.says)
			}
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 {
				t.Errorf("the directory holds %v: something was written", entries)
			}
		})
	}
}

func TestImportHARWritesAllOrNothing(t *testing.T) {
	har := filepath.Join(harDir, "send-errors-firefox.har")
	parent := t.TempDir()
	out := filepath.Join(parent, "bug")
	if _, stderr, err := importHARCmd(t, har, "--out", out, "--scenario", "bug"); err != nil {
		t.Fatalf("first import: %v %s", err, stderr)
	}
	before, _ := os.ReadFile(filepath.Join(out, "bug.yaml"))
	// Again: the files exist, and stay as they are.
	_, stderr, err := importHARCmd(t, har, "--out", out, "--scenario", "bug")
	var code exitCode
	if !errors.As(err, &code) || code != 2 || !strings.Contains(stderr, "bug-conversations.yaml exists (--force replaces it); nothing written") {
		t.Fatalf("second import: %v %q", err, stderr)
	}
	// A scenario of the same name in another file of the directory: the
	// fixtures would not load, so nothing is written even with --force.
	_, stderr, err = importHARCmd(t, filepath.Join(harDir, "assets-chromium.har"), "--out", out, "--scenario", "send-errors-firefox", "--force")
	if !errors.As(err, &code) || code != 2 || !strings.Contains(stderr, "would not load") {
		t.Fatalf("a clashing import: %v %q", err, stderr)
	}
	if err := os.WriteFile(filepath.Join(out, "clash.yaml"), []byte("scenario:\n  name: bug\n  rules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = importHARCmd(t, har, "--out", out, "--scenario", "bug", "--force")
	if !errors.As(err, &code) || code != 2 || !strings.Contains(stderr, `scenario "bug" is already defined`) {
		t.Fatalf("an import whose scenario another file defines: %v %q", err, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(out, "bug.yaml"))
	if !bytes.Equal(before, after) {
		t.Error("a refused import changed the file")
	}
	os.Remove(filepath.Join(out, "clash.yaml"))
	stdout, stderr, err := importHARCmd(t, har, "--out", out, "--scenario", "bug", "--force", "--json")
	if err != nil {
		t.Fatalf("--force: %v %s", err, stderr)
	}
	var sum importer.Summary                                                                             // --json: the summary an admin endpoint would answer
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Entries != 18 || sum.Rules != 9 || // the GET /v1/events 500 included: rules can match reads
		len(sum.Used)+len(sum.Skipped) != 18 {
		t.Errorf("--json: %v %+v\n%s", err, sum, stdout)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("%s holds %v: a temporary directory was left", parent, entries)
	}
	files, _ := os.ReadDir(out)
	if len(files) != 2 {
		t.Errorf("%s holds %v, want the two files", out, files)
	}

	// A HAR with nothing of either API: exit 1, the summary, nothing written.
	onlyAssets := filepath.Join(parent, "assets.har")
	if err := os.WriteFile(onlyAssets, []byte(`{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"entries":[
		{"request":{"method":"GET","url":"https://cdn.example.net/app.js","headers":[]},"response":{"status":200,"headers":[],"content":{"size":2,"mimeType":"application/javascript","text":"//"}},"timings":{"wait":3}}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err = importHARCmd(t, onlyAssets, "--out", filepath.Join(parent, "none"))
	if !errors.As(err, &code) || code != 1 || !strings.Contains(stdout, "another site (cdn.example.net)") ||
		!strings.Contains(stderr, "no entry of the HAR belongs to either API; nothing written") {
		t.Fatalf("a HAR without API entries: %v\n%s%s", err, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(parent, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("something was written for a HAR without API entries: %v", err)
	}
}

// Commands as Chromium's "Copy as cURL (bash)" and the inspector's "copy as
// curl" write them.
const (
	chromiumCopiedCurl = `curl 'https://api.example-ai.com/v1/messages' \
  -H 'accept: */*' \
  -H 'authorization: Bearer sk_live_CURL_TOKEN_42' \
  -H 'content-type: application/json' \
  -b 'session=CURL_COOKIE_43' \
  -H 'origin: https://app.example.com' \
  --data-raw $'{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"it\'s broken"}'`
	inspectorCopiedCurl = `curl -i -X POST 'http://127.0.0.1:8080/v1/messages' \
  -H 'Authorization: Bearer sk_live_CURL_TOKEN_42' \
  -H 'Content-Type: application/json' \
  -H 'Prefer: code=503' \
  --data-raw '{"sender_id":"usr_1","sender_type":"user","text":"it'\''s down"}'`
)

func importCurlCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"import", "curl"}, args...), func(string) string { return "" }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// runCurl runs a copied command with the real curl against base, adding
// the options given, and returns status, headers and body.
func runCurl(t *testing.T, command, base string, extra ...string) (int, http.Header, string) {
	t.Helper()
	for _, host := range []string{"https://api.example-ai.com", "http://127.0.0.1:8080"} {
		command = strings.ReplaceAll(command, host, base)
	}
	command = strings.Replace(command, " -i ", " ", 1) + " -s -D " + filepath.Join(t.TempDir(), "headers") + " " + strings.Join(extra, " ")
	cmd := exec.Command("bash", "-c", command+` -w '\n%{http_code}'`)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	text := string(out)
	i := strings.LastIndex(text, "\n")
	status, _ := strconv.Atoi(text[i+1:])
	head := http.Header{}
	if m := regexp.MustCompile(`-D (\S+)`).FindStringSubmatch(command); m != nil {
		raw, _ := os.ReadFile(m[1])
		for _, line := range strings.Split(string(raw), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				head.Add(k, strings.TrimSpace(v))
			}
		}
	}
	return status, head, text[:i]
}

func TestImportCurlAddsARuleThatAnswersTheCommand(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the test replays the commands with it")
	}
	dir := filepath.Join(t.TempDir(), "fixtures")
	if err := run(context.Background(), []string{"init", dir}, os.Getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := importCurlCmd(t, "--out", dir, "--scenario", "bug", "--status", "429", "--header", "Retry-After: 7",
		"--body", `{"status":"error","message":"Slow down.","data":null}`, "--times", "1", "--", chromiumCopiedCurl)
	if err != nil {
		t.Fatalf("import: %v %s", err, stderr)
	}
	want := "read 1 curl command: POST /v1/messages\nadded rule curl-1 (answers 429) to scenario bug in " + filepath.Join(dir, "bug.yaml") +
		"\nreplay it: msgmock --fixtures " + dir + " --scenario bug\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	// The inspector's copy of a request sent with Prefer: code=503, on
	// stdin: the rule answers 503 to it without the header.
	r, w, _ := os.Pipe()
	oldStdin := os.Stdin
	os.Stdin = r
	go func() { io.WriteString(w, inspectorCopiedCurl); w.Close() }()
	stdout, stderr, err = importCurlCmd(t, "--out", dir, "--scenario", "bug")
	os.Stdin = oldStdin
	if err != nil || !strings.Contains(stdout, "added rule curl-2 (answers 503)") {
		t.Fatalf("import from stdin: %v\n%s%s", err, stdout, stderr)
	}
	for _, secret := range []string{"sk_live_CURL_TOKEN_42", "CURL_COOKIE_43"} {
		assertNoSecret(t, dir, secret)
	}

	srv := start(t, nil, "--fixtures", dir, "--scenario", "bug")
	status, head, body := runCurl(t, chromiumCopiedCurl, srv.url)
	if status != 429 || body != `{"status":"error","message":"Slow down.","data":null}` || head.Get("Retry-After") != "7" {
		t.Errorf("the copied command: %d %s (Retry-After %q), want 429 with the given body and Retry-After: 7", status, body, head.Get("Retry-After"))
	}
	if status, _, body := runCurl(t, chromiumCopiedCurl, srv.url); status != 200 {
		t.Errorf("the command again, after --times 1: %d %s", status, body)
	}
	// curl's -H 'Prefer:' takes the header away.
	status, _, body = runCurl(t, inspectorCopiedCurl, srv.url, "-H", "'Prefer:'")
	if status != 503 || body != `{"status":"error","message":"Service temporarily unavailable. Please retry.","data":null}` {
		t.Errorf("the inspector's command without Prefer: %d %s", status, body)
	}

	// What a curl import cannot do is refused on one line, nothing written.
	before, _ := os.ReadFile(filepath.Join(dir, "bug.yaml"))
	for _, tt := range []struct {
		args []string
		says string
	}{
		{[]string{"--out", dir, "--", chromiumCopiedCurl}, "a curl command is a request without an answer"},
		{[]string{"--out", dir, "--status", "500", "--", "curl https://h/v1/messages -d @body.json"}, "reads the body from a file"},
		{[]string{"--out", dir, "--status", "500", "--", "curl https://h/healthz"}, "GET /healthz is not a path of either API"},
		{[]string{"--out", dir, "--status", "500", "--body", "{oops", "--", chromiumCopiedCurl}, "--body must be JSON"},
		{[]string{"--out", dir, "--status", "99", "--", chromiumCopiedCurl}, "--status is 200–599"},
	} {
		_, stderr, err := importCurlCmd(t, tt.args...)
		var code exitCode
		if !errors.As(err, &code) || code != 2 || !strings.Contains(stderr, tt.says) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %v, stderr %q; want 2 and %q", tt.args, err, stderr, tt.says)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "bug.yaml")); !bytes.Equal(before, after) {
		t.Error("a refused import changed the scenario file")
	}
}

// TestREADMEHarDraft runs the README draft for QA (testdata/README-har-draft.md)
// as a reader would, in one directory: the HAR of the bug report is
// testdata's send-errors-firefox.har, named bug-1234.har. Its blocks are
// marked skip for the README's own test, which starts each msgmock in an
// empty directory and has no HAR to import.
func TestREADMEHar(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the draft's examples use it")
	}
	// The README's section on HARs: its blocks are marked skip for the
	// README test, which has no HAR file; this test gives them one.
	var blocks []readmeBlock
	in := false
	for _, blk := range readmeBlocksOf(t, filepath.Join("..", "..", "README.md")) {
		if strings.Contains(blk.body, "msgmock import har bug-1234.har") {
			in = true
		}
		if in {
			blocks = append(blocks, blk)
			if blk.marker == "output" {
				break
			}
		}
	}
	har, err := os.ReadFile(filepath.Join(harDir, "send-errors-firefox.har"))
	if err != nil {
		t.Fatal(err)
	}
	inTempDir(t)
	if err := os.WriteFile("bug-1234.har", har, 0o644); err != nil {
		t.Fatal(err)
	}
	var srv *running
	var last string
	ran := 0
	for _, blk := range blocks {
		switch {
		case blk.lang == "sh":
			for _, cmd := range shellCommands(blk.body) {
				words := shellSplit(t, cmd.text)
				switch {
				case words[0] == "msgmock" && words[1] == "import":
					var out, errOut bytes.Buffer
					if err := run(context.Background(), words[1:], os.Getenv, &out, &errOut); err != nil {
						t.Fatalf("README.md:%d: %s: %v\n%s", blk.line, cmd.text, err, errOut.String())
					}
					last = out.String()
				case words[0] == "msgmock":
					srv = start(t, nil, words[1:]...)
				case words[0] == "curl":
					text := strings.ReplaceAll(cmd.text, "http://127.0.0.1:8080", srv.url)
					out, err := exec.Command("bash", "-c", text).Output()
					if err != nil {
						t.Fatalf("README.md:%d: %s: %v", blk.line, cmd.text, err)
					}
					last = string(out)
				default:
					t.Fatalf("README.md:%d: the test does not know how to run %q", blk.line, cmd.text)
				}
				ran++
			}
		case blk.lang == "json" && blk.marker == "output":
			if !jsonSubset(t, blk.body, last) {
				t.Errorf("README.md:%d: shown %s, printed %s", blk.line, blk.body, last)
			}
			ran++
		}
	}
	if ran < 4 {
		t.Errorf("only %d commands and outputs of the README's HAR section ran", ran)
	}
}

// shellSplit splits a command line into words as bash does.
func shellSplit(t *testing.T, command string) []string {
	t.Helper()
	out, err := exec.Command("bash", "-c", `f() { printf '%s\0' "$@"; }; f `+command).Output()
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}
