package mock

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

// writeJSON writes v compactly, without HTML escaping and without a
// trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) { writeJSONBytes(w, status, v, false) }

// writeFastAPI writes v as a FastAPI service does: compact JSON with
// U+2028 and U+2029 written as they are (Go escapes them; Python does not).
func writeFastAPI(w http.ResponseWriter, status int, v any) { writeJSONBytes(w, status, v, true) }

func writeJSONBytes(w http.ResponseWriter, status int, v any, rawSeparators bool) {
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
	if rawSeparators {
		b = unescapeSeparators(b)
	}
	h := w.Header()
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = jsonContentType
	}
	h["Content-Length"] = contentLength(len(b))
	w.WriteHeader(status)
	_, _ = w.Write(b)
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

// contentLength is a Content-Length header value.
func contentLength(n int) []string {
	if n >= 0 && n < len(contentLengths) {
		return contentLengths[n]
	}
	return []string{strconv.Itoa(n)}
}

// drainLimit is how much of an oversized body is read and thrown away
// before answering 413, so that a client still sending gets its answer
// instead of a reset connection.
const drainLimit = 32 << 20

// readBody reads the request body up to limit bytes. tooLarge reports a
// body over the limit; ok false means the client went away mid-body.
func readBody(r *http.Request, limit int64) (body []byte, tooLarge, ok bool) {
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

// isJSONMediaType reports whether a Content-Type is application/json,
// parameters such as charset allowed.
func isJSONMediaType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// preferredCode returns the status of a Prefer: code=NNN header (Prism's
// convention), or 0. Codes outside 400–599 are ignored: they would not
// replace the normal answer with anything.
func preferredCode(h http.Header) int {
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

// bearer returns the token of an Authorization: Bearer header. The scheme
// is case-insensitive, as RFC 9110 has it.
func bearer(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	return tok, tok != ""
}

// unescapeSeparators turns the escapes \u2028 and \u2029 that
// encoding/json writes back into the characters, leaving an escaped
// backslash followed by "u2028" alone.
func unescapeSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' && i+5 < len(b) && string(b[i+2:i+5]) == "202" && (b[i+5] == '8' || b[i+5] == '9') {
				out = append(out, 0xe2, 0x80, 0xa8+(b[i+5]-'8'))
				i += 5
				continue
			}
			out = append(out, b[i], b[i+1])
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}
