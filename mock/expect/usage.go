package expect

import (
	"fmt"
	"strings"

	"github.com/msgmock/msgmock/scenarios"
)

// Usage is how a scenario's rules were used in one session.
type Usage struct {
	Scenario string
	Session  string
	State    string // where the scenario's state machine stands
	Rules    []RuleUsage
}

// RuleUsage is one rule's: how often it fired (state.RuleRuntime.Hits).
type RuleUsage struct {
	Name  string
	Hits  int
	Times int // its times; 0: no limit
	// Left is what its times has not used up (0 without times).
	Left  int
	State *scenarios.StateStep
}

// NeverFired reports whether the rule never fired.
func (r RuleUsage) NeverFired() bool { return r.Hits == 0 }

// UsageOf is sc's usage by a session whose runtime state of it (see
// state.Session.RuleHits) is hits and current.
func UsageOf(sc *scenarios.Scenario, session string, hits map[string]int, current string) Usage {
	u := Usage{Scenario: sc.Name, Session: session, State: current, Rules: make([]RuleUsage, len(sc.Rules))}
	for i, rule := range sc.Rules {
		ru := RuleUsage{Name: rule.Name, Hits: hits[rule.Name], Times: rule.Times, State: rule.State}
		if rule.Times > 0 && ru.Hits < rule.Times {
			ru.Left = rule.Times - ru.Hits
		}
		u.Rules[i] = ru
	}
	return u
}

// NeverFired are the rules that never fired, in the scenario's order.
func (u Usage) NeverFired() []string {
	out := []string{}
	for _, r := range u.Rules {
		if r.NeverFired() {
			out = append(out, r.Name)
		}
	}
	return out
}

// TimesLeft are the rules that fired but not as many times as their times.
func (u Usage) TimesLeft() []string {
	out := []string{}
	for _, r := range u.Rules {
		if r.Left > 0 && !r.NeverFired() {
			out = append(out, r.Name)
		}
	}
	return out
}

// AllUsed reports whether every rule fired, each as often as its times.
func (u Usage) AllUsed() bool { return len(u.NeverFired()) == 0 && len(u.TimesLeft()) == 0 }

// Report is the rules not used up, as a person reads them; "" when every
// rule was.
//
//	msgmock: scenario billing (session "suite-a", state "start"): 1 of 3 rules never fired, 1 has times left
//	  never fired: refund (state: requires "refunding", sets "start")
//	  times left:  fail-twice fired 1 of 2 times
func (u Usage) Report() string {
	never, left := u.NeverFired(), u.TimesLeft()
	if len(never) == 0 && len(left) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "msgmock: scenario %s (session %q, state %q): %d of %d %s never fired, %d %s times left\n",
		u.Scenario, u.Session, u.State, len(never), len(u.Rules), plural(len(u.Rules), "rule"), len(left), has(len(left)))
	for _, r := range u.Rules {
		switch {
		case r.NeverFired():
			fmt.Fprintf(&b, "  never fired: %s%s\n", r.Name, stateText(r.State))
		case r.Left > 0:
			fmt.Fprintf(&b, "  times left:  %s fired %d of %d times\n", r.Name, r.Hits, r.Times)
		}
	}
	return b.String()
}

func has(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func stateText(st *scenarios.StateStep) string {
	if st == nil {
		return ""
	}
	var parts []string
	if st.Require != "" {
		parts = append(parts, fmt.Sprintf("requires %q", st.Require))
	}
	if st.Set != "" {
		parts = append(parts, fmt.Sprintf("sets %q", st.Set))
	}
	return " (state: " + strings.Join(parts, ", ") + ")"
}
