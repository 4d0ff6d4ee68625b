package wire

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"unicode/utf8"
)

// The answers every request writes — a sent message, a list of messages —
// are appended by hand rather than through encoding/json's reflection: the
// same bytes (each API's tests compare them with goldens, and
// TestAppendersEncodeAsEncodingJSON with encoding/json itself), about a
// tenth of the time.

// AppendJSONString appends s as encoding/json writes a string with HTML
// escaping off: quotes, backslashes and control characters escaped (\b,
// \f, \n, \r, \t short), invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s, true) }

// AppendSlogJSONString appends s as log/slog's JSONHandler writes a string:
// as AppendJSONString, but \b and \f as \u0008 and \u000c, so that a
// request log line in JSON is byte for byte what slog writes.
func AppendSlogJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s, false) }

func appendJSONString(dst []byte, s string, shortBF bool) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b', '\f':
				if !shortBF {
					dst = append(dst, '\\', 'u', '0', '0', '0', hex[c])
				} else if c == '\b' {
					dst = append(dst, '\\', 'b')
				} else {
					dst = append(dst, '\\', 'f')
				}
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONRaw appends a raw JSON value as encoding/json writes a
// json.RawMessage with HTML escaping off: compacted; null when empty.
func AppendJSONRaw(dst []byte, raw []byte) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	n := len(dst)
	dst = append(dst, raw...) // room, usually all that is needed
	out, err := compactInto(dst[:n], raw)
	if err != nil {
		return append(dst[:n], "null"...) // never: stored values are valid JSON
	}
	return out
}

// compactInto is json.Compact appending to dst.
func compactInto(dst, src []byte) ([]byte, error) {
	if !needsCompact(src) {
		return append(dst, src...), nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := json.Compact(buf, src); err != nil {
		return dst, err
	}
	return append(dst, buf.Bytes()...), nil
}

// needsCompact reports whether src has whitespace outside strings (what
// json.Compact would remove); most stored values have none.
func needsCompact(src []byte) bool {
	inString := false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return true
		}
	}
	return false
}

var appendBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// WriteAppended answers status with the JSON body build appends, in a
// pooled buffer; edit, when not nil, rewrites it first.
func WriteAppended(w http.ResponseWriter, status int, build func([]byte) []byte, edit func([]byte) []byte) {
	bp := appendBufs.Get().(*[]byte)
	b := build((*bp)[:0])
	out := b
	if edit != nil {
		out = edit(b)
	}
	WriteBody(w, status, out)
	if cap(b) <= 64<<10 { // a huge answer's buffer is not kept
		*bp = b[:0]
		appendBufs.Put(bp)
	}
}
