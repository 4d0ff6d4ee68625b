package wire

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// WriteJSON writes v compactly, without HTML escaping and without a
// trailing newline.
func WriteJSON(w http.ResponseWriter, status int, v any) { WriteJSONEdited(w, status, v, nil) }

// WriteJSONEdited is WriteJSON with the encoded bytes passed through edit
// first (the Workspace API writes U+2028 and U+2029 raw, as Python does).
func WriteJSONEdited(w http.ResponseWriter, status int, v any, edit func([]byte) []byte) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a bug can get here (every wire type encodes); say so plainly.
		http.Error(w, "msgmock: cannot encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if edit != nil {
		b = edit(b)
	}
	WriteBody(w, status, b)
}

// WriteBody answers status with body, JSON unless a Content-Type was set.
func WriteBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = jsonContentType
	}
	h["Content-Length"] = ContentLength(len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Header values shared by every response that has them, so that setting
// them costs nothing per request. They are never changed in place: a
// header is replaced (Set) or appended to (which copies), never edited.
var (
	jsonContentType = []string{"application/json"}
	contentLengths  = func() (out [4096][]string) {
		for i := range out {
			out[i] = []string{strconv.Itoa(i)}
		}
		return out
	}()
)

// ContentLength is a Content-Length header value, shared for small sizes:
// never edit it in place.
func ContentLength(n int) []string {
	if n >= 0 && n < len(contentLengths) {
		return contentLengths[n]
	}
	return []string{strconv.Itoa(n)}
}

// drainLimit is how much of an oversized body is read and thrown away
// before answering 413, so that a client still sending gets its answer
// instead of a reset connection.
const drainLimit = 32 << 20

// ReadBody reads the request body up to limit bytes. tooLarge reports a
// body over the limit; ok false means the client went away mid-body.
func ReadBody(r *http.Request, limit int64) (body []byte, tooLarge, ok bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false, true
	}
	if r.ContentLength > limit {
		_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, true, true
	}
	size := r.ContentLength
	if size < 0 || size > limit {
		size = 512
	}
	// One allocation when Content-Length is right: the byte past it is
	// room for the read that sees EOF.
	b := make([]byte, 0, size+1)
	lr := io.LimitedReader{R: r.Body, N: limit + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, false
		}
	}
	if int64(len(b)) > limit {
		_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, true, true
	}
	return b, false, true
}

// PreferredCode returns the status of a Prefer: code=NNN header (Prism's
// convention), or 0. Codes outside 400–599 are ignored: they would not
// replace the normal answer with anything.
func PreferredCode(h http.Header) int {
	for _, v := range h.Values("Prefer") {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			k, val, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(k), "code") {
				continue
			}
			code, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err == nil && code >= 400 && code <= 599 {
				return code
			}
		}
	}
	return 0
}

// Bearer returns the token of an Authorization: Bearer header. The scheme
// is case-insensitive, as RFC 9110 has it.
func Bearer(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	return tok, tok != ""
}
