package mock

import (
	"encoding/json"
	"testing"

	"github.com/msgmock/msgmock/mock/pydantic"
)

// FuzzDecodeSendA: any body either decodes into a request whose fields obey
// the documented rules, or yields one of the documented 400 messages; it
// never panics.
func FuzzDecodeSendA(f *testing.F) {
	for _, s := range []string{
		`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"hi","metadata":{"a":1},"auto_reply":true}`,
		`{}`, `[]`, `{"text":"\u00e9\ud83d\ude00","text":""}`, `{"sender_id":1}`, `{"a":[{"b":[{}]}]}`, "\xff", `{"x":"\\`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, problem := decodeSendA(body)
		if problem != "" {
			if len(problem) < 10 || problem[len(problem)-1] != '.' {
				t.Fatalf("problem %q is not one of the documented messages", problem)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if req.SenderID == "" || req.Text == "" || (req.SenderType != "user" && req.SenderType != "agent" && req.SenderType != "system") {
			t.Fatalf("accepted %+v", req)
		}
		if req.Metadata != nil && (!json.Valid(req.Metadata) || req.Metadata[0] != '{') {
			t.Fatalf("metadata %q", req.Metadata)
		}
	})
}

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
		_, errs := validateCreateB(&v)
		out, err := json.Marshal(pydantic.ValidationErrors{Detail: errs})
		if err != nil || !json.Valid(out) {
			t.Fatalf("validation errors do not encode: %v", err)
		}
	})
}
