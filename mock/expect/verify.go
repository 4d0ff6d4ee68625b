package expect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// MaxClosest bounds the closest requests a failure lists.
const MaxClosest = 3

// Journal returns the entries of a session's journal, oldest first. The
// caller takes them under the session's lock; entries never change once
// recorded, so they are read unlocked afterwards.
type Journal func(session string) []*state.JournalEntry

// Options are what a verification reads.
type Options struct {
	// Session is the verifying request's session (X-Mock-Session): the
	// journal of patterns that name none.
	Session string
	// Set is the configuration the request runs on: the API keys' workspaces.
	Set     *scenarios.Set
	Journal Journal
	// Context ends the verification early (the client gone, the time
	// budget spent): Verify stops within one entry's work and returns the
	// context's error. nil: it runs to the end.
	Context context.Context
}

// Result is a verification's outcome.
type Result struct {
	// Matched counts the requests found: for a count, those that match its
	// pattern; for a sequence, the steps matched in order; summed over
	// every expectation.
	Matched int
	// Matches are those requests, each once, in the order the expectations
	// found them.
	Matches []Match
	// Failures are the expectations that do not hold, every one of them.
	Failures []Failure
}

// OK reports whether every expectation holds.
func (r Result) OK() bool { return len(r.Failures) == 0 }

// Match is a request found in a session's journal.
type Match struct {
	Session string
	Entry   *state.JournalEntry
}

// Failure is an expectation that does not hold.
type Failure struct {
	Expectation int // its index in the body's expect list (0 for a single one)
	Session     string
	// Request and Count for a count; Sequence and Step (the index of the
	// pattern that found nothing) for a sequence.
	Request  *scenarios.Pattern
	Count    scenarios.Count
	Sequence []*scenarios.Pattern
	Step     int
	Expected string // what was expected, for a person
	Found    string // what was found, for a person
	Matched  []*state.JournalEntry
	// Closest are the requests nearest to the pattern (for a sequence, the
	// failing step's), at most MaxClosest, fewest differences first.
	Closest []Closest
}

// Closest is a request that a pattern did not match, with what differed.
type Closest struct {
	Entry       *state.JournalEntry
	Differences []scenarios.Difference
}

// Verify checks every expectation against the journals (see the package
// documentation for what a pattern matches). When opts.Context ends first,
// it returns the context's error and a partial Result to drop.
func Verify(exps []scenarios.Expectation, opts Options) (Result, error) {
	v := &verifier{opts: opts, keys: keysOf(opts.Set), journals: map[string]*journal{},
		mask: opts.Set == nil || opts.Set.Settings.Security.MaskCredentials}
	if opts.Context != nil {
		stop := context.AfterFunc(opts.Context, func() { v.stopped.Store(true) })
		defer stop()
	}
	var res Result
	seen := map[Match]bool{}
	add := func(session string, entries []*state.JournalEntry) {
		for _, e := range entries {
			m := Match{Session: session, Entry: e}
			if !seen[m] {
				seen[m] = true
				res.Matches = append(res.Matches, m)
			}
		}
	}
	for i, exp := range exps {
		var f *Failure
		var found []*state.JournalEntry
		var session string
		if v.stopped.Load() {
			break
		}
		if exp.Request != nil {
			session = v.session(exp.Request)
			found, f = v.count(exp.Request, exp.Count)
		} else {
			session = v.session(exp.Sequence[0])
			found, f = v.sequence(exp.Sequence)
		}
		res.Matched += len(found)
		add(session, found)
		if f != nil {
			f.Expectation, f.Session = i, session
			if v.mask {
				f.Request, f.Sequence = shownPatterns(f.Request, f.Sequence)
			}
			res.Failures = append(res.Failures, *f)
		}
	}
	if v.stopped.Load() {
		return res, context.Cause(opts.Context)
	}
	return res, nil
}

type verifier struct {
	opts     Options
	keys     keys
	journals map[string]*journal
	mask     bool // settings.security.mask_credentials: failures show patterns' keys masked
	// stopped is set when opts.Context ends: the loops over entries read it
	// before each entry (an atomic load, where ctx.Err takes a lock), so
	// that a verification stops within one entry's work.
	stopped atomic.Bool
}

// journal is one session's entries with their facts, read once.
type journal struct {
	entries []*state.JournalEntry
	facts   []scenarios.Facts
	read    []bool
}

func (v *verifier) session(p *scenarios.Pattern) string {
	if p.HasSession {
		return p.Session
	}
	return v.opts.Session
}

func (v *verifier) journal(p *scenarios.Pattern) *journal {
	s := v.session(p)
	j := v.journals[s]
	if j == nil {
		entries := v.opts.Journal(s)
		j = &journal{entries: entries, facts: make([]scenarios.Facts, len(entries)), read: make([]bool, len(entries))}
		v.journals[s] = j
	}
	return j
}

func (j *journal) factsAt(i int, k keys) *scenarios.Facts {
	if !j.read[i] {
		j.read[i] = true
		j.facts[i] = factsOf(j.entries[i], k)
	}
	return &j.facts[i]
}

// compiled is a pattern with the when it uses on journal entries whose
// credentials are masked: an equals on a credential header is compared in
// its masked form, so that a pattern may give the key as sent.
type compiled struct {
	p      *scenarios.Pattern
	masked *scenarios.When
}

func compile(p *scenarios.Pattern) *compiled {
	c := &compiled{p: p, masked: &p.When}
	for i, h := range p.When.Headers {
		if !secret.IsCredentialHeader(h.Key) || h.M.Op != "equals" || strings.Contains(h.M.Value, "(fp ") {
			continue
		}
		m := h.M.WithValue(secret.MaskHeader(h.Key, h.M.Value))
		if m == nil {
			continue
		}
		if c.masked == &p.When {
			w := p.When
			w.Headers = slices.Clone(p.When.Headers)
			c.masked = &w
		}
		c.masked.Headers[i].M = m
	}
	return c
}

func (c *compiled) when(e *state.JournalEntry) *scenarios.When {
	if e.KeepCredentials {
		return &c.p.When
	}
	return c.masked
}

// distance counts the pattern's conditions e does not meet; with out, it
// lists them.
func (c *compiled) distance(e *state.JournalEntry, f *scenarios.Facts, out *[]scenarios.Difference) int {
	w := c.when(e)
	var n int
	if out == nil {
		n = w.Distance(f)
	} else {
		*out = append(*out, w.Differences(f)...)
		n = len(*out)
	}
	p := c.p
	if p.Status != 0 && p.Status != e.Status {
		n++
		if out != nil {
			*out = append(*out, scenarios.Difference{Field: "status", Expected: p.Status, Actual: e.Status})
		}
	}
	if p.Scenario != nil && !p.Scenario.Match(e.Scenario) {
		n++
		if out != nil {
			*out = append(*out, scenarios.Difference{Field: "scenario", Expected: p.Scenario.Wanted(), Actual: orNil(e.Scenario)})
		}
	}
	if p.Rule != nil && !scenarios.MatchRule(p.Rule, e.Rule) {
		n++
		if out != nil {
			*out = append(*out, scenarios.Difference{Field: "rule", Expected: p.Rule.Wanted(), Actual: orNil(e.Rule)})
		}
	}
	return n
}

// matches reports whether e matches the pattern. What the entry itself
// holds is checked first (headDistance), so that the body of a request the
// pattern cannot match is never decoded.
func (c *compiled) matches(j *journal, i int, k keys) bool {
	return c.headDistance(j.entries[i]) == 0 && c.distance(j.entries[i], j.factsAt(i, k), nil) == 0
}

// headDistance counts the conditions on what the entry itself holds — API,
// method, path, status, scenario, rule — that it misses: a lower bound of
// distance that reads no body.
func (c *compiled) headDistance(e *state.JournalEntry) int {
	p, n := c.p, 0
	w := &p.When
	for _, missed := range [...]bool{
		w.API != "" && w.API != apiOf(e.Path),
		w.Method != nil && !w.Method.Match(e.Method),
		w.Path != nil && !w.Path.Match(e.Path),
		p.Status != 0 && p.Status != e.Status,
		p.Scenario != nil && !p.Scenario.Match(e.Scenario),
		p.Rule != nil && !scenarios.MatchRule(p.Rule, e.Rule),
	} {
		if missed {
			n++
		}
	}
	return n
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// count checks that p matches a count of requests.
func (v *verifier) count(p *scenarios.Pattern, count scenarios.Count) ([]*state.JournalEntry, *Failure) {
	j, c := v.journal(p), compile(p)
	var found []*state.JournalEntry
	for i, e := range j.entries {
		if v.stopped.Load() {
			return found, nil
		}
		if c.matches(j, i, v.keys) {
			found = append(found, e)
		}
	}
	if count.Holds(len(found)) {
		return found, nil
	}
	f := &Failure{Request: p, Count: count, Step: -1, Matched: found, Expected: countText(count), Found: foundText(found)}
	if len(found) < count.Min {
		f.Closest = v.closest(j, c, 0, len(j.entries))
	}
	return found, f
}

// sequence checks that the patterns match requests in their order: each
// the first request after the one the pattern before it matched. They
// need not be adjacent; others may come between.
func (v *verifier) sequence(seq []*scenarios.Pattern) ([]*state.JournalEntry, *Failure) {
	j := v.journal(seq[0])
	var found []*state.JournalEntry
	pos := -1
	for k, p := range seq {
		c := compile(p)
		next := -1
		for i := pos + 1; i < len(j.entries) && !v.stopped.Load(); i++ {
			if c.matches(j, i, v.keys) {
				next = i
				break
			}
		}
		if next >= 0 {
			found = append(found, j.entries[next])
			pos = next
			continue
		}
		f := &Failure{Sequence: seq, Step: k, Matched: found,
			Expected: fmt.Sprintf("%d requests in order, sequence[%d] after %s", len(seq), k, afterWhat(found))}
		var before []*state.JournalEntry
		for i := 0; i <= pos && !v.stopped.Load(); i++ {
			if c.matches(j, i, v.keys) {
				before = append(before, j.entries[i])
			}
		}
		switch {
		case len(before) > 0:
			f.Found = fmt.Sprintf("sequence[%d] matches only requests before %s: %s, out of order", k, state.JournalID(found[len(found)-1].Seq), ids(before))
			last := found[len(found)-1]
			for _, e := range lastN(before, MaxClosest) {
				f.Closest = append(f.Closest, Closest{Entry: e, Differences: []scenarios.Difference{{
					Field: "order", Expected: "after " + state.JournalID(last.Seq), Actual: "before it"}}})
			}
		case pos >= 0:
			f.Found = fmt.Sprintf("sequence[0] to [%d] matched %s; no request after them matches sequence[%d]", k-1, ids(found), k)
			f.Closest = v.closest(j, c, pos+1, len(j.entries))
		default:
			f.Found = "no request matches sequence[0]"
			f.Closest = v.closest(j, c, 0, len(j.entries))
		}
		return found, f
	}
	return found, nil
}

func afterWhat(found []*state.JournalEntry) string {
	if len(found) == 0 {
		return "the start"
	}
	return state.JournalID(found[len(found)-1].Seq)
}

// closest ranks the entries from..to that c does not match by how many
// of its conditions they miss, and lists the MaxClosest nearest with what
// differed (ties: the earlier request first). Counting allocates nothing;
// only the few kept are described.
func (v *verifier) closest(j *journal, c *compiled, from, to int) []Closest {
	type near struct{ i, d int }
	var best [MaxClosest]near
	n := 0
	for i := from; i < to && !v.stopped.Load(); i++ {
		if n == len(best) && c.headDistance(j.entries[i]) >= best[n-1].d {
			continue // it cannot come closer than those kept: its body stays unread
		}
		d := c.distance(j.entries[i], j.factsAt(i, v.keys), nil)
		if d == 0 || n == len(best) && d >= best[n-1].d {
			continue
		}
		k := min(n, len(best)-1)
		for k > 0 && best[k-1].d > d {
			best[k] = best[k-1]
			k--
		}
		best[k] = near{i: i, d: d}
		n = min(n+1, len(best))
	}
	out := make([]Closest, 0, n)
	for _, b := range best[:n] {
		var diffs []scenarios.Difference
		c.distance(j.entries[b.i], j.factsAt(b.i, v.keys), &diffs)
		if v.mask {
			maskDifferences(diffs)
		}
		out = append(out, Closest{Entry: j.entries[b.i], Differences: diffs})
	}
	return out
}

// countText is a count as a person reads it: "exactly 2 matching
// requests", "no matching request".
func countText(c scenarios.Count) string {
	n := c.Min
	switch {
	case c.Max == 0:
		return "no matching request"
	case c.Max > 0 && c.Min != c.Max:
		n = c.Max
	}
	return c.String() + " matching " + plural(n, "request")
}

// foundText is "no matching request", or "2 matching requests: req_…, req_…".
func foundText(found []*state.JournalEntry) string {
	if len(found) == 0 {
		return "no matching request"
	}
	return fmt.Sprintf("%d matching %s%s", len(found), plural(len(found), "request"), listIDs(found))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// listIDs is ": req_1, req_2" (at most 10, then "…"), or "" for none.
func listIDs(entries []*state.JournalEntry) string {
	if len(entries) == 0 {
		return ""
	}
	return ": " + ids(entries)
}

func ids(entries []*state.JournalEntry) string {
	var b strings.Builder
	for i, e := range entries {
		if i == 10 {
			fmt.Fprintf(&b, ", … (%d more)", len(entries)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(state.JournalID(e.Seq))
	}
	return b.String()
}

func lastN(entries []*state.JournalEntry, n int) []*state.JournalEntry {
	if len(entries) > n {
		return entries[len(entries)-n:]
	}
	return entries
}
