package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LimitKey is what a rate limit counts separately: each API key, each
// session, or each workspace has a window of its own.
type LimitKey string

const (
	LimitByAPIKey    LimitKey = "api_key"
	LimitBySession   LimitKey = "session"
	LimitByWorkspace LimitKey = "workspace"
)

// LimitUnit is what a rate limit counts: requests, or the characters of
// the messages sent (a stand-in for a model's tokens).
type LimitUnit string

const (
	UnitRequests   LimitUnit = "requests"
	UnitCharacters LimitUnit = "characters"
)

// Rate-limit header styles: the X-RateLimit-* headers always, plus the
// names one real AI service uses.
const (
	HeadersStandard  = "standard"
	HeadersOpenAI    = "openai"
	HeadersAnthropic = "anthropic"
)

// RateLimit is one entry of settings.rate_limits or a scenario's
// rate_limits: a fixed window (Amount units per Per) or a token bucket
// (Amount units of capacity, refilled at Refill units a second).
type RateLimit struct {
	Name   string
	Key    LimitKey
	Unit   LimitUnit
	Amount int64         // the window's budget, or the bucket's capacity (burst)
	Per    time.Duration // a fixed window's length; 0 for a token bucket
	Refill float64       // a token bucket's units per second; 0 for a fixed window
	API    API           // "" : both APIs
	// Headers adds a real service's header names (HeadersOpenAI,
	// HeadersAnthropic) to the X-RateLimit-* ones.
	Headers string
	// RetryAfterMS adds retry-after-ms to a refusal (on by default with
	// HeadersOpenAI, whose clients read it).
	RetryAfterMS bool
	// Digest identifies the definition: a window whose limit changed in a
	// reload starts afresh.
	Digest string
}

// Bucket reports whether the limit is a token bucket.
func (l *RateLimit) Bucket() bool { return l.Per == 0 }

// AppliesTo reports whether the limit counts requests of api.
func (l *RateLimit) AppliesTo(api API) bool { return l.API == "" || l.API == api }

var rateLimitKeys = []string{"name", "key", "requests", "characters", "per", "burst", "refill", "unit", "api", "headers", "retry_after_ms"}

// rateLimits reads a list of limits (settings.rate_limits, scenario.rate_limits).
func (r *reader) rateLimits(n *yaml.Node, what string) []*RateLimit {
	var out []*RateLimit
	names := map[string]bool{}
	for i, item := range r.seq(n, what) {
		l := r.rateLimit(item, fmt.Sprintf("%s[%d]", what, i))
		if l == nil {
			continue
		}
		if l.Name == "" {
			l.Name = "limit-" + strconv.Itoa(i+1)
		}
		if names[l.Name] {
			r.errorf(item, "%s[%d]: duplicate rate limit name %q", what, i, l.Name)
			continue
		}
		names[l.Name] = true
		out = append(out, l)
	}
	return out
}

func (r *reader) rateLimit(n *yaml.Node, what string) *RateLimit {
	f := r.fields(n, what, rateLimitKeys...)
	if f == nil {
		return nil
	}
	before := len(*r.probs)
	l := &RateLimit{Key: LimitByAPIKey, Unit: UnitRequests, Headers: HeadersStandard}
	if v := f["name"]; v != nil {
		l.Name, _ = r.nonEmpty(v, what+".name")
	}
	if v := f["key"]; v != nil {
		if s, ok := r.str(v, what+".key"); ok {
			switch LimitKey(s) {
			case LimitByAPIKey, LimitBySession, LimitByWorkspace:
				l.Key = LimitKey(s)
			default:
				r.errorf(v, "%s.key must be api_key, session or workspace, got %q", what, s)
			}
		}
	}
	if v := f["api"]; v != nil {
		if s, ok := r.str(v, what+".api"); ok {
			switch API(s) {
			case APIConversations, APIWorkspace:
				l.API = API(s)
			default:
				r.errorf(v, "%s.api must be conversations or workspace, got %q", what, s)
			}
		}
	}
	if v := f["headers"]; v != nil {
		if s, ok := r.str(v, what+".headers"); ok {
			switch s {
			case HeadersStandard, HeadersOpenAI, HeadersAnthropic:
				l.Headers = s
			default:
				r.errorf(v, "%s.headers must be standard, openai or anthropic, got %q", what, s)
			}
		}
	}
	l.RetryAfterMS = l.Headers == HeadersOpenAI
	if v := f["retry_after_ms"]; v != nil {
		l.RetryAfterMS, _ = r.boolean(v, what+".retry_after_ms")
	}
	window := f["requests"] != nil || f["characters"] != nil || f["per"] != nil
	bucket := f["burst"] != nil || f["refill"] != nil || f["unit"] != nil
	switch {
	case window && bucket:
		r.errorf(n, "%s: give requests or characters with per (a fixed window), or burst with refill (a token bucket), not both", what)
	case window:
		switch {
		case f["requests"] != nil && f["characters"] != nil:
			r.errorf(f["characters"], "%s: give requests or characters, not both (two limits count both)", what)
		case f["requests"] != nil:
			if x, ok := r.integer(f["requests"], what+".requests", 1, 1_000_000_000); ok {
				l.Amount = int64(x)
			}
		case f["characters"] != nil:
			l.Unit = UnitCharacters
			if x, ok := r.integer(f["characters"], what+".characters", 1, 1_000_000_000); ok {
				l.Amount = int64(x)
			}
		default:
			r.errorf(n, "%s: a fixed window needs requests or characters (how many in each window)", what)
		}
		if v := f["per"]; v == nil {
			r.errorf(n, "%s: a fixed window needs per (its length, such as 1m)", what)
		} else if d, ok := r.duration(v, what+".per"); ok {
			if d < time.Millisecond {
				r.errorf(v, "%s.per must be at least 1ms, got %s", what, d)
			}
			l.Per = d
		}
	case bucket:
		if v := f["unit"]; v != nil {
			if s, ok := r.str(v, what+".unit"); ok {
				switch LimitUnit(s) {
				case UnitRequests, UnitCharacters:
					l.Unit = LimitUnit(s)
				default:
					r.errorf(v, "%s.unit must be requests or characters, got %q", what, s)
				}
			}
		}
		if v := f["burst"]; v == nil {
			r.errorf(n, "%s: a token bucket needs burst (its capacity)", what)
		} else if x, ok := r.integer(v, what+".burst", 1, 1_000_000_000); ok {
			l.Amount = int64(x)
		}
		if v := f["refill"]; v == nil {
			r.errorf(n, "%s: a token bucket needs refill (a rate such as 1/s or 100/1m)", what)
		} else if s, ok := r.str(v, what+".refill"); ok {
			rate, err := parseRate(s)
			if err != "" {
				r.errorf(v, "%s.refill: %s", what, err)
			}
			l.Refill = rate
		}
	default:
		r.errorf(n, "%s needs requests or characters with per (a fixed window), or burst with refill (a token bucket)", what)
	}
	if len(*r.probs) > before {
		return nil
	}
	l.Digest = fmt.Sprintf("%s|%s|%d|%d|%g|%s", l.Key, l.Unit, l.Amount, l.Per, l.Refill, l.API)
	return l
}

// parseRate reads a refill rate, "N/DURATION" ("1/s", "100/1m", "0.5/s"),
// as units per second; a bare unit stands for one of it ("s" is "1s").
func parseRate(s string) (float64, string) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Sprintf("invalid rate %q (use N/DURATION: 1/s, 10/1m)", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Sprintf("invalid rate %q: the amount must be a number above 0", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') && per[0] != '.' {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 || d > 24*time.Hour {
		return 0, fmt.Sprintf("invalid rate %q: the period must be a duration from 1ns to 24h (1/s, 10/1m)", s)
	}
	rate := n / d.Seconds()
	if rate < 1e-6 || rate > 1e9 {
		return 0, fmt.Sprintf("invalid rate %q: must be between 1 per 1,000,000s and 1,000,000,000 per second", s)
	}
	return rate, ""
}
