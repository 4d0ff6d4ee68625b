package scenarios

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestUnreachableRulesWarn: a rule that an earlier rule — always enabled,
// ending the match, with an empty or the same condition — answers first
// loads with a warning; anything that lets it fire loads without one.
func TestUnreachableRulesWarn(t *testing.T) {
	tests := []struct {
		name, first, second string
		warns               bool
	}{
		{"after a catch-all", "{respond: {status: 503}}", "{when: {text: x}, respond: {status: 500}}", true},
		{"the same condition", "{when: {text: {contains: a}}, respond: {status: 503}}", "{when: {text: {contains: a}}, respond: {status: 500}}", true},
		{"a narrower condition after", "{when: {text: a}, respond: {status: 503}}", "{when: {text: a, sender_id: u}, respond: {status: 500}}", true},
		{"another text", "{when: {text: a}, respond: {status: 503}}", "{when: {text: b}, respond: {status: 500}}", false},
		{"a wider condition after", "{when: {text: a, sender_id: u}, respond: {status: 503}}", "{when: {text: a}, respond: {status: 500}}", false},
		{"times", "{times: 2, respond: {status: 503}}", "{respond: {status: 500}}", false},
		{"chance", "{chance: 0.5, respond: {status: 503}}", "{respond: {status: 500}}", false},
		{"a required state", "{state: {require: x}, respond: {status: 503}}", "{respond: {status: 500}}", false},
		{"continue", "{respond: {latency: 1s}, continue: true}", "{respond: {status: 500}}", false},
		{"another API", "{when: {api: conversations}, respond: {status: 503}}", "{when: {api: workspace}, respond: {status: 500}}", false},
		{"sends only before reads", "{respond: {status: 503}}", "{when: {method: GET}, respond: {status: 500}}", false},
		{"reads before sends", "{when: {method: '*'}, respond: {status: 503}}", "{respond: {status: 500}}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(fstest.MapFS{"s.yaml": {Data: []byte("scenario:\n  rules:\n    - " + tt.first + "\n    - " + tt.second + "\n")}}, "")
			if err != nil {
				t.Fatal(err)
			}
			w := set.Warnings()
			if got := len(w) == 1 && strings.Contains(w[0], "s.yaml:4:7: rules[1]") && strings.Contains(w[0], "can never fire"); got != tt.warns {
				t.Errorf("warnings %q, want a warning: %v", w, tt.warns)
			}
		})
	}
}
