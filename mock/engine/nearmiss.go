package engine

import (
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// nearMiss is a rule that could have answered a request, and how far it was.
type nearMiss struct {
	sc       *scenarios.Scenario
	rule     *scenarios.Rule
	distance int
}

// nearMisses ranks the rules of scs that did not answer a request no rule
// answered: the state.MaxNearMisses closest, by the number of conditions
// that failed (ties in the order the rules were tried). Only rules that
// can reach the request are considered — of its API, and naming a method
// or path unless it is a send — so a request that no rule could have
// answered costs a loop over the rules and allocates nothing.
//
// A condition is a key of the rule's when, or what enables it: times used
// up, a state it requires, and — when nothing else failed — a chance roll
// that missed. Rules that fired with continue: true (fired) are not misses.
func (tx *Tx) nearMisses(facts *scenarios.Facts, fired []*scenarios.Rule, scs [2]*scenarios.Scenario) []scenarios.NearMiss {
	var best [state.MaxNearMisses]nearMiss
	n := 0
	for _, sc := range scs {
		if sc == nil {
			continue
		}
		hits, current := tx.sess.RuleHits(sc)
		for _, rule := range sc.Rules {
			if rule.When.API != "" && rule.When.API != facts.API || !rule.When.Reads && !facts.Send || firedRule(fired, rule) {
				continue
			}
			d := rule.When.Distance(facts)
			d += len(enablement(rule, hits, current, d == 0))
			if n == len(best) && d >= best[n-1].distance {
				continue
			}
			i := min(n, len(best)-1)
			for i > 0 && best[i-1].distance > d {
				if i < len(best) {
					best[i] = best[i-1]
				}
				i--
			}
			best[i] = nearMiss{sc: sc, rule: rule, distance: d}
			n = min(n+1, len(best))
		}
	}
	if n == 0 {
		return nil
	}
	mask := tx.set.Settings.Security.MaskCredentials
	out := make([]scenarios.NearMiss, n)
	for i, c := range best[:n] {
		hits, current := tx.sess.RuleHits(c.sc)
		diffs := c.rule.When.Differences(facts)
		diffs = append(diffs, enablement(c.rule, hits, current, len(diffs) == 0)...)
		if mask {
			maskCredentials(diffs)
		}
		out[i] = scenarios.NearMiss{Scenario: c.sc.Name, Rule: c.rule.Name, Differences: diffs}
	}
	return out
}

func firedRule(fired []*scenarios.Rule, rule *scenarios.Rule) bool {
	for _, r := range fired {
		if r == rule {
			return true
		}
	}
	return false
}

// enablement lists what kept rule from firing besides its when: times
// used up, the state it requires; and, when its when held (whenHeld) and
// neither of those, its chance roll. It allocates only when it lists
// something.
func enablement(rule *scenarios.Rule, hits map[string]int, current string, whenHeld bool) []scenarios.Difference {
	var out []scenarios.Difference
	if rule.Times > 0 && hits[rule.Name] >= rule.Times {
		out = append(out, scenarios.Difference{Field: "times", Expected: "fewer than " + strconv.Itoa(rule.Times) + " firings",
			Actual: "fired " + strconv.Itoa(hits[rule.Name]) + " times"})
	}
	if rule.State != nil && rule.State.Require != "" && current != rule.State.Require {
		out = append(out, scenarios.Difference{Field: "state", Expected: rule.State.Require, Actual: current})
	}
	if whenHeld && len(out) == 0 && rule.Chance > 0 && rule.Chance < 1 {
		out = append(out, scenarios.Difference{Field: "chance", Expected: rule.Chance, Actual: "the roll missed"})
	}
	return out
}

// maskCredentials masks the values of credential headers in diffs, as the
// journal masks the request's own: what the request sent, and what the
// rule wants — an equals value, or the value of any other condition
// (contains, prefix, suffix, regex), which is as much the fixture's key.
func maskCredentials(diffs []scenarios.Difference) {
	for i, d := range diffs {
		name, ok := strings.CutPrefix(d.Field, "headers.")
		if !ok || !secret.IsCredentialHeader(name) {
			continue
		}
		if s, ok := d.Actual.(string); ok {
			diffs[i].Actual = secret.MaskHeader(name, s)
		}
		diffs[i].Expected = maskedWant(name, d.Expected)
	}
}

// maskedWant is a condition as Matcher.Wanted writes it, its value masked
// for the credential header name. The map is a copy: Wanted may share its
// value with the rule.
func maskedWant(name string, want any) any {
	switch w := want.(type) {
	case string:
		return secret.MaskHeader(name, w)
	case map[string]string:
		out := make(map[string]string, len(w))
		for op, v := range w {
			out[op] = secret.MaskHeader(name, v)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(w))
		for op, v := range w {
			if s, ok := v.(string); ok {
				v = secret.MaskHeader(name, s)
			}
			out[op] = v
		}
		return out
	}
	return want // absent, present: no value
}
