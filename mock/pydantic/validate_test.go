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
