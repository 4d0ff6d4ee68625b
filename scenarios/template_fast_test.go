package scenarios

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestFastTemplatesRenderAsTextTemplateDoes renders each template both
// ways from the same random sources: the output must be byte for byte the
// same, so a --seed run prints what it printed before the fast path.
func TestFastTemplatesRenderAsTextTemplateDoes(t *testing.T) {
	data := RequestData{Text: "Can you summarize my last 5 calls?", SenderID: "usr_82hd92", SenderType: "user", Role: "user",
		ConversationID: "con_9s2kd81", MessageID: "msg_45kd01", Metadata: map[string]any{"channel": "web"}, Headers: map[string]string{"X-A": "1"}}
	for _, tt := range []struct {
		text string
		fast bool
	}{
		{"{{ Sentence }}", true},
		{"{{ Sentence 8 }}", true},
		{"{{ Paragraph }}", true},
		{`{{ Paragraph 2 3 8 " " }}`, true},
		{"Hi {{ .Request.SenderID }}, {{ Name }} will look at “{{ .Request.Text }}”. {{ Sentence }}", true},
		{"{{ Number 1 10 }} {{ Bool }} {{ Word }}{{ Word }}", true},
		{"{{ UUID }} {{ Email }} {{ Company }} {{ City }} {{ Phone }}", true},
		{"{{ .Request.ConversationID }}/{{ .Request.MessageID }}/{{ .Request.Role }}/{{ .Request.SenderType }}", true},
		{"plain text", true},
		{"{{ Float64Range 1 2 }}", false},
		{"{{ .Request.Text | ToUpper }}", false},
		{"{{ .Request.Metadata.channel }}", false},
		{"{{ if .Request.Text }}yes{{ end }}", false},
		{"{{ LoremIpsumSentence 5 }}", true}, // a guarded function, with constant arguments within bounds
		{"{{ Number 1 }}", false},            // text/template's error, not ours
	} {
		fast, err := parseTemplate(tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if (fast.fast != nil) != tt.fast {
			t.Errorf("%s: fast path %v, want %v", tt.text, fast.fast != nil, tt.fast)
		}
		slow := *fast
		slow.fast = nil
		for seed := uint64(1); seed <= 200; seed++ {
			a, errA := fast.Render(context.Background(), rand.NewPCG(seed, seed), data)
			b, errB := slow.Render(context.Background(), rand.NewPCG(seed, seed), data)
			if a != b || (errA == nil) != (errB == nil) {
				t.Fatalf("%s, seed %d:\n fast %q (%v)\n text/template %q (%v)", tt.text, seed, a, errA, b, errB)
			}
		}
	}
}

func BenchmarkTemplateRender(b *testing.B) {
	tmpl, err := parseTemplate("{{ Sentence }}")
	if err != nil {
		b.Fatal(err)
	}
	slow := *tmpl
	slow.fast = nil
	src := rand.NewPCG(1, 2)
	for _, c := range []struct {
		name string
		t    *Template
	}{{"fast", tmpl}, {"text_template", &slow}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.t.Render(context.Background(), src, RequestData{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
