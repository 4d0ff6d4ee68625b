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

// TestParseSurrogatePass: json.loads decodes bytes with "surrogatepass", so
// a surrogate's UTF-8 form (and a lone surrogate in UTF-16 or UTF-32) is
// text, one character long, where UTF-8 proper refuses it. Each case as
// CPython 3.11's json.loads answered it.
func TestParseSurrogatePass(t *testing.T) {
	utf16le := func(units ...uint16) []byte {
		var b []byte
		for _, u := range units {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	for _, tt := range []struct {
		body []byte
		want string // "ok", "other" (not decodable), or pos<TAB>msg
	}{
		{[]byte("{\"a\":\xed\xa0\x80}"), "5\tExpecting value"},
		{[]byte("{\"a\":\"\xed\xa0\x80\",}"), "9\tExpecting property name enclosed in double quotes"},
		{[]byte("[\"\xed\xa0\xbd\xed\xb8\x80\", x]"), "7\tExpecting value"},
		{utf16le('[', '"', 0xd800, '"', ',', ' ', 'x', ']'), "6\tExpecting value"},
		{[]byte("\xef\xbb\xbf[\"\xed\xbf\xbf\" 1]"), "5\tExpecting ',' delimiter"},
		{[]byte("[\"\xed\x9f\xbf\xed\xa0\x80\"]"), "ok"},
		{[]byte("[\"\xf0\x9f\x98\x80\",\xed\xb0\x80]"), "5\tExpecting value"},
		{[]byte("\"\xed\xa0\""), "other"},
		{[]byte("\"\xed\xc0\x80\""), "other"},
		{[]byte("\"\xff\""), "other"},
		{append(utf16le('"', 0xdc00, 0xd800, '"'), 0), "other"}, // odd length
	} {
		_, jerr, decodable := Parse(tt.body)
		got := "ok"
		switch {
		case !decodable:
			got = "other"
		case jerr != nil:
			got = strconv.Itoa(jerr.Pos) + "\t" + jerr.Msg
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %q, want CPython's %q", tt.body, got, tt.want)
		}
	}
	// A lone surrogate, raw or escaped, is kept: it makes the value
	// unwritable as a 422's input, and a str field unwritable in a response.
	for _, body := range []string{"{\"k\":\"\xed\xa0\x80\"}", `{"k":"\ud800"}`, "{\"\xed\xb0\x80\":1}"} {
		v, jerr, ok := Parse([]byte(body))
		if !ok || jerr != nil {
			t.Fatalf("Parse(%q): %v %v", body, ok, jerr)
		}
		if v.Encodable() {
			t.Errorf("Parse(%q) is Encodable; json.dumps cannot write a lone surrogate as UTF-8", body)
		}
	}
	if v, _, _ := Parse([]byte(`{"\ufffd":"\ufffd"}`)); !v.Encodable() {
		t.Errorf("a real U+FFFD taken for a lone surrogate")
	}
}

// TestParseNesting: containers, not scalars, count toward Python's
// recursion limit, whatever their kind (the FastAPI goldens hold the
// recorded figures: 969 containers parse, 970 do not).
func TestParseNesting(t *testing.T) {
	for _, tt := range []struct {
		body    string
		parsed  bool
		encoded bool // can be echoed as a 422's input
	}{
		{strings.Repeat("[", 964) + strings.Repeat("]", 964), true, true},
		{strings.Repeat("[", 965) + strings.Repeat("]", 965), true, false},
		{strings.Repeat("[", 969) + "1" + strings.Repeat("]", 969), true, false},
		{strings.Repeat(`{"a":`, 968) + "[]" + strings.Repeat("}", 968), true, false},
		{strings.Repeat("[", 970) + strings.Repeat("]", 970), false, false},
		{strings.Repeat(`{"a":`, 969) + "{}" + strings.Repeat("}", 969), false, false},
	} {
		v, jerr, ok := Parse([]byte(tt.body))
		parsed := ok && jerr == nil
		if parsed != tt.parsed {
			t.Errorf("%.12s… (%d bytes): parsed %v (%v), want %v", tt.body, len(tt.body), parsed, jerr, tt.parsed)
		}
		if !parsed {
			if jerr == nil || jerr.Msg != "maximum recursion depth exceeded" {
				t.Errorf("%.12s…: %v, want a recursion error", tt.body, jerr)
			}
			continue
		}
		if got := v.Encodable(); got != tt.encoded {
			t.Errorf("%.12s… (%d bytes): Encodable %v, want %v", tt.body, len(tt.body), got, tt.encoded)
		}
	}
}
