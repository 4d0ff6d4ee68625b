package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// replyScenario parses a scenario sent over the admin API whose one rule
// replies with text, as PUT /__mock/scenarios/NAME does.
func replyScenario(name, text string) (*scenarios.Scenario, error) {
	body, _ := json.Marshal(map[string]any{"rules": []any{map[string]any{"reply": map[string]any{"text": text}}}})
	return scenarios.ParseScenario(name, body)
}

func replyTemplate(t *testing.T, text string) *scenarios.Template {
	t.Helper()
	sc, err := replyScenario("t", text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return sc.Rules[0].Replies[0].Text
}

// TestTemplateBombsRefusedAtLoad: a template that would make msgmock build
// a huge value or run for long, where its text shows it, is a load error
// located in the body, naming the bound.
func TestTemplateBombsRefusedAtLoad(t *testing.T) {
	many := func(s string, n int) string { return strings.Repeat(s, n) }
	for _, tt := range []struct{ name, text, want string }{
		{"Generate", `{{ Generate "{lettern:100000000}" }}`, "Generate is not available in a reply template"},
		{"Generate as an argument", `{{ len (Generate "{lettern:100000000}") }}`, "Generate is not available"},
		{"Template", `{{ Template "{{ .X }}" nil }}`, "Template is not available"},
		{"printf width in a loop", `{{ range 1000 }}{{ len (printf "%0999999d" 1) }}{{ end }}`, "a width or precision of 0999999"},
		{"printf width, 100,000 turns", `{{ range 100 }}{{ range 1000 }}{{ len (printf "%0999999d" 1) }}{{ end }}{{ end }}`, "a width or precision of 0999999"},
		{"printf precision", `{{ printf "%.5000f" 1.5 }}`, "a width or precision of 5000"},
		{"printf width from an argument", `{{ printf "%*d" 999999 1 }}`, "from an argument (*)"},
		{"printf format piped", `{{ "%0999999d" | printf }}`, "a width or precision of 0999999"},
		{"huge LetterN", `{{ LetterN 100000000 }}`, "LetterN asks for 100000000 items"},
		{"huge LetterN piped", `{{ 100000000 | LetterN }}`, "LetterN asks for 100000000 items"},
		{"huge LetterN in a condition", `{{ if LetterN 100000000 }}x{{ end }}`, "LetterN asks for"},
		{"Paragraph with huge counts", `{{ Paragraph 1000 1000 1000 " " }}`, "Paragraph asks for 1000000000 items"},
		{"LoremIpsumParagraph", `{{ LoremIpsumParagraph 1000 1000 1000 "x" }}`, "LoremIpsumParagraph asks for"},
		{"Password", `{{ Password true true true true false 1000000000 }}`, "Password asks for"},
		{"DigitN", `{{ DigitN 200000 }}`, "DigitN asks for"},
		{"negative count", `{{ LoremIpsumSentence -200000 }}`, "LoremIpsumSentence asks for"},
		{"a long Regex", `{{ Regex "` + many("a", 2000) + `" }}`, "Regex is given 2000 bytes of text"},
		{"too much work", `{{ range 100 }}{{ range 1000 }}` + many(`{{ if and 1 1 }}{{ end }}`, 10) + `{{ end }}{{ end }}`, "a reply template may take up to 1000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replyScenario("bomb", tt.text)
			var probs scenarios.Problems
			if !errors.As(err, &probs) || len(probs) != 1 {
				t.Fatalf("%s: got %v, want one problem", tt.text, err)
			}
			got := probs[0].String()
			if !strings.HasPrefix(got, "scenarios/bomb:1:") || !strings.Contains(got, tt.want) {
				t.Errorf("%s:\n got %s\nwant scenarios/bomb:1:COL: …%s…", tt.text, got, tt.want)
			}
		})
	}
}

// TestTemplateBoundsAtRender: where only the request shows the size, the
// render stops with an error wrapping ErrTemplateBudget, and nothing of
// the size asked for is built.
func TestTemplateBoundsAtRender(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		data       scenarios.RequestData
	}{
		{"a computed count", `{{ LoremIpsumSentence (len .Request.Text) }}`, scenarios.RequestData{Text: strings.Repeat("x", 200_000)}},
		{"a printf format from the request", `{{ printf .Request.Text 1 }}`, scenarios.RequestData{Text: "%0999999d"}},
		{"a printf width from the request", `{{ range 1000 }}{{ len (printf $.Request.Text 1) }}{{ end }}`, scenarios.RequestData{Text: "%09999d"}},
		{"output over 64 KiB", `{{ range 10000 }}{{ Sentence }}{{ end }}`, scenarios.RequestData{}},
		{"nested escapers", `{{ html (html (html (html (html .Request.Text)))) }}`, scenarios.RequestData{Text: strings.Repeat("&", 60_000)}},
		{"a helper's result", `{{ len (ToUpper .Request.Text) }}`, scenarios.RequestData{Text: strings.Repeat("a", 100_000)}},
		{"too many calls", `{{ range 100 }}{{ range 1000 }}{{ if Word }}{{ end }}{{ if Word }}{{ end }}{{ end }}{{ end }}`, scenarios.RequestData{}},
		{"too long", `{{ range 100 }}{{ range 1000 }}{{ len (LoremIpsumSentence 20000) }}{{ end }}{{ end }}`, scenarios.RequestData{}},
		{"a field's text to a guarded function", `{{ Regex .Request.Text }}`, scenarios.RequestData{Text: strings.Repeat("(a|b)", 300)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := replyTemplate(t, tt.text)
			out, err := tmpl.RenderSeeded(context.Background(), 1, 2, tt.data)
			if !errors.Is(err, scenarios.ErrTemplateBudget) {
				t.Fatalf("%s: got %d bytes, %v; want an error wrapping ErrTemplateBudget", tt.text, len(out), err)
			}
			if out != "" {
				t.Errorf("%s: %d bytes of output with the error", tt.text, len(out))
			}
		})
	}
	// Within the bounds, the same kinds of templates render.
	for _, text := range []string{`{{ LoremIpsumSentence (len .Request.Text) }}`, `{{ printf .Request.Text 1 }}`, `{{ range 100 }}{{ Word }} {{ end }}`, `{{ html .Request.Text }}`} {
		out, err := replyTemplate(t, text).RenderSeeded(context.Background(), 1, 2, scenarios.RequestData{Text: "%05d"})
		if err != nil || out == "" {
			t.Errorf("%s: %q, %v", text, out, err)
		}
	}
}

// endsAfter is a context that ends once its Err has been asked n times:
// the n-th check a render makes finds its request gone.
type endsAfter struct {
	context.Context
	n    atomic.Int64
	done chan struct{}
}

func newEndsAfter(n int64) *endsAfter {
	c := &endsAfter{Context: context.Background(), done: make(chan struct{})}
	c.n.Store(n)
	return c
}

func (c *endsAfter) Err() error {
	if c.n.Add(-1) <= 0 {
		return context.Canceled
	}
	return nil
}

func (c *endsAfter) Done() <-chan struct{} { return c.done }

// TestRenderStopsWhenItsRequestIsGone: a render whose context has ended
// does not start, and one whose context ends while it runs stops at its
// next function call, with the context's error — not the budget's, which
// a long render would otherwise reach.
func TestRenderStopsWhenItsRequestIsGone(t *testing.T) {
	long := replyTemplate(t, `{{ range 100 }}{{ range 1000 }}{{ len (LoremIpsumSentence 200) }}{{ end }}{{ end }}`)
	fast := replyTemplate(t, `{{ Sentence }}`)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tmpl := range []*scenarios.Template{long, fast} {
		if out, err := tmpl.RenderSeeded(ended, 1, 2, scenarios.RequestData{}); err != context.Canceled || out != "" {
			t.Errorf("%s with an ended context: %q, %v", tmpl.Source, out, err)
		}
	}
	ctx := newEndsAfter(50)
	out, err := long.RenderSeeded(ctx, 1, 2, scenarios.RequestData{})
	if err != context.Canceled || out != "" {
		t.Fatalf("a render whose context ends: %d bytes, %v; want context.Canceled", len(out), err)
	}
	// Once to find it ended, once more to return its error.
	if left := ctx.n.Load(); left < -1 {
		t.Errorf("the render went on: it checked its context %d more times after it ended", -left)
	}

	// A render waiting for a worker stops waiting when its context ends:
	// many long renders at once, each given a deadline.
	deadline, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	errs := make(chan error, 64)
	for i := 0; i < cap(errs); i++ {
		go func() {
			_, err := long.RenderSeeded(deadline, 1, 2, scenarios.RequestData{})
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != context.DeadlineExceeded && !errors.Is(err, scenarios.ErrTemplateBudget) {
			t.Errorf("render %d: %v, want context.DeadlineExceeded", i, err)
		}
	}
}
