package wire

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/scenarios"
)

// Rate limits (settings.rate_limits, a scenario's rate_limits): each API
// calls Limit where its real service would refuse — after auth, so that
// every limited request has a key — once for the request windows and, on
// a send, once more for the characters windows when the message is
// validated. The headers are written spelled as real services spell them
// (X-RateLimit-Limit, x-ratelimit-remaining-requests); HTTP header names
// are case-insensitive.

// RateLimitHeaders are the names the rate limits may set, for CORS's
// Access-Control-Expose-Headers: a script in a browser reads them.
var RateLimitHeaders = []string{
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "retry-after-ms",
	"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
	"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
	"anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset",
	"anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset",
}

// Limit counts the request against its rate limits (engine.Limit) and
// sets the answer's rate-limit headers; when a window refuses it, it
// returns the API's 429 with Retry-After (whole seconds, rounded up) and,
// where the limit asks for it, retry-after-ms. With no limit configured it
// costs one flag check.
func Limit(x *Exchange, r *http.Request, e *engine.Engine, c engine.LimitCheck) *Problem {
	if !e.LimitsApply(x.Set) {
		return nil
	}
	dec, limited := e.Limit(x.Set, SessionID(r), Header(r.Header, "X-Mock-Scenario"), c)
	if !limited {
		return nil
	}
	h := x.Header()
	shown := mostConstrained(dec.States, "")
	if dec.Refused {
		for i := range dec.States {
			if dec.States[i].Limit == dec.Limit {
				shown = &dec.States[i]
			}
		}
	}
	setHeader(h, "X-RateLimit-Limit", strconv.FormatInt(shown.Limit.Amount, 10))
	setHeader(h, "X-RateLimit-Remaining", strconv.FormatInt(max(shown.Remaining, 0), 10))
	setHeader(h, "X-RateLimit-Reset", strconv.FormatInt(ceilSeconds(shown.Reset), 10))
	for _, style := range []string{scenarios.HeadersOpenAI, scenarios.HeadersAnthropic} {
		for _, unit := range []scenarios.LimitUnit{scenarios.UnitRequests, scenarios.UnitCharacters} {
			if st := mostConstrained(dec.States, style, unit); st != nil {
				styleHeaders(h, style, unit, st)
			}
		}
	}
	if !dec.Refused {
		return nil
	}
	x.Rule = "rate_limit:" + dec.Limit.Name
	if dec.Never {
		// No wait makes it fit: a 413 without Retry-After, which clients
		// and SDKs do not retry, rather than a 429 they would retry
		// forever.
		return &Problem{Status: http.StatusRequestEntityTooLarge, Message: tooLargeForLimit(c.Characters, dec.Limit)}
	}
	setHeader(h, "Retry-After", strconv.FormatInt(max(ceilSeconds(dec.RetryAfter), 1), 10))
	if dec.Limit.RetryAfterMS {
		setHeader(h, "retry-after-ms", strconv.FormatInt(max(dec.RetryAfter.Milliseconds(), 1), 10))
	}
	return Status(http.StatusTooManyRequests)
}

// mostConstrained is the state whose window has the least left, as a
// share of its limit (the later reset breaking a tie), among those of
// style ("" : any) and, if given, of unit.
func mostConstrained(states []engine.LimitState, style string, unit ...scenarios.LimitUnit) *engine.LimitState {
	var best *engine.LimitState
	bestShare := math.Inf(1)
	for i := range states {
		st := &states[i]
		if style != "" && st.Limit.Headers != style || len(unit) > 0 && st.Limit.Unit != unit[0] {
			continue
		}
		share := float64(st.Remaining) / float64(st.Limit.Amount)
		if best == nil || share < bestShare || share == bestShare && st.Reset > best.Reset {
			best, bestShare = st, share
		}
	}
	return best
}

// styleHeaders sets a real service's names for st: OpenAI's
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} (reset as a
// duration, "1s", "6m0s"), Anthropic's
// anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset} (reset as
// an RFC 3339 instant). Characters stand for tokens.
func styleHeaders(h http.Header, style string, unit scenarios.LimitUnit, st *engine.LimitState) {
	kind := "requests"
	if unit == scenarios.UnitCharacters {
		kind = "tokens"
	}
	limit, remaining := strconv.FormatInt(st.Limit.Amount, 10), strconv.FormatInt(max(st.Remaining, 0), 10)
	if style == scenarios.HeadersOpenAI {
		setHeader(h, "x-ratelimit-limit-"+kind, limit)
		setHeader(h, "x-ratelimit-remaining-"+kind, remaining)
		setHeader(h, "x-ratelimit-reset-"+kind, st.Reset.Round(time.Millisecond).String())
		return
	}
	setHeader(h, "anthropic-ratelimit-"+kind+"-limit", limit)
	setHeader(h, "anthropic-ratelimit-"+kind+"-remaining", remaining)
	setHeader(h, "anthropic-ratelimit-"+kind+"-reset", st.ResetAt.UTC().Truncate(time.Second).Format(time.RFC3339))
}

// setHeader sets name spelled as given: real services' rate-limit names
// are not in Go's canonical form. Any spelling set before is replaced.
func setHeader(h http.Header, name, value string) {
	h.Del(name)
	h[name] = []string{value}
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}

// tooLargeForLimit is the text of a message that no window of l can ever
// accept, in the APIs' words (a sentence, ending with a period).
func tooLargeForLimit(characters int, l *scenarios.RateLimit) string {
	return "Message too long for rate limit " + strconv.Quote(l.Name) + ": " + strconv.Itoa(characters) +
		" characters, and it allows " + strconv.FormatInt(l.Amount, 10) + " at most."
}
