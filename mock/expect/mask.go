package expect

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/scenarios"
)

// shown is p as a failure shows it: the values its conditions on
// credential headers give (Authorization, X-Api-Key, cookies …: any
// operator) masked in its Source as the journal masks a request's
// (secret.MaskHeader), so that a report printed in a CI log never shows a
// key the pattern gave as sent. A value already masked (it holds "(fp ")
// stays. p itself is left as it is: it is what matched.
func shown(p *scenarios.Pattern) *scenarios.Pattern {
	var src []byte // nil until a value is masked
	for _, h := range p.When.Headers {
		if !secret.IsCredentialHeader(h.Key) || h.M == nil {
			continue
		}
		v := h.M.Value
		if v == "" || strings.Contains(v, "(fp ") {
			continue
		}
		masked := secret.MaskHeader(h.Key, v)
		if masked == v {
			continue
		}
		if src == nil {
			src = p.Source
		}
		src = bytes.ReplaceAll(src, jsonString(v), jsonString(masked))
	}
	if src == nil {
		return p
	}
	c := *p
	c.Source = src
	return &c
}

// shownPatterns is shown for a failure's pattern or sequence.
func shownPatterns(p *scenarios.Pattern, seq []*scenarios.Pattern) (*scenarios.Pattern, []*scenarios.Pattern) {
	if p != nil {
		p = shown(p)
	}
	if seq != nil {
		out := make([]*scenarios.Pattern, len(seq))
		for i, sp := range seq {
			out[i] = shown(sp)
		}
		seq = out
	}
	return p, seq
}

// jsonString is s as the verification's Source writes it: JSON, HTML
// characters as they are.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// maskDifferences masks, in place, what a difference on a credential
// header expected (a condition's value as the pattern gave it); what the
// request had is the journal's, masked already.
func maskDifferences(diffs []scenarios.Difference) {
	for i, d := range diffs {
		name, ok := strings.CutPrefix(d.Field, "headers.")
		if !ok || !secret.IsCredentialHeader(name) {
			continue
		}
		diffs[i].Expected = maskWanted(name, d.Expected)
	}
}

// maskWanted masks the string values of a condition as Matcher.Wanted
// writes it: a value, or {"contains": "…"} and the like.
func maskWanted(name string, w any) any {
	mask := func(v string) string {
		if v == "" || strings.Contains(v, "(fp ") {
			return v
		}
		return secret.MaskHeader(name, v)
	}
	switch w := w.(type) {
	case string:
		return mask(w)
	case map[string]string:
		out := make(map[string]string, len(w))
		for k, v := range w {
			out[k] = mask(v)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(w))
		for k, v := range w {
			if s, ok := v.(string); ok {
				v = mask(s)
			}
			out[k] = v
		}
		return out
	}
	return w
}
