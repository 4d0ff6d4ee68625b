package expect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Report is the failures as a person reads them, one block each, the same
// text every client prints (mocktest, the npm client, the inspector):
//
//	msgmock: 1 of 1 expectation failed
//	request {"api":"conversations","when":{"text":{"contains":"invoice"}}}
//	  expected exactly 2 matching requests
//	  found    1 matching request: req_000001
//	  closest  req_000002: text: expected {"contains":"invoice"}, got "Hello"
//
// It is "" when every expectation holds. expectations is how many the
// verification checked: with more than one, each block names its index.
func (r Result) Report(expectations int) string {
	if r.OK() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "msgmock: %d of %d %s failed\n", len(r.Failures), expectations, plural(expectations, "expectation"))
	for _, f := range r.Failures {
		prefix := ""
		if expectations > 1 {
			prefix = fmt.Sprintf("expect[%d].", f.Expectation)
		}
		if f.Sequence != nil {
			fmt.Fprintf(&b, "%ssequence[%d] %s", prefix, f.Step, f.Sequence[f.Step].Source)
		} else {
			fmt.Fprintf(&b, "%srequest %s", prefix, f.Request.Source)
		}
		if f.Session != "" {
			fmt.Fprintf(&b, " (session %q)", f.Session)
		}
		fmt.Fprintf(&b, "\n  expected %s\n  found    %s\n", f.Expected, f.Found)
		for i, c := range f.Closest {
			label := "  closest  "
			if i > 0 {
				label = "           "
			}
			fmt.Fprintf(&b, "%s%s: %s\n", label, state.JournalID(c.Entry.Seq), differences(c.Differences))
		}
	}
	return b.String()
}

// differences is "text: expected {…}, got "Hello"; api: …".
func differences(diffs []scenarios.Difference) string {
	parts := make([]string, len(diffs))
	for i, d := range diffs {
		parts[i] = fmt.Sprintf("%s: expected %s, got %s", d.Field, compactJSON(d.Expected), compactJSON(d.Actual))
	}
	return strings.Join(parts, "; ")
}

// compactJSON writes v as JSON, HTML characters as they are; nil is "none".
func compactJSON(v any) string {
	if v == nil {
		return "none"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// UnmatchedReport lists requests no rule answered, each with its near
// misses; "" for none. total counts them all when entries is the first
// page of them:
//
//	msgmock: 1 request matched no rule
//	req_000003 POST /api/v1/messages (scenario default)
//	  near miss default/paid: text: expected {"contains":"paid"}, got "Hello"
func UnmatchedReport(entries []*state.JournalEntry, total int) string {
	if len(entries) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "msgmock: %d %s matched no rule", total, plural(total, "request"))
	if total > len(entries) {
		fmt.Fprintf(&b, " (the first %d listed)", len(entries))
	}
	b.WriteString("\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s (scenario %s)", state.JournalID(e.Seq), e.Method, e.Path, e.Scenario)
		if len(e.NearMisses) == 0 {
			b.WriteString(": no rule of it could answer this request\n")
			continue
		}
		b.WriteString("\n")
		for _, m := range e.NearMisses {
			fmt.Fprintf(&b, "  near miss %s/%s: %s\n", m.Scenario, m.Rule, differences(m.Differences))
		}
	}
	return b.String()
}
