package wire

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// Timeouts of one request's I/O. A body must arrive within
// BodyReadTimeout of the handler asking for it, and an answer, once begun,
// must be written within WriteTimeout (a stream sets its own deadline for
// each write); the time a scripted latency or a held fault waits is
// neither. They are set per request, not on the http.Server: a server-wide
// read deadline would end a held request's context when it passed.
var (
	BodyReadTimeout = 30 * time.Second
	WriteTimeout    = 30 * time.Second
)

// BodyBudget bounds the bytes of request bodies being read or held at
// once, server wide: a thousand clients that each send most of a large body
// and stall cannot make the process hold a thousand bodies. Past it a
// request is answered 503 (with Retry-After) rather than read. The bound is
// MinBodyBudget, or twice the configured body limit when that is larger,
// so that one body of the largest size always fits.
type BodyBudget struct {
	held atomic.Int64
}

// MinBodyBudget is the smallest bound of a BodyBudget.
const MinBodyBudget = 8 << 20

func (b *BodyBudget) take(n, limit int64) bool {
	if b == nil {
		return true
	}
	if b.held.Add(n) > max(MinBodyBudget, 2*limit) {
		b.held.Add(-n)
		return false
	}
	return true
}

func (b *BodyBudget) give(n int64) {
	if b != nil && n != 0 {
		b.held.Add(-n)
	}
}

// Held is the bytes of bodies being read or held by requests in flight.
func (b *BodyBudget) Held() int64 { return b.held.Load() }

// BodyResult says how reading a body ended.
type BodyResult uint8

const (
	BodyRead     BodyResult = iota // the whole body, within the limit
	BodyTooLarge                   // over the limit: answer 413
	BodyBusy                       // the server's body budget is spent: answer 503
	BodyGone                       // the client went away or stalled past BodyReadTimeout: answer nothing
)

// ReadBody reads the request body, up to limit bytes, as it arrives: the
// buffer grows with what was received, never to the length the client
// announced, and each growth is taken from the server's BodyBudget (given
// back when the request ends). The body must arrive within
// BodyReadTimeout.
func (x *Exchange) ReadBody(r *http.Request, limit int64) ([]byte, BodyResult) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, BodyRead
	}
	if dl, ok := x.ResponseWriter.(deadliner); ok {
		_ = dl.SetReadDeadline(time.Now().Add(BodyReadTimeout))
		defer func() { _ = dl.SetReadDeadline(time.Time{}) }()
	}
	if r.ContentLength > limit {
		_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, BodyTooLarge
	}
	// One allocation when Content-Length is right and small: the byte past
	// it is room for the read that sees EOF. A large announced length is
	// not trusted: the buffer grows as bytes come.
	size := int64(512)
	if r.ContentLength >= 0 {
		size = min(r.ContentLength+1, 16<<10)
	}
	if !x.takeBody(size, limit) {
		return nil, BodyBusy
	}
	b := make([]byte, 0, size)
	lr := io.LimitedReader{R: r.Body, N: limit + 1}
	for {
		if len(b) == cap(b) {
			grow := min(int64(cap(b)), limit+1-int64(cap(b)))
			if grow <= 0 {
				grow = 1
			}
			if !x.takeBody(grow, limit) {
				return nil, BodyBusy
			}
			nb := make([]byte, len(b), int64(cap(b))+grow)
			copy(nb, b)
			b = nb
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, BodyGone
		}
	}
	if int64(len(b)) > limit {
		_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, BodyTooLarge
	}
	return b, BodyRead
}

// deadliner is what net/http's response writer offers (and
// http.ResponseController uses) to set a connection's deadlines.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

func (x *Exchange) takeBody(n, limit int64) bool {
	if !x.bodies.take(n, limit) {
		return false
	}
	x.bodyHeld += n
	return true
}

// PreferredCode returns the status of a Prefer: code=NNN header (Prism's
// convention), or 0. Codes outside 400–599 are ignored: they would not
// replace the normal answer with anything.
func PreferredCode(h http.Header) int {
	for _, v := range h["Prefer"] {
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

// Header is h.Get(key) for a key in canonical form, as the server stores
// every request header's name: a map lookup without Get's
// canonicalization, which a request paid for every header it asked about.
func Header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Bearer returns the token of an Authorization: Bearer header. The scheme
// is case-insensitive, as RFC 9110 has it.
func Bearer(h http.Header) (string, bool) {
	v := Header(h, "Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	return tok, tok != ""
}
