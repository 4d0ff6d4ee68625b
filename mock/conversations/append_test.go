package conversations

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAppendersEncodeAsEncodingJSON: the hand-written encoding of a sent
// message is byte for byte what encoding/json (HTML escaping off) writes,
// over strings that need every kind of escape and seeded random ones.
func TestAppendersEncodeAsEncodingJSON(t *testing.T) {
	texts := []string{"", "plain", `q"uote`, `back\slash`, "\b\f\n\r\t\x00\x1f\x7f", "<&>", "\u2028\u2029", "bad\xff\xfeutf8", "é😀", "\ufffd"}
	metas := []string{"", `{}`, `{"a":1}`, "{ \"a\" : [1, 2.50 ,\"x y\"] }", `{"h":"<&>\u2028"}`}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
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
	for i, text := range texts {
		for _, enqueued := range []bool{false, true} {
			m := message{ID: "msg_" + text, SenderID: text, SenderType: "user", Text: text, ReplyTo: texts[(i+1)%len(texts)],
				Metadata: json.RawMessage(metas[i%len(metas)]), CreatedAt: "2026-03-15T14:22:11Z"}
			if len(m.Metadata) == 0 {
				m.Metadata = nil
			}
			s := sent{ConversationID: text, Message: m, AutoReplyEnqueued: enqueued}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(envelope{Status: "success", Message: msgSent, Data: s}); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeSent(rec, 200, &s)
			if got := rec.Body.String(); got != strings.TrimSuffix(want.String(), "\n") {
				t.Fatalf("text %q:\nencoding/json: %s\nappended:      %s", text, want.String(), got)
			}
		}
	}
}
