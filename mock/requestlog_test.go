package mock

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRequestLogWritesWhatSlogWrites: the request line written by hand is
// byte for byte what slog's TextHandler and JSONHandler write for the same
// values (time aside, which the two read a moment apart), over values that
// need quoting and escaping and seeded random ones.
func TestRequestLogWritesWhatSlogWrites(t *testing.T) {
	values := []string{"", "POST", "/v1/messages", "/a b", "/a=b", `/"q"`, "/tab\there", "/new\nline", "/ünï", "/\u00a0nbsp",
		"/\u2028sep", "/\x7fdel", "/\b\f\x01", "/<&>", `/back\slash`, "/bad\xffutf8", "default", "slow-send, assistant-replies", "/é\u0301"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for j := rng.IntN(8); j > 0; j-- {
			b.WriteRune(rune(rng.IntN(0x3000)))
		}
		values = append(values, b.String())
	}
	stamp := regexp.MustCompile(`^time=\S+ |"time":"[^"]*",`)
	for _, json := range []bool{false, true} {
		for i, v := range values {
			var want, got bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&want, nil)
			if json {
				h = slog.NewJSONHandler(&want, nil)
			}
			d := time.Duration(i) * 1234567 * time.Nanosecond
			slog.New(h).LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("method", v), slog.String("path", v), slog.Int("status", 200+i),
				slog.Duration("duration", d), slog.String("scenario", v), slog.String("rule", v))
			(&RequestLog{W: &got, JSON: json}).write(time.Now(), v, v, 200+i, d, v, v)
			w, g := stamp.ReplaceAllString(want.String(), ""), stamp.ReplaceAllString(got.String(), "")
			if w != g {
				t.Fatalf("json=%v, value %q:\nslog: %s\nmine: %s", json, v, want.String(), got.String())
			}
		}
	}
	// The time is slog's format too.
	var got bytes.Buffer
	at := time.Date(2026, 3, 15, 14, 22, 11, 120_000_000, time.UTC)
	(&RequestLog{W: &got}).write(at, "GET", "/", 200, 0, "", "")
	if !strings.HasPrefix(got.String(), "time=2026-03-15T14:22:11.120Z level=INFO msg=request") {
		t.Errorf("text time: %s", got.String())
	}
}
