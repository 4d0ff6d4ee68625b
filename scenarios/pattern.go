package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pattern matches the journal's requests: what POST /__mock/verify
// counts and orders. Its When is a rule's, read with the same reader, with
// one difference: a pattern reaches every request, reads and sends alike,
// whether it names a method or not.
type Pattern struct {
	When When
	// Session is the session whose journal the pattern reads; without it
	// (HasSession false) the verifying request's.
	Session    string
	HasSession bool
	Scenario   *Matcher // the scenario the request ran
	Rule       *Matcher // a rule that fired for it; {absent: true}: none
	Status     int      // the status answered; 0: any
	// Source is the pattern as it was sent, as JSON, for reports.
	Source json.RawMessage
}

// Count is how many requests an expectation wants: at least Min and, when
// Max is not -1, at most Max.
type Count struct{ Min, Max int }

// Holds reports whether n requests meet the count.
func (c Count) Holds(n int) bool { return n >= c.Min && (c.Max < 0 || n <= c.Max) }

func (c Count) String() string {
	switch {
	case c.Max == 0:
		return "never"
	case c.Min == c.Max:
		return "exactly " + strconv.Itoa(c.Min)
	case c.Max < 0:
		return "at least " + strconv.Itoa(c.Min)
	case c.Min == 0:
		return "at most " + strconv.Itoa(c.Max)
	}
	return fmt.Sprintf("between %d and %d", c.Min, c.Max)
}

// Expectation is one check of POST /__mock/verify: that Request matches a
// Count of requests, or that the Sequence's patterns match requests in
// that order.
type Expectation struct {
	Request  *Pattern
	Count    Count
	Sequence []*Pattern
}

// MaxPatterns bounds the patterns of one verification: each is matched
// against every journal entry of its session.
const MaxPatterns = 100

var (
	patternKeys     = []string{"api", "method", "path", "headers", "status", "session", "scenario", "rule", "when"}
	expectationKeys = []string{"request", "count", "sequence"}
	countKeys       = []string{"exactly", "at_least", "at_most", "never"}
)

// VerificationSource names the body of POST /__mock/verify in problems
// ("body:1:42: …").
const VerificationSource = "body"

// ParseVerification reads the body of POST /__mock/verify, JSON (or YAML):
//
//	{"request": PATTERN, "count": {"exactly"|"at_least"|"at_most": N} | {"never": true}}
//	{"sequence": [PATTERN, …]}
//	{"expect": [ {request, count} | {sequence}, … ]}
//
// A count left out is {"at_least": 1}. A PATTERN holds api, method, path,
// headers, status, session, scenario, rule and when, which takes every key
// and operator of a rule's when (api, method, path and headers may be
// given at the top or in when, not both). Every problem is reported, each
// located in VerificationSource.
func ParseVerification(body []byte) ([]Expectation, error) {
	var probs Problems
	doc, ok := parseDoc(file{name: VerificationSource, data: body}, &probs)
	if !ok {
		if len(probs) == 0 {
			probs = Problems{{File: VerificationSource, Msg: `the body is empty: send {"request": {…}, "count": {…}}, {"sequence": […]} or {"expect": […]}`}}
		}
		return nil, probs
	}
	r := &reader{file: VerificationSource, probs: &probs}
	var exps []Expectation
	patterns := 0
	if top := r.resolve(doc); top != nil && top.Kind == yaml.MappingNode && mappingValue(top, "expect") != nil {
		f := r.fields(doc, "the body", "expect")
		items := r.seq(f["expect"], "expect")
		if emptyList(f["expect"]) {
			r.errorf(f["expect"], "expect lists no expectation")
		}
		for i, item := range items {
			if e, ok := r.expectation(item, fmt.Sprintf("expect[%d]", i)); ok {
				exps = append(exps, e)
				patterns += e.patterns()
			}
		}
	} else if e, ok := r.expectation(doc, "the body"); ok {
		exps = append(exps, e)
		patterns += e.patterns()
	}
	if patterns > MaxPatterns {
		r.errorf(doc, "at most %d patterns in one verification, got %d", MaxPatterns, patterns)
	}
	if r.overBudget() {
		r.errorf(doc, "document aliases too much (more than %d nodes to visit)", maxNodeVisits)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return exps, nil
}

func (e Expectation) patterns() int {
	if e.Request != nil {
		return 1
	}
	return len(e.Sequence)
}

// expectation reads {request, count} or {sequence}; what names it in problems.
func (r *reader) expectation(n *yaml.Node, what string) (Expectation, bool) {
	before := len(*r.probs)
	e := Expectation{Count: Count{Min: 1, Max: -1}}
	f := r.fields(n, what, expectationKeys...)
	if f == nil {
		return e, false
	}
	prefix := ""
	if what != "the body" {
		prefix = what + "."
	}
	switch {
	case f["sequence"] != nil && (f["request"] != nil || f["count"] != nil):
		r.errorf(f["sequence"], "%s: give request (with count) or sequence, not both", what)
	case f["sequence"] != nil:
		items := r.seq(f["sequence"], prefix+"sequence")
		if emptyList(f["sequence"]) {
			r.errorf(f["sequence"], "%ssequence lists no pattern", prefix)
		}
		for i, item := range items {
			e.Sequence = append(e.Sequence, r.pattern(item, fmt.Sprintf("%ssequence[%d]", prefix, i)))
		}
		for i, p := range e.Sequence {
			if first := e.Sequence[0]; p.Session != first.Session || p.HasSession != first.HasSession {
				r.errorf(items[i], "%ssequence[%d]: a sequence reads one session's journal; every pattern of it names the same session, or none", prefix, i)
			}
		}
	case f["request"] != nil:
		e.Request = r.pattern(f["request"], prefix+"request")
		if v := f["count"]; v != nil {
			e.Count = r.count(v, prefix+"count")
		}
	default:
		r.errorf(n, `%s needs request (a pattern, with count) or sequence (a list of patterns)`, what)
	}
	return e, len(*r.probs) == before
}

// emptyList reports whether n is a list with nothing in it.
func emptyList(n *yaml.Node) bool {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < 100; depth++ {
		n = n.Alias
	}
	return n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0
}

// count reads {exactly: N}, {at_least: N}, {at_most: N} (the two may go
// together) or {never: true}.
func (r *reader) count(n *yaml.Node, what string) Count {
	c := Count{Min: 0, Max: -1}
	f := r.fields(n, what, countKeys...)
	if f == nil {
		return c
	}
	num := func(key string) (int, bool) {
		if v := f[key]; v != nil {
			return r.integer(v, what+"."+key, 0, math.MaxInt32)
		}
		return 0, false
	}
	exactly, hasExactly := num("exactly")
	atLeast, hasAtLeast := num("at_least")
	atMost, hasAtMost := num("at_most")
	never := false
	if v := f["never"]; v != nil {
		var ok bool
		if never, ok = r.boolean(v, what+".never"); ok && !never {
			r.errorf(v, "%s.never: false asks for nothing; give a count instead", what)
		}
	}
	switch {
	case len(f) == 0:
		r.errorf(n, "%s needs exactly, at_least, at_most or never", what)
	case (hasExactly || never) && len(f) > 1:
		r.errorf(n, "%s: exactly and never stand alone; at_least and at_most may go together", what)
	case hasExactly:
		c = Count{Min: exactly, Max: exactly}
	case never:
		c = Count{Min: 0, Max: 0}
	default:
		if hasAtLeast {
			c.Min = atLeast
		}
		if hasAtMost {
			c.Max = atMost
			if hasAtLeast && atLeast > atMost {
				r.errorf(f["at_least"], "%s: at_least (%d) is above at_most (%d)", what, atLeast, atMost)
			}
		}
	}
	return c
}

// pattern reads a request pattern.
func (r *reader) pattern(n *yaml.Node, what string) *Pattern {
	p := &Pattern{}
	f := r.fields(n, what, patternKeys...)
	if f == nil {
		return p
	}
	p.Source, _ = r.jsonValue(n, what)
	if v := f["when"]; v != nil {
		p.When = r.when(v, what+".when")
		if wn := r.resolve(v); wn != nil {
			for _, key := range []string{"api", "method", "path", "headers"} {
				if f[key] != nil && mappingValue(wn, key) != nil {
					r.errorf(f[key], "%s: %s is given twice, at the top and in when; give it once", what, key)
				}
			}
		}
	}
	p.When.Reads = true
	if v := f["api"]; v != nil {
		p.When.API = r.api(v, what+".api")
	}
	if v := f["method"]; v != nil {
		p.When.Method = r.method(v, what+".method")
	}
	if v := f["path"]; v != nil {
		p.When.Path = r.path(v, what+".path")
	}
	if v := f["headers"]; v != nil {
		p.When.Headers = r.headers(v, what+".headers")
	}
	if v := f["status"]; v != nil {
		p.Status, _ = r.integer(v, what+".status", 100, 599)
	}
	if v := f["session"]; v != nil {
		if s, ok := r.str(v, what+".session"); ok {
			if len(s) > 128 || strings.IndexFunc(s, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
				r.errorf(v, "%s.session is an X-Mock-Session id: at most 128 printable ASCII characters", what)
			}
			p.Session, p.HasSession = s, true
		}
	}
	if v := f["scenario"]; v != nil {
		p.Scenario = r.matcher(v, what+".scenario")
	}
	if v := f["rule"]; v != nil {
		p.Rule = r.fieldMatcher(v, what+".rule")
	}
	return p
}

// MatchRule reports whether m holds for a journal entry's rule field:
// the names of the rules that fired, separated by ", " ("" for none). A
// pattern's rule holds when it holds for one of them; {absent: true} holds
// when none fired.
func MatchRule(m *Matcher, rules string) bool {
	if rules == "" || m.Op == opAbsent || m.Op == opPresent {
		return m.Match(rules)
	}
	for name := range strings.SplitSeq(rules, ", ") {
		if m.Match(name) {
			return true
		}
	}
	return false
}
