package scenarios

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"
)

// FuzzLoad: any bytes as a fixtures file load or fail with located
// problems, never a panic or a hang.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"settings:\n  auth: {mode: listed, tokens: [{token: a}]}\n",
		"conversations:\n  - id: con_a\n    messages:\n      - {sender_id: u, sender_type: user, text: hi}\n  - generate: {count: 2, messages: 2}\n",
		"scenario:\n  rules:\n    - when: {text: {regex: \"(?i)x\"}}\n      reply: {text: \"{{ Name }}\", stream: {chunk: \"3\"}}\n",
		"a: &a [*a, *a]\n", "x: !!binary ====\n", "- - - -\n", "{", "settings: &s {}\nscenario: *s\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A load that never ends is a hang to fix, so it fails here and the
		// fuzzer keeps the input. The bound is far above a load's
		// milliseconds so that a busy machine under -race never trips it;
		// how quick loads are is BenchmarkLoad500's to say.
		var set *Set
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			set, err = Load(fstest.MapFS{"f.yaml": {Data: data}}, "")
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("loading %d bytes took over 30s: %q", len(data), data)
		}
		if err == nil {
			if set == nil {
				t.Fatal("nil Set without an error")
			}
			return
		}
		var probs Problems
		if !errors.As(err, &probs) || len(probs) == 0 {
			t.Fatalf("error %v is not a list of problems", err)
		}
		for _, p := range probs {
			if p.File != "f.yaml" || p.Msg == "" {
				t.Fatalf("problem %+v does not say where and what", p)
			}
		}
	})
}

// FuzzTemplate: any reply text parses or is refused at load; a parsed one
// renders (or fails) without a panic, within its output limit.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{ Sentence }}", "{{ .Request.Text | ToUpper }}", "{{ Number 10 1 }}", "{{ range IntRange 1 100000 }}xxxxxxxx{{ end }}", "{{ .Request.Metadata.a }}", "{{", "{{ range 50000000 }}{{ end }}", "{{ range 9999 }}{{ range 10 }}{{ Sentence 8 }}{{ end }}{{ end }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tmpl, err := parseTemplate(text)
		if err != nil {
			return
		}
		out, err := tmpl.Render(context.Background(), rand.NewPCG(1, 2), RequestData{Text: "hi", Metadata: map[string]any{"a": 1}, Headers: map[string]string{"X": "y"}})
		if err == nil && len(out) > maxTemplateOutput {
			t.Fatalf("rendered %d bytes, over the limit", len(out))
		}
	})
}

// FuzzMatcher: any matcher value compiles or is refused, and a compiled
// one matches any input without a panic.
func FuzzMatcher(f *testing.F) {
	f.Add("regex", "(?i)invoice", true, "Your INVOICE")
	f.Add("contains", "é", true, "É")
	f.Add("regex", "(a+)+$", false, "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!")
	f.Fuzz(func(t *testing.T, op, value string, ignoreCase bool, input string) {
		var probs Problems
		r := &reader{file: "f.yaml", probs: &probs}
		node := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: op}, {Kind: yaml.ScalarNode, Value: value, Tag: "!!str"},
			{Kind: yaml.ScalarNode, Value: "ignore_case"}, {Kind: yaml.ScalarNode, Value: map[bool]string{true: "true", false: "false"}[ignoreCase]},
		}}
		m := r.matcher(node, "when.text")
		if m == nil {
			if len(probs) == 0 {
				t.Fatal("refused without a problem")
			}
			return
		}
		_ = m.Match(input)
	})
}

// FuzzVerification: whatever body POST /__mock/verify gets, ParseVerification
// answers with expectations or with problems located in the body — never a
// panic, never both, never an error of another kind — and quickly (a
// pattern is parsed while its client waits).
func FuzzVerification(f *testing.F) {
	for _, s := range []string{
		`{"request": {"api": "conversations", "when": {"text": {"contains": "invoice"}}}, "count": {"exactly": 2}}`,
		`{"sequence": [{"method": "POST"}, {"path": "/v1/messages", "status": 200}]}`,
		`{"expect": [{"request": {"headers": {"Authorization": {"suffix": "(fp 38782e13)"}}}, "count": {"never": true}}]}`,
		`{"request": {"when": {"metadata": {"channel": {"absent": true}}}}}`,
		`request: {when: {text: {regex: "(?i)x"}}}`, `{"expect": []}`, `[]`, ``, `{"request": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var exps []Expectation
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			exps, err = ParseVerification(data)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("parsing %d bytes took over 30s: %q", len(data), data)
		}
		if err == nil {
			if len(exps) == 0 {
				t.Fatal("no expectation and no problem")
			}
			return
		}
		var probs Problems
		if !errors.As(err, &probs) || len(probs) == 0 || exps != nil {
			t.Fatalf("error %v (%T) with %d expectations", err, err, len(exps))
		}
		for _, p := range probs {
			if p.File != VerificationSource || p.Msg == "" {
				t.Fatalf("problem not located in the body: %+v", p)
			}
		}
	})
}
