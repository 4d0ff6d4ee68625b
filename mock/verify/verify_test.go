package verify_test

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestLoad(t *testing.T) {
	data, err := os.ReadFile("testdata/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ name, method, path string }
	var got []step
	for _, r := range s.Requests {
		got = append(got, step{r.Name, r.Method, r.Path})
	}
	want := []step{
		{"send a message", "POST", "/v1/messages"},                                 // method upper-cased
		{"read it back", "GET", "/v1/conversations/${conv}/messages?after=${msg}"}, // GET by default
		{"reply", "POST", "/v1/messages"},
		{"a malformed body", "POST", "/v1/messages"},
		{"an unknown conversation", "GET", "/v1/conversations/con_missing/messages"},
		{"request 6", "GET", "/v1/health"}, // named by its place
		{"a method not allowed", "DELETE", "/v1/messages"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	first := s.Requests[0]
	if first.Headers["Authorization"] != "Bearer sk_test_1" || first.Save["conv"] != "data.conversation_id" || first.Save["msg"] != "data.message.id" {
		t.Fatalf("first request's headers %v, save %v", first.Headers, first.Save)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{"no requests", "requests: []\n", "script: no requests (a list under requests:)"},
		{"no requests key", "{}\n", "script: no requests (a list under requests:)"},
		{"a path without /", "requests:\n  - path: v1/messages\n", `script: request 1: path must start with /, got "v1/messages"`},
		{"no path", "requests:\n  - path: /ok\n  - name: second\n    method: GET\n", `script: second: path must start with /, got ""`},
		{"body and body_raw", "requests:\n  - name: both\n    method: POST\n    path: /v1/messages\n    body: {text: hi}\n    body_raw: '{}'\n", "script: both: give body or body_raw, not both"},
		{"an unknown key", "requests:\n  - path: /v1/messages\n    bdy: {text: hi}\n", "script: yaml: unmarshal errors:\n  line 3: field bdy not found in type verify.Request"},
		{"not a list", "requests: {path: /x}\n", "script: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []verify.Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := verify.Load([]byte(tc.script))
			if err == nil {
				t.Fatalf("Load = %+v, want the error %q", s, tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("Load error:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func newFakeAPI(prefix string, epoch time.Time, allow, contentType string) *fakeAPI {
	return &fakeAPI{prefix: prefix, epoch: epoch, allow: allow, contentType: contentType, convs: map[string][]any{}}
}

// TestRun replays the script against an "upstream" and a "mock" that
// agree, and against mocks that differ in one way each; the report is a
// golden file (go test -update rewrites them).
func TestRun(t *testing.T) {
	data, err := os.ReadFile("testdata/script.yaml")
	if err != nil {
		t.Fatal(err)
	}
	script, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		tweak     func(n int, a *fakeAnswer) // on the mock's nth answer
		closed    bool                       // the mock is not listening
		wantDrift bool
	}{
		// Ids, times, X-Request-Id, a charset and the order of Allow
		// differ, and the saved ids appear in paths, bodies and Location.
		{name: "agree"},
		{name: "status", wantDrift: true, tweak: func(n int, a *fakeAnswer) {
			if n == 1 {
				a.status = 200
			}
		}},
		{name: "headers", wantDrift: true, tweak: func(n int, a *fakeAnswer) {
			switch n {
			case 1:
				a.header.Set("Location", strings.Replace(a.header.Get("Location"), "/v1/", "/", 1))
			case 2:
				a.header.Set("Content-Type", "text/html")
			case 5:
				a.header.Set("Www-Authenticate", `Bearer realm="api"`)
			case 7:
				a.header.Set("Allow", "DELETE, GET, POST")
			}
		}},
		{name: "body", wantDrift: true, tweak: func(n int, a *fakeAnswer) {
			switch n {
			case 1:
				m := at(a.body, "data.message")
				m["text"] = "hello"
				m["extra"] = true
			case 2:
				a.body.(obj)["has_more"] = 0
				a.body.(obj)["data"] = append(a.body.(obj)["data"].([]any), "more")
			case 3:
				m := at(a.body, "data.message")
				m["id"] = "evt_M9"            // another kind of id
				m["created_at"] = "yesterday" // not a time
			case 4:
				at(a.body, "error")["message"] = "Bad JSON"
			case 6:
				a.header.Set("Content-Type", "application/json")
				a.body = obj{"status": "ok"}
			}
		}},
		{name: "saved value missing", wantDrift: true, tweak: func(n int, a *fakeAnswer) {
			if n == 1 {
				delete(at(a.body, "data"), "conversation_id")
			}
		}},
		{name: "mock unreachable", closed: true, wantDrift: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upAPI := newFakeAPI("U", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "GET, POST", "application/json")
			mockAPI := newFakeAPI("M", time.Date(2025, 6, 1, 10, 0, 0, 500_000_000, time.UTC), "POST,GET", "application/json; charset=utf-8")
			mockAPI.tweak = tc.tweak
			up := httptest.NewServer(upAPI)
			defer up.Close()
			mockURL, mockAddr := "", ""
			if tc.closed {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				mockAddr = ln.Addr().String()
				mockURL = "http://" + mockAddr
				ln.Close()
			} else {
				mock := httptest.NewServer(mockAPI)
				defer mock.Close()
				mockURL = mock.URL + "/" // a trailing slash is trimmed
			}

			results := verify.Run(context.Background(), script, up.URL, mockURL, http.DefaultClient)
			var out bytes.Buffer
			drift := verify.Report(&out, "http://upstream.test", "http://mock.test", results)
			if drift != tc.wantDrift {
				t.Errorf("Report's drift = %v, want %v", drift, tc.wantDrift)
			}
			report := out.String()
			if mockAddr != "" {
				report = strings.ReplaceAll(report, mockAddr, "MOCK_ADDRESS")
			}
			golden(t, filepath.Join("testdata", "report", strings.ReplaceAll(tc.name, " ", "_")+".txt"), report)
			if tc.name == "agree" {
				checkSent(t, upAPI.requests(), "U1", "U2")
				checkSent(t, mockAPI.requests(), "M1", "M2")
			}
		})
	}
}

// checkSent: each side got the script's requests with its own saved
// values in place of ${conv} and ${msg}, bodies as compact JSON, raw
// bodies as written.
func checkSent(t *testing.T, got []string, conv, msg string) {
	t.Helper()
	want := []string{
		`POST /v1/messages {"sender_id":"usr_1","text":"Hello","tags":["a","b"],"n":3}`,
		`GET /v1/conversations/con_` + conv + `/messages?after=msg_` + msg,
		`POST /v1/messages {"conversation_id":"con_` + conv + `","text":"again","reply_to":"msg_` + msg + `"}`,
		`POST /v1/messages {"text":`,
		`GET /v1/conversations/con_missing/messages`,
		`GET /v1/health`,
		`DELETE /v1/messages`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
