package mock_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fastapiCase is one line of testdata/fastapi/golden.jsonl: a request and
// what the real FastAPI stack answered (testdata/fastapi/record.py).
type fastapiCase struct {
	Name            string            `json:"name"`
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Headers         [][2]string       `json:"headers"`
	BodyB64         string            `json:"body_b64"`
	Creates         bool              `json:"creates"`
	Status          int               `json:"status"`
	ResponseHeaders map[string]string `json:"response_headers"`
	ResponseBody    string            `json:"response_body"`
}

var fastapiKeptHeaders = []string{"content-type", "www-authenticate", "allow", "location", "retry-after"}

// TestFastAPIGoldens replays, in order, the requests recorded against a
// FastAPI app of SPEC §3 on real FastAPI, Starlette and Pydantic
// (testdata/fastapi: app.py, corpus.py, record.py, VERSIONS) and checks
// that msgmock answers each one the same: status, the headers that
// matter, and the body byte for byte once generated ids and timestamps are
// replaced by placeholders.
func TestFastAPIGoldens(t *testing.T) { replayFastAPIGoldens(t, "testdata/fastapi/golden.jsonl") }

// TestFastAPIGoldensOutsideBothAPIs: the host's paths outside /v1 and
// /__mock belong to the Workspace API's FastAPI service, and answer as it
// does (package mock's doc: Routing).
func TestFastAPIGoldensOutsideBothAPIs(t *testing.T) {
	replayFastAPIGoldens(t, "testdata/fastapi/golden_outside.jsonl")
}

// replayFastAPIGoldens replays one golden file of testdata/fastapi (record.py
// writes golden.jsonl, and golden_outside.jsonl for paths outside both
// APIs' routes) against msgmock.
func replayFastAPIGoldens(t *testing.T, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []fastapiCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var c fastapiCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	// The goldens were recorded with Starlette's TestClient, whose Host is
	// "testserver": allowed as a LAN name would be.
	ts := startServer(t, os.DirFS("testdata/fastapi/fixtures"), func(o *mockOptions) { o.AllowedHosts = []string{"testserver"} })
	conv := "conv_unset"
	failed := 0
	for _, c := range cases {
		body, _ := base64.StdEncoding.DecodeString(c.BodyB64)
		body = []byte(strings.ReplaceAll(string(body), "$CONV", conv))
		res, err := rawRequest(ts.Listener.Addr().String(), c.Method, strings.ReplaceAll(c.Path, "$CONV", conv), c.Headers, body)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 201 && c.Creates {
			var created []struct {
				ConversationID string `json:"conversation_id"`
			}
			if json.Unmarshal(got, &created) == nil && len(created) > 0 {
				conv = created[0].ConversationID
			}
		}
		var diffs []string
		if res.StatusCode != c.Status {
			diffs = append(diffs, "status")
		}
		for _, h := range fastapiKeptHeaders {
			if g, w := res.Header.Get(h), c.ResponseHeaders[h]; g != w {
				diffs = append(diffs, h+": got "+g+", want "+w)
			}
		}
		if g, w := normalizeGenerated(string(got)), normalizeGenerated(c.ResponseBody); c.Method != http.MethodHead && g != w {
			diffs = append(diffs, "body")
		}
		if len(diffs) > 0 {
			failed++
			g, w := normalizeGenerated(string(got)), normalizeGenerated(c.ResponseBody)
			at := 0
			for at < len(g) && at < len(w) && g[at] == w[at] {
				at++
			}
			from := max(0, at-120)
			t.Errorf("%s: %s %s\n  differs in %s, from byte %d\n  got  %d …%.400s\n  want %d …%.400s", c.Name, c.Method, c.Path,
				strings.Join(diffs, "; "), at, res.StatusCode, g[min(from, len(g)):], c.Status, w[min(from, len(w)):])
		}
	}
	t.Logf("%d of %d recorded FastAPI answers matched", len(cases)-failed, len(cases))
}

var (
	generatedID   = regexp.MustCompile(`"((?:conv|msg)_[0-9a-f]{16})"`)
	generatedTime = regexp.MustCompile(`"(?:created_at|updated_at)":"([^"]+)"`)
	fixtureValues = map[string]bool{
		"conv_5f2a9c0e7b1d4a36": true, "msg_0a1b2c3d4e5f6071": true, "msg_8192a3b4c5d6e7f8": true,
		"2026-03-15T14:00:00Z": true, "2026-03-15T14:01:00Z": true, "2026-03-15T14:02:00Z": true,
	}
)

// normalizeGenerated replaces the ids and timestamps a server generates
// (not the fixtures') with placeholders numbered in order of first
// appearance, so that two servers' answers compare byte for byte; a
// sent_at equal to a generated created_at is replaced with it.
func normalizeGenerated(body string) string {
	first := map[string]int{}
	note := func(v string, at int) {
		if fixtureValues[v] {
			return
		}
		if _, seen := first[v]; !seen {
			first[v] = at
		}
	}
	for _, m := range generatedID.FindAllStringSubmatchIndex(body, -1) {
		note(body[m[2]:m[3]], m[2])
	}
	for _, m := range generatedTime.FindAllStringSubmatchIndex(body, -1) {
		note(body[m[2]:m[3]], m[2])
	}
	values := make([]string, 0, len(first))
	for v := range first {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool { return first[values[i]] < first[values[j]] })
	pairs := make([]string, 0, 2*len(values))
	n := map[string]int{}
	for _, v := range values {
		kind := "ts"
		if strings.HasPrefix(v, "conv_") {
			kind = "conv"
		} else if strings.HasPrefix(v, "msg_") {
			kind = "msg"
		}
		if kind == "ts" { // times are not cross-referenced: one placeholder for all
			pairs = append(pairs, `"`+v+`"`, `"<ts>"`)
			continue
		}
		n[kind]++
		pairs = append(pairs, `"`+v+`"`, `"<`+kind+strconv.Itoa(n[kind])+`>"`)
	}
	return strings.NewReplacer(pairs...).Replace(body)
}

// rawRequest sends one request exactly as recorded, header bytes and all
// (Go's client would tidy some of them), on a fresh connection.
func rawRequest(addr, method, target string, headers [][2]string, body []byte) (*http.Response, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n")
	for _, h := range headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(b.String()), body...)); err != nil {
		conn.Close()
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		conn.Close()
		return nil, err
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{res.Body, conn}
	return res, nil
}
