package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
)

// TestIndexFindsWhatAFullScanFinds: over seeded random scenarios large
// enough to be indexed (exact texts, senders, conversations and paths,
// other matchers, no exact field at all) and
// random requests, the rules Candidates yields that match are exactly the
// rules that match, in the same order.
func TestIndexFindsWhatAFullScanFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	words := []string{"a", "b", "c", "A", "hello", "invoice", ""}
	for round := 0; round < 200; round++ {
		var rules strings.Builder
		n := indexFrom + rng.IntN(40)
		for i := 0; i < n; i++ {
			w := words[rng.IntN(len(words))]
			switch rng.IntN(9) {
			case 0, 1, 2:
				fmt.Fprintf(&rules, "    - {when: {text: %q}, respond: {status: 500}}\n", w)
			case 3:
				fmt.Fprintf(&rules, "    - {when: {text: {equals: %q, ignore_case: true}}, respond: {status: 500}}\n", w)
			case 4:
				fmt.Fprintf(&rules, "    - {when: {text: {contains: %q}, sender_id: u%d}, respond: {status: 500}}\n", w, rng.IntN(2))
			case 5:
				fmt.Fprintf(&rules, "    - {when: {sender_id: u%d}, respond: {status: 500}}\n", rng.IntN(3))
			case 6:
				fmt.Fprintf(&rules, "    - {when: {conversation_id: c%d, text: {contains: %q}}, respond: {status: 500}}\n", rng.IntN(3), w)
			case 7:
				fmt.Fprintf(&rules, "    - {when: {method: \"*\", path: /v1/p%d}, respond: {status: 500}}\n", rng.IntN(3))
			default:
				fmt.Fprintf(&rules, "    - {when: {sender_id: {equals: u%d, ignore_case: true}, conversation_id: c%d}, respond: {status: 500}}\n", rng.IntN(3), rng.IntN(3))
			}
		}
		set, err := Load(fstest.MapFS{"s.yaml": {Data: []byte("scenario:\n  rules:\n" + rules.String())}}, "")
		if err != nil {
			t.Fatal(err)
		}
		sc := set.Scenario("s")
		if sc.index == nil {
			t.Fatalf("round %d: %d rules, no index", round, n)
		}
		for q := 0; q < 20; q++ {
			f := &Facts{Send: rng.IntN(4) > 0, Method: "POST", Text: words[rng.IntN(len(words))], SenderID: fmt.Sprintf("u%d", rng.IntN(3)),
				ConversationID: fmt.Sprintf("c%d", rng.IntN(3)), Path: fmt.Sprintf("/v1/p%d", rng.IntN(3))}
			var want, got []string
			for _, r := range sc.Rules {
				if r.When.Match(f) {
					want = append(want, r.Name)
				}
			}
			for r := range sc.Candidates(f) {
				if r.When.Match(f) {
					got = append(got, r.Name)
				}
			}
			if strings.Join(want, ",") != strings.Join(got, ",") {
				t.Fatalf("round %d, facts %+v:\nfull scan %v\nindex     %v", round, f, want, got)
			}
		}
	}
}
