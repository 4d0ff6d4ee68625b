package mock_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// An exchange file holds one request and the exact response it must get:
//
//	-- request --
//	POST /api/v1/messages
//	Content-Type: application/json
//
//	{"content": …}
//	-- response --
//	422
//	WWW-Authenticate: Bearer
//
//	{"detail":[…]}
//
// Only the headers a response contract cares about are listed (goldenHeaders).
// go test -update rewrites the response sections.

var goldenHeaders = []string{"Allow", "Content-Type", "Retry-After", "Www-Authenticate"}

type exchangeFile struct {
	method, path string
	headers      []string
	body         string
	response     string
}

func readExchange(t *testing.T, path string) exchangeFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	reqAt := strings.Index(text, "-- request --\n")
	respAt := strings.Index(text, "-- response --\n")
	if reqAt < 0 || respAt < reqAt {
		t.Fatalf("%s: needs a -- request -- and a -- response -- section", path)
	}
	req := text[reqAt+len("-- request --\n") : respAt]
	head, body, _ := strings.Cut(req, "\n\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	method, target, _ := strings.Cut(lines[0], " ")
	return exchangeFile{
		method: method, path: target, headers: lines[1:],
		body:     strings.TrimSuffix(body, "\n"),
		response: text[respAt+len("-- response --\n"):],
	}
}

func renderResponse(res response) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(res.Status) + "\n")
	for _, h := range goldenHeaders {
		if v := res.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n")
	b.Write(res.Body)
	b.WriteString("\n")
	return b.String()
}

// runExchanges sends every testdata/dir/*.txt request to a fresh server
// (one per file, so each starts from the fixtures) and compares the response.
func runExchanges(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no exchange files in testdata/%s", dir)
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			ex := readExchange(t, file)
			ts := startServer(t, nil)
			res := ts.call(t, ex.method, ex.path, ex.body, ex.headers...)
			got := renderResponse(res)
			if *update {
				data, _ := os.ReadFile(file)
				text := string(data)
				i := strings.Index(text, "-- response --\n")
				if err := os.WriteFile(file, []byte(text[:i]+"-- response --\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != ex.response {
				t.Errorf("%s %s\ngot:\n%s\nwant:\n%s", ex.method, ex.path, got, ex.response)
			}
		})
	}
}

func TestWorkspaceExchanges(t *testing.T) { runExchanges(t, "workspace") }

func TestConversationsExchanges(t *testing.T) { runExchanges(t, "conversations") }
