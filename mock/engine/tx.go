package engine

import (
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Tx is one request's work on its session: it holds the session's lock
// from Begin until End (or Commit), so that checks, rule decisions and the
// write they lead to see one consistent session. A caller writes
//
//	tx := e.Begin(set, session)
//	defer tx.End()
//
// and never unlocks by hand; End is idempotent, so a handler may end the
// transaction early, before it writes to the network, and still defer it.
type Tx struct {
	e      *Engine
	set    *scenarios.Set
	sess   *state.Session
	locked bool
}

// Begin locks session (creating it on first use), merged with set: the
// configuration the request runs on, from start to end.
func (e *Engine) Begin(set *scenarios.Set, session string) *Tx {
	return &Tx{e: e, set: set, sess: e.store.Lock(session, set), locked: true}
}

// BeginRead is Begin for a request that only reads (verify, unmatched,
// usage): a session that does not exist is not created — the transaction
// reads an empty session no one else sees (state.Store.LockForRead).
func (e *Engine) BeginRead(set *scenarios.Set, session string) *Tx {
	return &Tx{e: e, set: set, sess: e.store.LockForRead(session, set), locked: true}
}

// End releases the session. It is safe to call more than once.
func (tx *Tx) End() {
	if tx.locked {
		tx.locked = false
		tx.sess.Unlock()
	}
}

// Session is the locked session, to read and write while the transaction
// lasts. Nothing read from it may be used after End but messages and
// events, which never change once stored.
func (tx *Tx) Session() *state.Session { return tx.sess }

// Action is what a request does after the scenario step.
type Action int

const (
	// Proceed: store the message and answer normally; Respond may still
	// set the status, headers, body or latency of that answer.
	Proceed Action = iota
	// UnknownScenario: X-Mock-Scenario names a scenario that does not exist.
	UnknownScenario
	// Scripted: Respond is an error or a fault; nothing is stored.
	Scripted
	// PassThrough: no rule matched and the settings name an upstream.
	PassThrough
)

// Outcome is the scenario step's decision for one request.
type Outcome struct {
	Action   Action
	Scenario string          // the scenario the request ran (the unknown name for UnknownScenario)
	Rule     *scenarios.Rule // the rule that ended the match, or nil
	// Continued are the rules that fired with continue: true before it,
	// adding their latency and headers.
	Continued []*scenarios.Rule
	// Respond is the answer's changes: the final rule's respond, with the
	// headers of the continuing rules before its own; nil for none.
	Respond *scenarios.Respond
	Latency time.Duration // to wait before answering: every rule's that fired
	// NearMisses are, when no rule ended the match (Rule is nil), the
	// rules closest to matching, closest first (see nearMisses).
	NearMisses []scenarios.NearMiss
}

// RuleName names the rules that fired, in order, separated by ", "; "" for
// none. With one rule, as nearly always, it is that rule's name.
func (o Outcome) RuleName() string {
	if len(o.Continued) == 0 {
		if o.Rule == nil {
			return ""
		}
		return o.Rule.Name
	}
	names := make([]string, 0, len(o.Continued)+1)
	for _, r := range o.Continued {
		names = append(names, r.Name)
	}
	if o.Rule != nil {
		names = append(names, o.Rule.Name)
	}
	return strings.Join(names, ", ")
}

// Decide is the scenario step every request shares: it picks the request's
// scenario (named, else the session's active one, else the server's), then
// tries its rules in order, and the default scenario's after them. A rule
// that matches and is enabled fires — it counts and moves the state
// machine — and ends the match, unless it continues (continue: true): then
// its latency and headers are added and the next rules are tried. Latency
// samples are drawn from the session's stream in the order the rules fire.
func (tx *Tx) Decide(facts *scenarios.Facts, named string) Outcome {
	out := Outcome{Scenario: named}
	if named != "" {
		if tx.e.lookup(tx.sess, tx.set, named) == nil {
			out.Action = UnknownScenario
			return out
		}
	} else if out.Scenario = tx.sess.ActiveScenario(); out.Scenario == "" {
		out.Scenario = tx.e.ServerScenario()
	}
	var tried [2]*scenarios.Scenario
	tried[0] = tx.e.lookup(tx.sess, tx.set, out.Scenario)
	if !tx.try(tried[0], facts, &out) && out.Scenario != "default" {
		tried[1] = tx.e.lookup(tx.sess, tx.set, "default")
		tx.try(tried[1], facts, &out)
	}
	if out.Rule == nil {
		out.NearMisses = tx.nearMisses(facts, out.Continued, tried)
	}
	if len(out.Continued) > 0 {
		// A new respond: the published configuration is never changed.
		merged := &scenarios.Respond{}
		if out.Rule != nil && out.Rule.Respond != nil {
			*merged = *out.Rule.Respond
		}
		var headers []scenarios.Header
		for _, r := range out.Continued {
			headers = append(headers, r.Respond.Headers...)
		}
		merged.Headers = append(headers, merged.Headers...)
		out.Respond = merged
	}
	switch {
	case out.Respond.IsError():
		out.Action = Scripted
	case out.Rule == nil && facts.Send && tx.set.Settings.Passthrough.URL != "":
		out.Action = PassThrough
	}
	return out
}

// try tries sc's rules in order and reports whether one ended the match.
// Chance rolls come from the session's stream, drawn only for rules that
// otherwise match.
func (tx *Tx) try(sc *scenarios.Scenario, facts *scenarios.Facts, out *Outcome) bool {
	if sc == nil {
		return false
	}
	var rt *state.RuleRuntime
	for rule := range sc.Candidates(facts) {
		if !rule.When.Match(facts) {
			continue
		}
		if rt == nil {
			rt = tx.sess.Rules(sc)
		}
		if rule.Times > 0 && rt.Hits[rule.Name] >= rule.Times {
			continue
		}
		if rule.State != nil && rule.State.Require != "" && rt.State != rule.State.Require {
			continue
		}
		if rule.Chance > 0 && rule.Chance < 1 && tx.sess.Float() >= rule.Chance {
			continue
		}
		rt.Hits[rule.Name]++
		if rule.State != nil && rule.State.Set != "" {
			rt.State = rule.State.Set
		}
		if rule.Respond != nil {
			out.Latency += tx.e.scale(sampleWith(tx.sess, rule.Respond.Latency))
		}
		if rule.Continue {
			out.Continued = append(out.Continued, rule)
			continue
		}
		out.Rule, out.Respond = rule, rule.Respond
		return true
	}
	return false
}
