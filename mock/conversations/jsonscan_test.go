package conversations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// referenceMembers is objectMembers as it was: json.Valid, then a walk of
// the object's members with encoding/json's own decoder — the behaviour
// the one-pass scanner is held to.
func referenceMembers(body []byte) ([]string, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []string
	for dec.More() {
		tok, _ := dec.Token()
		var raw json.RawMessage
		_ = dec.Decode(&raw)
		var compact bytes.Buffer
		_ = json.Compact(&compact, raw)
		out = append(out, fmt.Sprintf("%s=%s", tok, compact.Bytes()))
	}
	return out, true
}

func scannedMembers(body []byte) ([]string, bool) {
	var out []string
	ok := objectMembers(body, func(key, val []byte) {
		var compact bytes.Buffer
		_ = json.Compact(&compact, val)
		out = append(out, fmt.Sprintf("%s=%s", key, compact.Bytes()))
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// checkMembers fails when the scanner and the reference disagree on body:
// whether it is one JSON object, and if so its members, in order.
func checkMembers(t *testing.T, body []byte) {
	t.Helper()
	want, wantOK := referenceMembers(body)
	got, gotOK := scannedMembers(body)
	if gotOK != wantOK {
		t.Fatalf("%q: object %v, encoding/json says %v", body, gotOK, wantOK)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%q: members %q, encoding/json reads %q", body, got, want)
	}
}

// TestObjectMembersAsEncodingJSON: bodies at every edge of the grammar —
// numbers, escapes, literals, whitespace, nesting at and past
// encoding/json's limit, trailing bytes — and seeded random mutations of
// them, read as encoding/json reads them.
func TestObjectMembersAsEncodingJSON(t *testing.T) {
	seeds := []string{
		`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`,
		`{}`, ` { } `, "\t{\n}\r\n", `[]`, `"x"`, `1`, `null`, `{"a":1}x`, `{"a":1}{}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{1:2}`,
		`{"n":0}`, `{"n":-0}`, `{"n":01}`, `{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"n":1.5e}`, `{"n":1.5e+}`, `{"n":1.5E-07}`, `{"n":1e5}`, `{"n":-12.34e+56}`, `{"n":+1}`, `{"n":1e5.5}`,
		`{"s":"\u00e9\ud83d\ude00"}`, `{"s":"\uZZZZ"}`, `{"s":"\u12"}`, `{"s":"\x"}`, `{"s":"\/\b\f\n\r\t\"\\"}`, "{\"s\":\"a\x01b\"}", "{\"s\":\"\xff\xfe\"}", `{"s":"unterminated}`, `{"s":"\`,
		`{"t":true,"f":false,"z":null}`, `{"t":tru}`, `{"t":truex}`, `{"t":nul}`, `{"a":[1,2,[3,{"b":[]}]],"a":{"c":{}}}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":{"b":1,"b":2}}`,
		`{"\u0074ext":"escaped key"}`, `{"te\"xt":"quote in key"}`, "{\"a\":1 , \"b\" : [ 1 , 2 ] }",
	}
	nest := func(n int) string { return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}` }
	seeds = append(seeds, nest(maxDepth-1), nest(maxDepth), nest(maxDepth+5))
	for _, s := range seeds {
		checkMembers(t, []byte(s))
	}
	rng := rand.New(rand.NewPCG(30, 2))
	alphabet := []byte(`{}[]":,\ 0123456789-+.eEtrufalsn` + "\x00\x1f\xff")
	for i := 0; i < 200_000; i++ {
		b := []byte(seeds[rng.IntN(len(seeds)-3)])
		for n := 1 + rng.IntN(3); n > 0 && len(b) > 0; n-- {
			j := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[j] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:j], b[j+1:]...)
			default:
				b = append(b[:j], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[j:]...)...)
			}
		}
		checkMembers(t, b)
	}
}

func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"\u00e9"}],"c":-1.5e3}`, `{}`, `{"a":tru}`, "{\"a\":\"\x01\"}", `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkMembers(t, body) })
}
