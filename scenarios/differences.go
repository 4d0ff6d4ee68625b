package scenarios

import (
	"unicode/utf8"
)

// Difference is one condition a request does not meet: the field (as a
// when names it: "text", "sender_type" or "role" after the request's API,
// "headers.X-Trace", "metadata.channel"), what the condition asks (as
// Matcher.Wanted writes it) and what the request had (a string, or nil
// when it had none).
type Difference struct {
	Field    string `json:"field"`
	Expected any    `json:"expected"`
	Actual   any    `json:"actual"`
}

// NearMiss is a rule that did not answer a request: the closest ones are
// kept in the request's journal entry with what differed.
type NearMiss struct {
	Scenario    string       `json:"scenario"`
	Rule        string       `json:"rule"`
	Differences []Difference `json:"differences"`
}

// MaxShown bounds an actual value a Difference keeps, in bytes: a report
// shows which value it was, not all of a long text.
const MaxShown = 256

// Distance counts the conditions of w that f does not meet. Its reach (a
// when without method and path holds for sends only) is the caller's to
// check: a near miss considers only the rules that can reach the request,
// and a verification's patterns reach every request.
func (w *When) Distance(f *Facts) int { return w.walk(f, nil) }

// Differences lists the conditions of w that f does not meet, in the
// order of the when's keys.
func (w *When) Differences(f *Facts) []Difference {
	var out []Difference
	w.walk(f, &out)
	return out
}

// walk checks every condition of w against f, counting those that fail
// and, when out is not nil, listing them. Counting alone allocates nothing.
func (w *When) walk(f *Facts, out *[]Difference) int {
	d := differ{out: out}
	if w.API != "" && w.API != f.API {
		if d.counting() {
			d.n++
		} else {
			d.add("api", string(w.API), present(string(f.API)))
		}
	}
	d.scalar("method", w.Method, f.Method)
	d.scalar("path", w.Path, f.Path)
	d.scalar("text", w.Text, f.Text)
	d.scalar("sender_id", w.SenderID, f.SenderID)
	role := "sender_type"
	if f.API == APIWorkspace {
		role = "role"
	}
	d.scalar(role, w.Role, f.Role)
	d.scalar("conversation_id", w.ConversationID, f.ConversationID)
	d.scalar("workspace_id", w.WorkspaceID, f.WorkspaceID)
	for _, h := range w.Headers {
		vs, ok := f.Header[h.Key]
		v := ""
		if ok {
			v = joinValues(vs)
		}
		d.key("headers.", h, v, ok)
	}
	for _, km := range w.Metadata {
		v, ok := f.metadataValue(km.Key)
		d.key("metadata.", km, v, ok)
	}
	return d.n
}

// differ counts and, when out is set, lists differences.
type differ struct {
	out *[]Difference
	n   int
}

// counting: only the number is wanted, and nothing is built.
func (d *differ) counting() bool { return d.out == nil }

func (d *differ) add(field string, expected, actual any) {
	d.n++
	*d.out = append(*d.out, Difference{Field: field, Expected: expected, Actual: actual})
}

func (d *differ) scalar(field string, m *Matcher, v string) {
	switch {
	case m == nil || m.Match(v):
	case d.counting():
		d.n++
	default:
		d.add(field, m.Wanted(), present(v))
	}
}

func (d *differ) key(prefix string, km KeyMatcher, v string, ok bool) {
	if km.M.matchKey(v, ok) {
		return
	}
	if d.counting() {
		d.n++
		return
	}
	var actual any
	if ok {
		actual = shown(v)
	}
	d.add(prefix+km.Key, km.M.Wanted(), actual)
}

// present is v as a Difference shows it: nil when empty (not given).
func present(v string) any {
	if v == "" {
		return nil
	}
	return shown(v)
}

// shown cuts v at MaxShown bytes, on a character boundary, marking the cut.
func shown(v string) string {
	if len(v) <= MaxShown {
		return v
	}
	cut := MaxShown
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	n := 0
	for _, v := range vs {
		n += len(v) + 2
	}
	b := make([]byte, 0, n)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
	}
	return string(b)
}
