package scenarios

import (
	"encoding/json"
	"fmt"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Matcher tests one string: equals (the default), contains, prefix, suffix
// or regex, optionally ignoring case; or, where a field may be missing, its
// absence ({absent: true}, Op "absent") or presence ({absent: false}, Op
// "present"). It is compiled once, at load.
type Matcher struct {
	Op         string
	Value      string
	IgnoreCase bool
	re         *regexp.Regexp
	folded     string // Value lower-cased, when IgnoreCase
	reCost     int64  // estimated bytes of re (see Scenario.Cost)
}

// MaxRegexInput bounds what a regex reads of a value: the first 16 KiB,
// cut back to a whole UTF-8 character. A regex's time is linear in the
// text but multiplied by its program (up to maxRegexpSteps), so a rule or
// a verification pattern costs at most a few milliseconds per value.
const MaxRegexInput = 16 << 10

// Match reports whether s satisfies the matcher.
func (m *Matcher) Match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(regexInput(s))
	}
	v := m.Value
	if m.IgnoreCase {
		s, v = strings.ToLower(s), m.folded
	}
	switch m.Op {
	case "contains":
		return strings.Contains(s, v)
	case "prefix":
		return strings.HasPrefix(s, v)
	case "suffix":
		return strings.HasSuffix(s, v)
	case opAbsent:
		return s == ""
	case opPresent:
		return s != ""
	}
	return s == v
}

// regexInput is the part of s a regex reads (MaxRegexInput).
func regexInput(s string) string {
	if len(s) <= MaxRegexInput {
		return s
	}
	cut := MaxRegexInput
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// matchKey is Match for the value at a key of a map (a header, a metadata
// key), which may be missing (ok false): only absence matches a missing key.
func (m *Matcher) matchKey(v string, ok bool) bool {
	switch m.Op {
	case opAbsent:
		return !ok
	case opPresent:
		return ok
	}
	return ok && m.Match(v)
}

// WithValue returns a copy of m that tests v instead of m.Value, with the
// same operator and case rule; nil for a regex or an absence test, whose
// value is not a string to replace.
func (m *Matcher) WithValue(v string) *Matcher {
	if m.re != nil || m.Op == opAbsent || m.Op == opPresent {
		return nil
	}
	c := *m
	c.Value, c.folded = v, strings.ToLower(v)
	return &c
}

// Wanted is the matcher as it is written, for reports: the value itself
// for equals, else {"contains": "…"} and the like (with "ignore_case":
// true when set), or {"absent": true|false}.
func (m *Matcher) Wanted() any {
	switch {
	case m.Op == opAbsent || m.Op == opPresent:
		return map[string]bool{"absent": m.Op == opAbsent}
	case m.Op == "equals" && !m.IgnoreCase:
		return m.Value
	case m.IgnoreCase:
		return map[string]any{m.Op: m.Value, "ignore_case": true}
	}
	return map[string]string{m.Op: m.Value}
}

var matcherOps = []string{"equals", "contains", "prefix", "suffix", "regex"}

// The operators of {absent: true} and {absent: false}.
const (
	opAbsent  = "absent"
	opPresent = "present"
)

// matcher reads a string (equals) or {equals|contains|prefix|suffix|regex: v, ignore_case: b}.
func (r *reader) matcher(n *yaml.Node, what string) *Matcher {
	return r.matcherOf(n, what, false)
}

// fieldMatcher is matcher for a field a request may leave out (a body
// field, a header, a metadata key): {absent: true} (it is missing or empty)
// and {absent: false} (it is there) are allowed too.
func (r *reader) fieldMatcher(n *yaml.Node, what string) *Matcher {
	return r.matcherOf(n, what, true)
}

func (r *reader) matcherOf(n *yaml.Node, what string, absence bool) *Matcher {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		s, ok := r.str(n, what)
		if !ok {
			return nil
		}
		return &Matcher{Op: "equals", Value: s}
	}
	allowed := append(append([]string{}, matcherOps...), "ignore_case")
	if absence {
		allowed = append(allowed, "absent")
	}
	before := len(*r.probs)
	f := r.fields(n, what, allowed...)
	if f == nil {
		return nil
	}
	if len(*r.probs) > before {
		return nil // an unknown or repeated key, reported: nothing more to say
	}
	if v := f["absent"]; v != nil {
		if len(f) > 1 {
			r.errorf(n, "%s: absent stands alone ({absent: true} or {absent: false})", what)
			return nil
		}
		absent, ok := r.boolean(v, what+".absent")
		if !ok {
			return nil
		}
		if absent {
			return &Matcher{Op: opAbsent}
		}
		return &Matcher{Op: opPresent}
	}
	m := &Matcher{}
	for _, op := range matcherOps {
		v := f[op]
		if v == nil {
			continue
		}
		if m.Op != "" {
			r.errorf(v, "%s: give one of %s, not both %s and %s", what, strings.Join(matcherOps, ", "), m.Op, op)
			return nil
		}
		m.Op = op
		m.Value, _ = r.str(v, what+"."+op)
	}
	if m.Op == "" {
		ops := strings.Join(matcherOps, ", ")
		if absence {
			ops += " or absent"
		}
		r.errorf(n, "%s needs one of %s", what, ops)
		return nil
	}
	if v := f["ignore_case"]; v != nil {
		m.IgnoreCase, _ = r.boolean(v, what+".ignore_case")
	}
	m.folded = strings.ToLower(m.Value)
	if m.Op == "regex" {
		expr := m.Value
		if m.IgnoreCase {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			r.errorf(f["regex"], "%s.regex: %v", what, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return nil
		}
		if steps := regexpSteps(expr); steps > maxRegexpSteps {
			r.errorf(f["regex"], "%s.regex is too complex: it compiles to %d steps, at most %d (a counted repeat such as {1,1000} multiplies what it repeats)", what, steps, maxRegexpSteps)
			return nil
		}
		m.re = re
		m.reCost = regexpCost(expr)
	}
	return m
}

// Facts are what rules can match in a request, the same for both APIs.
type Facts struct {
	API            API
	Method         string // upper case, as sent
	Path           string // the URL path, as routed
	Send           bool   // a message sent (POST /v1/messages, POST /api/v1/messages)
	Text           string // text (Conversations) or content.content (Workspace)
	SenderID       string
	Role           string // sender_type or role
	ConversationID string
	WorkspaceID    string
	Header         map[string][]string // canonical keys, as net/http gives them
	MetadataJSON   json.RawMessage     // metadata / meta_data as sent; decoded only if a rule asks

	metadata map[string]string
	decoded  bool
}

// metadataValue returns the metadata value at key as text: a string as it
// is, anything else as its JSON.
func (f *Facts) metadataValue(key string) (string, bool) {
	if !f.decoded {
		f.decoded = true
		var raw map[string]json.RawMessage
		if json.Unmarshal(f.MetadataJSON, &raw) == nil {
			f.metadata = make(map[string]string, len(raw))
			for k, v := range raw {
				var s string
				if json.Unmarshal(v, &s) != nil {
					s = string(v)
				}
				f.metadata[k] = s
			}
		}
	}
	v, ok := f.metadata[key]
	return v, ok
}

// When is a rule's condition: every key given must hold. A condition that
// names no method and no path holds for sends only, as every rule did
// before reads could be scripted; one that names either can match any
// request of its API (method "*" is any method).
type When struct {
	API            API
	Method         *Matcher // nil: any method (when Reads) or sends only
	Path           *Matcher
	Reads          bool // method or path was given: not only sends
	Text           *Matcher
	SenderID       *Matcher
	Role           *Matcher // sender_type or role: the same field in either API
	ConversationID *Matcher
	WorkspaceID    *Matcher
	Headers        []KeyMatcher
	Metadata       []KeyMatcher
}

// KeyMatcher matches the value at one key of a map.
type KeyMatcher struct {
	Key string
	M   *Matcher
}

// Match reports whether every condition holds for f.
func (w *When) Match(f *Facts) bool {
	if w.API != "" && w.API != f.API {
		return false
	}
	if !w.Reads && !f.Send {
		return false
	}
	if !matches(w.Method, f.Method) || !matches(w.Path, f.Path) {
		return false
	}
	if !matches(w.Text, f.Text) || !matches(w.SenderID, f.SenderID) || !matches(w.Role, f.Role) ||
		!matches(w.ConversationID, f.ConversationID) || !matches(w.WorkspaceID, f.WorkspaceID) {
		return false
	}
	for _, h := range w.Headers {
		vs, ok := f.Header[h.Key]
		if !h.M.matchKey(strings.Join(vs, ", "), ok) {
			return false
		}
	}
	for _, km := range w.Metadata {
		v, ok := f.metadataValue(km.Key)
		if !km.M.matchKey(v, ok) {
			return false
		}
	}
	return true
}

func matches(m *Matcher, s string) bool { return m == nil || m.Match(s) }

// covers reports whether every request o matches is matched by w: w's
// condition is empty but for o's API and reach, or the same as o's.
func (w *When) covers(o *When) bool {
	if w.API != "" && w.API != o.API {
		return false
	}
	if w.Reads != o.Reads && !w.Reads {
		return false // w holds for sends only, o for reads too
	}
	if w.Reads && o.Reads && (!sameMatcher(w.Method, o.Method) && w.Method != nil || !sameMatcher(w.Path, o.Path) && w.Path != nil) {
		return false
	}
	rest := []struct{ a, b *Matcher }{{w.Text, o.Text}, {w.SenderID, o.SenderID}, {w.Role, o.Role}, {w.ConversationID, o.ConversationID}, {w.WorkspaceID, o.WorkspaceID}}
	for _, p := range rest {
		if p.a != nil && !sameMatcher(p.a, p.b) {
			return false
		}
	}
	return sameKeyMatchers(w.Headers, o.Headers, true) && sameKeyMatchers(w.Metadata, o.Metadata, true)
}

func sameMatcher(a, b *Matcher) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Op == b.Op && a.Value == b.Value && a.IgnoreCase == b.IgnoreCase
}

// sameKeyMatchers reports whether every matcher of w has the same one in o
// (o may have more: it is narrower).
func sameKeyMatchers(w, o []KeyMatcher, _ bool) bool {
	for _, km := range w {
		found := false
		for _, x := range o {
			if x.Key == km.Key && sameMatcher(km.M, x.M) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var whenKeys = []string{"api", "method", "path", "text", "sender_id", "sender_type", "role", "conversation_id", "workspace_id", "headers", "metadata"}

func (r *reader) when(n *yaml.Node, what string) When {
	var w When
	f := r.fields(n, what, whenKeys...)
	if v := f["api"]; v != nil {
		w.API = r.api(v, what+".api")
	}
	one := func(key string) *Matcher {
		if v := f[key]; v != nil {
			return r.fieldMatcher(v, what+"."+key)
		}
		return nil
	}
	w.Text, w.SenderID, w.ConversationID, w.WorkspaceID = one("text"), one("sender_id"), one("conversation_id"), one("workspace_id")
	if v := f["method"]; v != nil {
		w.Reads = true
		w.Method = r.method(v, what+".method")
	}
	if v := f["path"]; v != nil {
		w.Reads = true
		w.Path = r.path(v, what+".path")
	}
	if f["sender_type"] != nil && f["role"] != nil {
		r.errorf(f["role"], "%s: sender_type and role are the same field (sender_type in the Conversations API, role in the Workspace API); give one", what)
	}
	w.Role = one("sender_type")
	if w.Role == nil {
		w.Role = one("role")
	}
	if v := f["headers"]; v != nil {
		w.Headers = r.headers(v, what+".headers")
	}
	if v := f["metadata"]; v != nil {
		w.Metadata = r.keyMatchers(v, what+".metadata", func(s string) string { return s })
	}
	return w
}

// api reads conversations or workspace.
func (r *reader) api(n *yaml.Node, what string) API {
	s, ok := r.str(n, what)
	if !ok {
		return ""
	}
	switch API(s) {
	case APIConversations, APIWorkspace:
		return API(s)
	}
	r.errorf(n, "%s must be conversations or workspace, got %q", what, s)
	return ""
}

// method reads a method matcher: upper-cased unless a regex; nil for "*"
// (any method).
func (r *reader) method(n *yaml.Node, what string) *Matcher {
	m := r.matcher(n, what)
	if m == nil || m.Op == "equals" && m.Value == "*" {
		return nil
	}
	if m.re == nil {
		m.Value, m.folded = strings.ToUpper(m.Value), strings.ToLower(m.Value)
	}
	return m
}

// path reads a URL path matcher: equals and prefix start with /.
func (r *reader) path(n *yaml.Node, what string) *Matcher {
	m := r.matcher(n, what)
	if m != nil && m.Op != "regex" && !strings.HasPrefix(m.Value, "/") && m.Op != "contains" && m.Op != "suffix" {
		r.errorf(n, "%s is a URL path and starts with /, got %q", what, m.Value)
	}
	return m
}

// headers reads header names (canonicalised, as net/http keys them) to matchers.
func (r *reader) headers(n *yaml.Node, what string) []KeyMatcher {
	return r.keyMatchers(n, what, textproto.CanonicalMIMEHeaderKey)
}

func (r *reader) keyMatchers(n *yaml.Node, what string, canon func(string) string) []KeyMatcher {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping of names to matchers", what)
		return nil
	}
	var out []KeyMatcher
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := r.resolve(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode || k.Value == "" {
			r.errorf(n.Content[i], "%s: names must be non-empty strings", what)
			continue
		}
		if m := r.fieldMatcher(n.Content[i+1], fmt.Sprintf("%s.%s", what, k.Value)); m != nil {
			out = append(out, KeyMatcher{Key: canon(k.Value), M: m})
		}
	}
	return out
}
