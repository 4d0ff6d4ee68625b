package pydantic

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestValidatorMatchesPydantic replays values whose validation was recorded
// with real Pydantic (testdata/record_validate.py → validate.golden): each
// must pass with the same serialised value or fail with the same errors.
func TestValidatorMatchesPydantic(t *testing.T) {
	f, err := os.Open("testdata/validate.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), "\t")
		raw, want, _ := strings.Cut(rest, "\t")
		v, jerr, ok := Parse([]byte(raw))
		if !ok || jerr != nil {
			t.Fatalf("%s %s: not JSON", kind, raw)
		}
		if got := validateAs(t, kind, &v); got != want {
			t.Errorf("%s %s:\n got %s\nwant %s", kind, raw, got, want)
		}
		n++
	}
	if n < 40 {
		t.Fatalf("only %d cases read", n)
	}
}

func validateAs(t *testing.T, kind string, v *Value) string {
	pv := &Validator{}
	l := []any{}
	var ok bool
	var out string
	switch kind {
	case "str", "optstr":
		var s string
		s, ok = pv.Str(v, l, kind == "optstr")
		out = strconv.Quote(s)
	case "optbool":
		var b bool
		b, ok = pv.Boolean(v, l, true)
		out = strconv.FormatBool(b)
	case "dict":
		ok = pv.Dict(v, l, false)
	case "liststr":
		ok = pv.List(v, l, String)
	case "listdict":
		ok = pv.List(v, l, Object)
	case "datetime":
		var tm Time
		tm, ok = pv.Datetime(v, l)
		out = strconv.Quote(tm.String())
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if len(pv.Errs) > 0 {
		b, err := json.Marshal(pv.Errs)
		if err != nil {
			t.Fatal(err)
		}
		return "err " + string(b)
	}
	if !ok {
		return "ok null" // None where the field allows it
	}
	if out == "" {
		b, _ := v.MarshalJSON()
		out = string(b)
	}
	return "ok " + out
}

// TestIntFromString: Pydantic's lax reading of a query string as an int,
// each case as FastAPI 0.141 / Pydantic 2.13 answered it (testdata/fastapi
// in package mock holds the recorded requests).
func TestIntFromString(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		problem string
	}{
		{"5", 5, ""}, {" 5", 5, ""}, {"5 ", 5, ""}, {"+5", 5, ""}, {"-0", 0, ""}, {"00001", 1, ""},
		{"1.0", 1, ""}, {"2.00", 2, ""}, {"1_0", 10, ""}, {"1__0", 0, "int_parsing"}, {"_1", 0, "int_parsing"},
		{"1.5", 0, "int_parsing"}, {"1.", 0, "int_parsing"}, {"", 0, "int_parsing"}, {"abc", 0, "int_parsing"},
		{"0x10", 0, "int_parsing"}, {"1e2", 0, "int_parsing"}, {"true", 0, "int_parsing"},
		{"99999999999999999999", 1<<63 - 1, ""}, {"-99999999999999999999", -(1<<63 - 1), ""},
		{strings.Repeat("9", 4300), 1<<63 - 1, ""}, {strings.Repeat("9", 4301), 0, "int_parsing_size"},
	}
	for _, tt := range tests {
		got, problem := IntFromString(tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("IntFromString(%.20q) = %d, %q; want %d, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}
