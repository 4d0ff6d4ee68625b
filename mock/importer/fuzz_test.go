package importer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzHAR: whatever bytes are imported as a HAR, the import answers with
// fixtures that load, or refuses with ErrNotHAR or ErrNothingToImport — it
// never panics and never makes fixtures msgmock would refuse. The seeds are
// the testdata HARs (whole and cut) and a few near-HARs.
func FuzzHAR(f *testing.F) {
	hars, _ := filepath.Glob("testdata/*.har")
	for _, har := range hars {
		data, err := os.ReadFile(har)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	for _, s := range []string{
		`{"log":{"entries":[]}}`, `{"log":{}}`, `{"log":{"entries":[{}]}}`, `[]`, ``,
		`{"log":{"entries":[{"request":{"method":"POST","url":"http://x/v1/messages","headers":[],"postData":{"text":"{}"}},"response":{"status":500,"headers":[],"content":{"text":"{\"status\":\"error\"}"}}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := HAR(data, Options{Source: "fuzz.har"})
		switch {
		case err == nil:
			if res == nil || len(res.Files) == 0 {
				t.Fatalf("no error and no files: %+v", res)
			}
		case errors.Is(err, ErrNotHAR), errors.Is(err, ErrNothingToImport):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
