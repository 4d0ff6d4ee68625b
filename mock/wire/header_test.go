package wire_test

import (
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock/wire"
)

// TestHeaderKeysAreCanonical: Header looks a key up as it is, so every
// key the code asks for must be in the form the server stores request
// header names in ("Last-Event-Id", not "Last-Event-ID"): each literal
// passed to it anywhere in the module is checked, and a request's header
// is found whatever case the client sent it in.
func TestHeaderKeysAreCanonical(t *testing.T) {
	call := regexp.MustCompile(`\bHeader\([^,()]+, "([^"]+)"\)`)
	found := 0
	_ = filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, _ := os.ReadFile(path)
		for _, m := range call.FindAllSubmatch(src, -1) {
			key := string(m[1])
			found++
			if canon := textproto.CanonicalMIMEHeaderKey(key); canon != key {
				t.Errorf("%s: Header(…, %q): the server stores it as %q", path, key, canon)
			}
		}
		return nil
	})
	if found < 10 {
		t.Fatalf("found %d calls of Header: the pattern no longer matches them", found)
	}
	h := http.Header{}
	h.Set("x-mock-session", "qa") // as the server stores a header sent in any case
	if got := wire.Header(h, "X-Mock-Session"); got != "qa" {
		t.Errorf("Header = %q", got)
	}
	if got := wire.Header(h, "X-Mock-Scenario"); got != "" {
		t.Errorf("absent header = %q", got)
	}
}
