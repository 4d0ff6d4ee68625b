package workspace

import (
	"encoding/json"
	"testing"

	"github.com/msgmock/msgmock/mock/pydantic"
)

// FuzzWorkspaceBody: Python-compatible parsing and Pydantic-style
// validation of any body never panic, and whatever they echo back as
// "input" is valid JSON.
func FuzzWorkspaceBody(f *testing.F) {
	for _, s := range []string{
		`{"content":{"content":"hi","sender_id":"u","created_at":"2023-11-07T05:31:56Z","tags":["a"],"meta_data":{},"tool_calls":[{}]},"conversation_id":null,"enable_memories":"yes"}`,
		`{"content":{"created_at":"2023/11/07"}}`, `null`, `[1,2.50,1e400]`, `{"a":"\ud800"}`, `{'a':1}`, "\xef\xbb\xbf{}", `{"content":5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, jerr, ok := pydantic.Parse(body)
		if !ok || jerr != nil {
			if jerr != nil && (jerr.Pos < 0 || jerr.Pos > len(body)) {
				t.Fatalf("error position %d outside a %d-byte body", jerr.Pos, len(body))
			}
			return
		}
		raw, _ := v.MarshalJSON()
		if !json.Valid(raw) {
			t.Fatalf("re-serialised %q as invalid JSON %q", body, raw)
		}
		_, errs := validateCreate(&v)
		out, err := json.Marshal(pydantic.ValidationErrors{Detail: errs})
		if err != nil || !json.Valid(out) {
			t.Fatalf("validation errors do not encode: %v", err)
		}
	})
}
