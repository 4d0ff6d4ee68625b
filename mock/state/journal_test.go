package state

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// TestCaptureMasksCredentials: what the journal keeps of a request and its
// response shows no credential, but each one's fingerprint; with
// KeepCredentials it keeps them as they came. Other headers and query
// values are kept either way.
func TestCaptureMasksCredentials(t *testing.T) {
	const (
		key    = "sk_live_TOPSECRET_4242"
		apiKey = "wsk_live_0123456789abcdef"
		cookie = "sess_0123456789abcdefghij"
		setCk  = "new_0123456789abcdefghijkl"
		token  = "sse_0123456789abcdefghijk"
	)
	long := strings.Repeat("L", 3*JournalHeaderValueLimit) // cut by the limits: masked before
	entry := func(keep bool) *JournalEntry {
		return &JournalEntry{
			Method: "GET", Path: "/v1/events/stream", Query: "conversation_id=con_1&access_token=" + token,
			Header: map[string][]string{
				"Authorization": {"Bearer " + key}, "X-Api-Key": {apiKey}, "Cookie": {"sid=" + cookie + "; theme=dark"},
				"X-Auth-Token": {long}, "Content-Type": {"application/json"}, "X-Mock-Session": {"ci-42"},
			},
			RespHeader:      map[string][]string{"Set-Cookie": {"sid=" + setCk + "; Path=/; HttpOnly"}, "X-Request-Id": {"r1"}},
			KeepCredentials: keep,
		}
	}
	show := func(e *JournalEntry) string {
		var b strings.Builder
		b.WriteString(e.Query + "\n")
		for _, f := range append(append([]HeaderField(nil), e.Headers...), e.RespHeaders...) {
			b.WriteString(f.Name + ": " + f.Value + "\n")
		}
		return b.String()
	}

	// What a reader gets: the record Capture wrote, decoded.
	captured := func(e *JournalEntry) *JournalEntry {
		e.Capture()
		d := decodeJournal(e.rec.rec)
		d.size = e.size
		return d
	}
	masked := captured(entry(false))
	got := show(masked)
	for _, s := range []string{key, apiKey, cookie, setCk, token, long[:64]} {
		if strings.Contains(got, s) {
			t.Errorf("the journal keeps %q:\n%s", s, got)
		}
	}
	for _, want := range []string{
		"Authorization: Bearer sk_l…4242 (fp " + fingerprint(key) + ")",
		"X-Api-Key: wsk_…cdef (fp " + fingerprint(apiKey) + ")",
		"Cookie: sid=sess…ghij (fp " + fingerprint(cookie) + "); theme=… (fp " + fingerprint("dark") + ")",
		"X-Auth-Token: LLLL…LLLL (fp " + fingerprint(long) + ")",
		"Set-Cookie: sid=new_…ijkl (fp " + fingerprint(setCk) + "); Path=/; HttpOnly",
		"Content-Type: application/json", "X-Mock-Session: ci-42", "X-Request-Id: r1",
		"conversation_id=con_1&access_token=sse_%E2%80%A6hijk+%28fp+" + fingerprint(token) + "%29",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the journal lacks %q:\n%s", want, got)
		}
	}
	if masked.HeaderTruncated {
		t.Errorf("a masked long value still counts as cut")
	}

	kept := captured(entry(true))
	got = show(kept)
	for _, want := range []string{"Authorization: Bearer " + key, "X-Api-Key: " + apiKey, "sid=" + cookie, "sid=" + setCk, "access_token=" + token} {
		if !strings.Contains(got, want) {
			t.Errorf("KeepCredentials: the journal lacks %q:\n%s", want, got)
		}
	}
	if !kept.HeaderTruncated {
		t.Errorf("KeepCredentials: a %d-byte value is kept whole", len(long))
	}
	// What is counted is what is kept: the masked entry is the smaller.
	if masked.size >= kept.size {
		t.Errorf("sizes: masked %d, kept %d", masked.size, kept.size)
	}
}
