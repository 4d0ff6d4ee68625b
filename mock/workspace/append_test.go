package workspace

import (
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAppendersEncodeAsEncodingJSON: the hand-written encoding of a list
// of messages is byte for byte what writeFastAPI (encoding/json, then
// U+2028 and U+2029 raw) writes.
func TestAppendersEncodeAsEncodingJSON(t *testing.T) {
	texts := []string{"", "plain", `q"uote`, `back\slash`, "\b\f\n\r\t\x00\x1f\x7f", "<&>", "\u2028\u2029", `\u2028`, "bad\xff\xfeutf8", "é😀"}
	raws := []string{"", `[]`, `[{}]`, `{"a":1}`, "{ \"a\" : [1, 2.5 ,\"x y\"] }", `["\u2028"]`, `{"s":"` + "\u2028" + `"}`}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 400; i++ {
		var b strings.Builder
		for j := rng.IntN(10); j > 0; j-- {
			if rng.IntN(4) == 0 {
				b.WriteByte(byte(rng.IntN(256)))
			} else {
				b.WriteRune(rune(rng.IntN(0x2100)))
			}
		}
		texts = append(texts, b.String())
	}
	raw := func(i int) json.RawMessage {
		if r := raws[i%len(raws)]; r != "" {
			return json.RawMessage(r)
		}
		return nil
	}
	var list []message
	for i, text := range texts {
		m := message{ConversationID: text, SenderID: text, Content: text, WorkspaceID: "wsp_default", CreatedAt: text, UpdatedAt: text,
			ID: text, Role: text, ToolCalls: raw(i), MessageType: text, Tags: raw(i + 1), Checksum: text, Attachments: raw(i + 2),
			MetaData: raw(i + 3), SentAt: text}
		if i%2 == 0 {
			m.ParentMessageID, m.OwnerID = &texts[(i+1)%len(texts)], &texts[(i+2)%len(texts)]
		}
		list = append(list, m)
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeFastAPI(want, 201, list)
		writeMessages(got, 201, list)
		if want.Body.String() != got.Body.String() {
			t.Fatalf("text %q:\nencoding/json: %s\nappended:      %s", text, want.Body.String(), got.Body.String())
		}
	}
}
