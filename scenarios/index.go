package scenarios

import "iter"

// A scenario of many rules is tried through an index, so that a request's
// cost does not grow with the number of rules it cannot match: rules whose
// condition requires an exact text (`text: "…"`, `text: {equals: "…"}`
// without ignore_case) are filed under that text, the others kept in a
// list; a request tries the rules filed under its text and the others, in
// the scenario's order. Small scenarios are tried in full.
const indexFrom = 16

type ruleIndex struct {
	byText map[string][]int32 // rule positions, ascending
	rest   []int32            // rules with no exact text, ascending
}

func buildIndex(rules []*Rule) *ruleIndex {
	if len(rules) < indexFrom {
		return nil
	}
	ix := &ruleIndex{byText: map[string][]int32{}}
	for i, r := range rules {
		if m := r.When.Text; m != nil && m.Op == "equals" && !m.IgnoreCase {
			ix.byText[m.Value] = append(ix.byText[m.Value], int32(i))
			continue
		}
		ix.rest = append(ix.rest, int32(i))
	}
	if len(ix.byText) == 0 {
		return nil // nothing to skip
	}
	return ix
}

// Candidates yields, in the scenario's order, the rules that may match f:
// every rule, or, for a scenario with an index, those filed under f's text
// and those that need no exact text. A rule yielded may still not match
// (When.Match decides); one not yielded cannot.
func (sc *Scenario) Candidates(f *Facts) iter.Seq[*Rule] {
	return func(yield func(*Rule) bool) {
		ix := sc.index
		if ix == nil {
			for _, r := range sc.Rules {
				if !yield(r) {
					return
				}
			}
			return
		}
		a, b := ix.byText[f.Text], ix.rest
		for len(a) > 0 || len(b) > 0 {
			var i int32
			if len(b) == 0 || (len(a) > 0 && a[0] < b[0]) {
				i, a = a[0], a[1:]
			} else {
				i, b = b[0], b[1:]
			}
			if !yield(sc.Rules[i]) {
				return
			}
		}
	}
}
