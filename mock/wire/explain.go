package wire

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/scenarios"
)

// MaxNearMissHeader bounds X-Mock-Near-Miss, in bytes: a proxy or client
// that limits header sizes still takes the answer.
const MaxNearMissHeader = 2048

// Decided notes on x what the scenario step decided for the journal and
// the log line: the scenario, the rules that fired, and, when none
// answered, that it went unmatched and its near misses. A request that
// carries X-Mock-Explain: 1 also gets them in X-Mock-Near-Miss (see
// NearMissHeader); any other answer stays as it would be without
// msgmock's explanation.
func Decided(x *Exchange, r *http.Request, out engine.Outcome) {
	x.Scenario, x.Rule = out.Scenario, out.RuleName()
	x.Unmatched, x.NearMisses = out.Rule == nil, out.NearMisses
	if len(out.NearMisses) > 0 && Header(r.Header, "X-Mock-Explain") == "1" {
		x.Header().Set("X-Mock-Near-Miss", NearMissHeader(out.NearMisses))
	}
}

// NearMissHeader writes near misses on one line of ASCII, closest first:
//
//	default/assistant-replies: sender_type want "user" got "agent"; billing/paid: text want contains "paid" got "Hello", state want "start" got "paid"
//
// Values are quoted as Go quotes them (non-ASCII escaped); field names (a
// metadata key, a header name, which a rule may spell with any bytes) are
// escaped the same way without the quotes; a value that is not a string is
// written as JSON; "none" is a field the request did not have. The line is cut at MaxNearMissHeader bytes, ending with "...".
func NearMissHeader(misses []scenarios.NearMiss) string {
	var b strings.Builder
	for i, m := range misses {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ascii(m.Scenario + "/" + m.Rule))
		b.WriteString(":")
		for j, d := range m.Differences {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(" ")
			b.WriteString(ascii(d.Field))
			b.WriteString(" want ")
			b.WriteString(wanted(d.Expected))
			b.WriteString(" got ")
			b.WriteString(shownValue(d.Actual))
		}
	}
	line := b.String()
	if len(line) > MaxNearMissHeader {
		line = line[:MaxNearMissHeader-3] + "..."
	}
	return line
}

// wanted writes a condition: "user", contains "invoice", regex "…" (ignore
// case), absent, present.
func wanted(v any) string {
	switch w := v.(type) {
	case string:
		return strconv.QuoteToASCII(w)
	case map[string]bool:
		if w["absent"] {
			return "absent"
		}
		return "present"
	case map[string]string:
		for op, val := range w {
			return op + " " + strconv.QuoteToASCII(val)
		}
	case map[string]any:
		for op, val := range w {
			if op != "ignore_case" {
				s, _ := val.(string)
				return op + " " + strconv.QuoteToASCII(s) + " (ignore case)"
			}
		}
	}
	return shownValue(v)
}

// ascii is s as Go quotes it, without the quotes.
func ascii(s string) string {
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

func shownValue(v any) string {
	switch s := v.(type) {
	case nil:
		return "none"
	case string:
		return strconv.QuoteToASCII(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
