package conversations

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeSend: any body either decodes into a request whose fields obey
// the documented rules, or yields one of the documented 400 messages; it
// never panics.
func FuzzDecodeSend(f *testing.F) {
	for _, s := range []string{
		`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"hi","metadata":{"a":1},"auto_reply":true}`,
		`{}`, `[]`, `{"text":"\u00e9\ud83d\ude00","text":""}`, `{"sender_id":1}`, `{"a":[{"b":[{}]}]}`, "\xff", `{"x":"\\`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, problem := decodeSend(body)
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
