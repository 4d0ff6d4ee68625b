package pydantic

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPyParseMatchesCPython replays a corpus of bodies whose json.loads
// outcome was recorded with CPython (testdata/pyjson_errors.tsv): the
// message and the character offset must be CPython's.
func TestPyParseMatchesCPython(t *testing.T) {
	f, err := os.Open("testdata/pyjson_errors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		var body string
		if err := json.Unmarshal([]byte(parts[0]), &body); err != nil {
			t.Fatalf("bad corpus line %q", line)
		}
		n++
		_, jerr, decodable := Parse([]byte(body))
		var got string
		switch {
		case !decodable:
			got = "other"
		case jerr == nil:
			got = "ok"
		default:
			got = strconv.Itoa(jerr.Pos) + "\t" + jerr.Msg
		}
		want := strings.Join(parts[1:], "\t")
		// Python accepts NaN and Infinity; msgmock refuses them on purpose
		// (FastAPI could not serialise them back).
		if want == "ok" && (strings.Contains(body, "NaN") || strings.Contains(body, "Infinity") || strings.Contains(body, "1e400")) {
			continue
		}
		if got != want {
			t.Errorf("body %s: got %q, want CPython's %q", parts[0], got, want)
		}
	}
	if n < 40 {
		t.Fatalf("corpus has only %d cases", n)
	}
}

func TestPyFloatRepr(t *testing.T) {
	for in, want := range map[float64]string{
		1: "1.0", 1.5: "1.5", 100: "100.0", 1e16: "1e+16", 1e15: "1000000000000000.0", 1e-5: "1e-05",
		0.0001: "0.0001", -2.5: "-2.5", 123456789.125: "123456789.125", 1.7976931348623157e308: "1.7976931348623157e+308",
	} {
		if got := FloatRepr(in); got != want {
			t.Errorf("FloatRepr(%v)=%q, want %q", in, got, want)
		}
	}
}
