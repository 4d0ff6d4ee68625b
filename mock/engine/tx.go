package engine

import (
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
	Rule     *scenarios.Rule // the rule that fired, or nil
	Respond  *scenarios.Respond
	Latency  time.Duration // to wait before answering
}

// RuleName is the name of the rule that fired, or "".
func (o Outcome) RuleName() string {
	if o.Rule == nil {
		return ""
	}
	return o.Rule.Name
}

// Decide is the scenario step both APIs share: it picks the request's
// scenario (named, else the session's active one, else the server's),
// finds the first enabled rule that matches facts — counting it and moving
// the state machine — and draws its latency from the session's stream.
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
	if out.Rule = tx.evaluate(out.Scenario, facts); out.Rule != nil && out.Rule.Respond != nil {
		out.Respond = out.Rule.Respond
		out.Latency = sampleWith(tx.sess, out.Respond.Latency)
	}
	switch {
	case out.Respond.IsError():
		out.Action = Scripted
	case out.Rule == nil && tx.set.Settings.Passthrough.URL != "":
		out.Action = PassThrough
	}
	return out
}

// evaluate returns the first enabled rule that matches: the named
// scenario's rules in order, then the default scenario's. A firing rule
// counts and moves the state machine. Chance rolls come from the session's
// stream, drawn only for rules that otherwise match.
func (tx *Tx) evaluate(name string, facts *scenarios.Facts) *scenarios.Rule {
	if rule := tx.try(tx.e.lookup(tx.sess, tx.set, name), facts); rule != nil {
		return rule
	}
	if name != "default" {
		return tx.try(tx.e.lookup(tx.sess, tx.set, "default"), facts)
	}
	return nil
}

func (tx *Tx) try(sc *scenarios.Scenario, facts *scenarios.Facts) *scenarios.Rule {
	if sc == nil {
		return nil
	}
	var rt *state.RuleRuntime
	for _, rule := range sc.Rules {
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
		return rule
	}
	return nil
}
