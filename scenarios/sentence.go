package scenarios

import (
	"fmt"
	"strings"
	"sync"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/brianvoe/gofakeit/v7/data"
)

// Sentence, compiled. gofakeit's Sentence picks one of its sentence
// templates ("Review the {nouncommon} every {number:1,4} weeks.") and
// expands it with its generic generator, which for every {…} parses the
// name and parameters again, takes a global lock to look the function up
// and formats the value with fmt — most of the cost of the built-in
// auto-reply, "{{ Sentence }}", the hottest template there is. Here each
// template is parsed once, its functions and parameters looked up once,
// and a sentence is the same calls to the same functions in the same
// order: the same draws, byte for byte the same text (sentence_test.go
// holds it to gofakeit's own Sentence over every template). A template the
// compiler does not follow exactly (one with # or ? placeholders, nested
// or unclosed braces, bracketed parameters) is expanded by gofakeit itself.

// sentenceTemplate is one of gofakeit's sentence templates, compiled; raw
// is set instead of parts when gofakeit expands it itself.
type sentenceTemplate struct {
	parts []sentencePart
	raw   string
}

// sentencePart is literal text, or a function and its parameters.
type sentencePart struct {
	text   string
	info   *gofakeit.Info
	params *gofakeit.MapParams // read only, shared by every render
	words  []string            // for a word function: its list, drawn from as it draws
}

// wordLists are the word functions whose whole work is one draw from a
// list of gofakeit's data — getRandValue(f, []string{"word", list}), a
// random index — most of a sentence's parts. sentence_test.go holds the
// compiled sentences to gofakeit's, so a list named wrongly here fails it.
var wordLists = map[string]string{
	"nouncommon": "noun_common", "nounconcrete": "noun_concrete", "nounabstract": "noun_abstract",
	"adjectivedescriptive": "adjective_descriptive", "adverbmanner": "adverb_manner", "adverbdegree": "adverb_degree",
	"verbaction": "verb_action", "verbtransitive": "verb_transitive", "verbintransitive": "verb_intransitive",
	"verblinking": "verb_linking", "verbhelping": "verb_helping", "pronounpersonal": "pronoun_personal",
}

// sentenceTemplates is gofakeit's template list compiled, in its order;
// nil when gofakeit has none (Sentence then calls gofakeit).
var sentenceTemplates = sync.OnceValue(func() []sentenceTemplate {
	list := data.Data["text"]["sentence"]
	out := make([]sentenceTemplate, len(list))
	for i, t := range list {
		out[i] = compileSentence(t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
})

// compileSentence compiles t as gofakeit's generate reads it.
func compileSentence(t string) sentenceTemplate {
	raw := sentenceTemplate{raw: t}
	if t == "" || t[0] == '0' || strings.ContainsAny(t, "#?") {
		return raw // placeholders gofakeit draws for before expanding
	}
	var parts []sentencePart
	for t != "" {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			parts = append(parts, sentencePart{text: t})
			break
		}
		if open > 0 {
			parts = append(parts, sentencePart{text: t[:open]})
		}
		end := strings.IndexByte(t[open:], '}')
		if end < 0 || strings.IndexByte(t[open+1:open+end], '{') >= 0 {
			return raw
		}
		end += open
		name, params, _ := strings.Cut(t[open+1:end], ":")
		info := gofakeit.GetFuncLookup(name)
		if info == nil {
			parts = append(parts, sentencePart{text: t[open : end+1]}) // kept as written, as gofakeit does
			t = t[end+1:]
			continue
		}
		part := sentencePart{info: info}
		if list, ok := wordLists[name]; ok && params == "" && len(data.Data["word"][list]) > 0 {
			part.words = data.Data["word"][list]
		}
		if len(info.Params) > 0 && params != "" {
			m := gofakeit.NewMapParams()
			if len(info.Params) == 1 && info.Params[0].Type == "string" {
				m.Add(info.Params[0].Field, params)
			} else {
				if strings.ContainsAny(params, "[]") {
					return raw
				}
				for i, v := range strings.Split(params, ",") {
					if i < len(info.Params) {
						m.Add(info.Params[i].Field, strings.TrimSpace(v))
					}
				}
			}
			if m.Size() > 0 {
				part.params = m
			}
		}
		parts = append(parts, part)
		t = t[end+1:]
	}
	return sentenceTemplate{parts: parts}
}

// writeSentence writes what f.Sentence() would return, drawing what it
// would draw.
func writeSentence(f *gofakeit.Faker, b *strings.Builder) {
	list := sentenceTemplates()
	if list == nil {
		b.WriteString(f.Sentence())
		return
	}
	var room [256]byte
	out, ok := list[f.IntN(len(list))].expand(f, room[:0])
	if !ok {
		return // gofakeit's Sentence returns "" then
	}
	if len(out) == 0 {
		return
	}
	// Its first letter capitalised, as gofakeit does (strings.ToUpper of
	// the first byte).
	if c := out[0]; c >= 'a' && c <= 'z' {
		b.WriteByte(c - 'a' + 'A')
	} else if c < 0x80 {
		b.WriteByte(c)
	} else {
		b.WriteString(strings.ToUpper(string(out[:1])))
	}
	b.Write(out[1:])
}

// expand appends t expanded as gofakeit's generate would expand it; false
// when a function failed.
func (t *sentenceTemplate) expand(f *gofakeit.Faker, out []byte) ([]byte, bool) {
	if t.raw != "" {
		s, err := f.Generate(t.raw)
		return append(out, s...), err == nil
	}
	for i := range t.parts {
		p := &t.parts[i]
		if p.info == nil {
			out = append(out, p.text...)
			continue
		}
		if p.words != nil {
			out = append(out, p.words[f.IntN(len(p.words))]...)
			continue
		}
		v, err := p.info.Generate(f, p.params, p.info)
		if err != nil {
			return out, false
		}
		if s, ok := v.(string); ok {
			out = append(out, s...)
		} else {
			out = fmt.Appendf(out, "%v", v)
		}
	}
	return out, true
}
