package pydantic

import (
	"bufio"
	"math"
	"os"
	"strings"
	"testing"
)

// TestSerializeMatchesPydantic replays values whose writing back was
// recorded with real Pydantic (testdata/record_serialize.py →
// serialize.golden): Serialize must write a response field as
// pydantic-core does, and MarshalJSON with Encodable a 422's input as
// json.dumps does — the same bytes, or an error where Python raised one.
func TestSerializeMatchesPydantic(t *testing.T) {
	f, err := os.Open("testdata/serialize.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string]Type{"str": TypeStr, "strlist": TypeStrList, "dict": TypeDict, "dictlist": TypeDictList}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 4 {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		kind, raw, wantResponse, wantEcho := parts[0], parts[1], parts[2], parts[3]
		v, jerr, ok := Parse([]byte(raw))
		if !ok || jerr != nil {
			t.Fatalf("%s %.80s: not JSON (%v)", kind, raw, jerr)
		}
		typ, known := types[kind]
		if !known {
			t.Fatalf("unknown kind %q", kind)
		}
		gotResponse := "err"
		if out, ok := Serialize(&v, typ); ok {
			gotResponse = "ok " + string(out)
		}
		gotEcho := "err"
		if v.Encodable() {
			out, _ := v.MarshalJSON()
			gotEcho = "ok " + string(out)
		}
		if gotResponse != wantResponse {
			t.Errorf("%s %.80s in a response:\n got %.200s\nwant %.200s", kind, raw, gotResponse, wantResponse)
		}
		if gotEcho != wantEcho {
			t.Errorf("%s %.80s as a 422's input:\n got %.200s\nwant %.200s", kind, raw, gotEcho, wantEcho)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d cases read", n)
	}
}

func TestFloatCore(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{1e-7, "1e-7"}, {1.5e-7, "1.5e-7"}, {1e-6, "1e-6"}, {1e-5, "0.00001"}, {1.2e-5, "0.000012"}, {1e16, "1e+16"},
		{1e15, "1000000000000000.0"}, {math.Copysign(0, -1), "-0.0"}, {0, "0.0"}, {100, "100.0"}, {5e-324, "5e-324"},
		{-1.5e16, "-1.5e+16"},
	} {
		if got := FloatCore(tt.in); got != tt.want {
			t.Errorf("FloatCore(%v)=%q, want %q", tt.in, got, tt.want)
		}
	}
}
