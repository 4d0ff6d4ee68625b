package scenarios

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/brianvoe/gofakeit/v7/data"
)

// TestSentenceIsGofakeits holds the compiled Sentence to gofakeit's own:
// from the same seed, the same text and the same draws (the next value of
// the stream agrees), over enough seeds that every template is picked.
func TestSentenceIsGofakeits(t *testing.T) {
	list := sentenceTemplates()
	if len(list) != len(data.Data["text"]["sentence"]) || len(list) == 0 {
		t.Fatalf("%d templates compiled of %d", len(list), len(data.Data["text"]["sentence"]))
	}
	raw := 0
	for _, tm := range list {
		if tm.raw != "" {
			raw++
		}
	}
	t.Logf("%d templates, %d expanded by gofakeit", len(list), raw)
	seen := make([]bool, len(list))
	for seed := uint64(1); seed <= 40_000; seed++ {
		ours := gofakeit.NewFaker(rand.NewPCG(seed, seed*7919), false)
		theirs := gofakeit.NewFaker(rand.NewPCG(seed, seed*7919), false)
		probe := gofakeit.NewFaker(rand.NewPCG(seed, seed*7919), false)
		seen[probe.IntN(len(list))] = true
		var b strings.Builder
		b.WriteString("» ")
		writeSentence(ours, &b)
		want := "» " + theirs.Sentence()
		if b.String() != want {
			t.Fatalf("seed %d: %q, gofakeit says %q", seed, b.String(), want)
		}
		if a, z := ours.Uint64(), theirs.Uint64(); a != z {
			t.Fatalf("seed %d: the streams part after the sentence (%d, %d)", seed, a, z)
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Errorf("template %d (%q) never picked", i, data.Data["text"]["sentence"][i])
		}
	}
}

// TestCompileSentenceFallsBack: what the compiler does not follow exactly
// is left to gofakeit, and what it follows becomes the same parts.
func TestCompileSentenceFallsBack(t *testing.T) {
	for _, tm := range []string{"", "0 {nouncommon}", "Pick ### {nouncommon}.", "Who {nouncommon}?", "A {nouncommon{x}}", "A {nouncommon", "A {number:[1,2]}"} {
		if c := compileSentence(tm); c.raw != tm || c.parts != nil {
			t.Errorf("%q compiled to %+v, want gofakeit's expansion", tm, c)
		}
	}
	c := compileSentence("Take {number:1, 4} of {nosuchfunc} {nouncommon}.")
	if c.raw != "" || len(c.parts) != 7 {
		t.Fatalf("parts %+v", c.parts)
	}
	if p := c.parts[1]; p.info == nil || p.params == nil || (*p.params)["min"][0] != "1" || (*p.params)["max"][0] != "4" {
		t.Errorf("number part %+v", p)
	}
	if p := c.parts[3]; p.info != nil || p.text != "{nosuchfunc}" {
		t.Errorf("unknown function part %+v", p)
	}
	// Compiled or not, a template expands as gofakeit's Generate does.
	for _, tm := range []string{"Take {number:1, 4} of {nosuchfunc} {nouncommon}.", "Pick ### {nouncommon}.", "Who {nouncommon}?", "{color} {hobby} {city}", "plain"} {
		c := compileSentence(tm)
		for seed := uint64(1); seed < 500; seed++ {
			ours := gofakeit.NewFaker(rand.NewPCG(seed, 1), false)
			theirs := gofakeit.NewFaker(rand.NewPCG(seed, 1), false)
			got, ok := c.expand(ours, nil)
			want, err := theirs.Generate(tm)
			if !ok || err != nil || string(got) != want || ours.Uint64() != theirs.Uint64() {
				t.Fatalf("%q seed %d: %q (%v), gofakeit %q (%v)", tm, seed, got, ok, want, err)
			}
		}
	}
}
