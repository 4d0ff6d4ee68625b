package mock

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/wire"
)

// RequestLog writes the one line every request logs without going through
// log/slog, whose formatting was a tenth of a request's CPU: the same line
// slog's TextHandler or JSONHandler would write (time, level=INFO,
// msg=request, method, path, status, duration, scenario, rule), appended
// by hand into a pooled buffer and written with one call. Options.Logger
// still carries every other line. A test checks the lines against slog's
// own.
type RequestLog struct {
	W    io.Writer
	JSON bool // JSONHandler's format; else TextHandler's
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func (rl *RequestLog) write(t time.Time, method, path string, status int, d time.Duration, scenario, rule string) {
	bp := lineBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if rl.JSON {
		b = append(b, `{"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"INFO","msg":"request","method":`...)
		b = wire.AppendSlogJSONString(b, method)
		b = append(b, `,"path":`...)
		b = wire.AppendSlogJSONString(b, path)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, `,"scenario":`...)
		b = wire.AppendSlogJSONString(b, scenario)
		b = append(b, `,"rule":`...)
		b = wire.AppendSlogJSONString(b, rule)
		b = append(b, "}\n"...)
	} else {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, t)
		b = append(b, " level=INFO msg=request method="...)
		b = appendTextValue(b, method)
		b = append(b, " path="...)
		b = appendTextValue(b, path)
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, " duration="...)
		b = append(b, d.String()...)
		b = append(b, " scenario="...)
		b = appendTextValue(b, scenario)
		b = append(b, " rule="...)
		b = appendTextValue(b, rule)
		b = append(b, '\n')
	}
	_, _ = rl.W.Write(b)
	*bp = b
	lineBufs.Put(bp)
}

// appendTextValue appends s as slog's TextHandler writes a string value:
// as it is, or quoted (strconv.Quote) when it is empty or holds a space,
// '=', '"', a control character or a rune that is not printable.
func appendTextValue(b []byte, s string) []byte {
	if s == "" || needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuoting(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendRFC3339Millis appends t as slog's TextHandler does: RFC 3339 with
// exactly three decimals.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the 4th digit
}
