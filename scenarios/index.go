package scenarios

import "iter"

// A scenario of many rules is tried through an index, so that a request's
// cost does not grow with the rules it cannot match. Each rule is filed
// under the first of its fields that must equal a value exactly
// (`text: "…"`, `sender_id: usr_1`, `{equals: …}` without ignore_case) —
// text, then sender_id, conversation_id, path — or, with none, kept in a
// list. A request tries the rules filed under its own values of those
// fields and the listed ones, merged back into the scenario's order. A rule
// that is not tried cannot match: the field it is filed under differs.
// Small scenarios are tried in full, and so are scenarios no rule of which
// has an exact field. Rules that only test `contains`, patterns or
// metadata are tried one by one (BenchmarkRuleMatching measures both).
const indexFrom = 16

// The fields rules are filed under, in the order a rule's key is chosen.
const (
	keyText = iota
	keySender
	keyConversation
	keyPath
	keyCount
)

func exactField(w *When, key int) *Matcher {
	switch key {
	case keyText:
		return w.Text
	case keySender:
		return w.SenderID
	case keyConversation:
		return w.ConversationID
	default:
		return w.Path
	}
}

func factField(f *Facts, key int) string {
	switch key {
	case keyText:
		return f.Text
	case keySender:
		return f.SenderID
	case keyConversation:
		return f.ConversationID
	default:
		return f.Path
	}
}

type ruleIndex struct {
	by   [keyCount]map[string][]int32 // rule positions, ascending; nil: no rule filed under the field
	rest []int32                      // rules with no exact field, ascending
}

func buildIndex(rules []*Rule) *ruleIndex {
	if len(rules) < indexFrom {
		return nil
	}
	ix := &ruleIndex{}
	filed := false
next:
	for i, r := range rules {
		for key := range keyCount {
			if m := exactField(&r.When, key); m != nil && m.Op == "equals" && !m.IgnoreCase {
				if ix.by[key] == nil {
					ix.by[key] = map[string][]int32{}
				}
				ix.by[key][m.Value] = append(ix.by[key][m.Value], int32(i))
				filed = true
				continue next
			}
		}
		ix.rest = append(ix.rest, int32(i))
	}
	if !filed {
		return nil // nothing to skip
	}
	return ix
}

// Candidates yields, in the scenario's order, the rules that may match f:
// every rule, or, for a scenario with an index, those filed under f's
// values and those with no exact field. A rule yielded may still not match
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
		var lists [keyCount + 1][]int32
		lists[keyCount] = ix.rest
		for key, m := range ix.by {
			if m != nil {
				lists[key] = m[factField(f, key)]
			}
		}
		for {
			// The lowest position at the head of a list goes next; each
			// position is in one list only.
			best := -1
			for k := range lists {
				if len(lists[k]) > 0 && (best < 0 || lists[k][0] < lists[best][0]) {
					best = k
				}
			}
			if best < 0 {
				return
			}
			i := lists[best][0]
			lists[best] = lists[best][1:]
			if !yield(sc.Rules[i]) {
				return
			}
		}
	}
}
