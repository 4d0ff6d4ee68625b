package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodeVisits bounds how many nodes one file may make the reader visit,
// aliases included, so that an alias bomb ends in an error instead of
// exhausting memory or time.
const maxNodeVisits = 200_000

// reader walks yaml.Node trees by hand rather than decoding into structs:
// that is what lets every problem carry its line and column, and lets one
// pass collect all of them instead of stopping at the first.
type reader struct {
	file   string
	probs  *Problems
	visits int
}

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	p := Problem{File: r.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	*r.probs = append(*r.probs, p)
}

// resolve follows aliases and counts the visit against the file's budget.
func (r *reader) resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return nil
		}
		n = n.Alias
	}
	r.visits++
	return n
}

func (r *reader) overBudget() bool { return r.visits > maxNodeVisits }

// fields checks that n is a mapping whose keys are all in allowed and
// returns key → value. Unknown and duplicate keys are reported.
func (r *reader) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping", what)
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, "%s: keys must be plain strings", what)
			continue
		}
		if k.Value == "<<" {
			r.errorf(k, "%s: merge keys (<<) are not supported", what)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			r.errorf(k, "unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			r.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		out[k.Value] = v
	}
	return out
}

func (r *reader) scalar(n *yaml.Node, what, want string) (*yaml.Node, bool) {
	n = r.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, "%s must be %s", what, want)
		return n, false
	}
	return n, true
}

func (r *reader) str(n *yaml.Node, what string) (string, bool) {
	s, ok := r.scalar(n, what, "a string")
	if !ok {
		return "", false
	}
	if s.Tag == "!!null" {
		r.errorf(s, "%s must be a string, not null", what)
		return "", false
	}
	return s.Value, true
}

// nonEmpty is str that also rejects "".
func (r *reader) nonEmpty(n *yaml.Node, what string) (string, bool) {
	s, ok := r.str(n, what)
	if ok && s == "" {
		r.errorf(n, "%s must not be empty", what)
		return "", false
	}
	return s, ok
}

func (r *reader) boolean(n *yaml.Node, what string) (bool, bool) {
	s, ok := r.scalar(n, what, "true or false")
	if !ok {
		return false, false
	}
	switch s.Value {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	r.errorf(s, "%s must be true or false, got %q", what, s.Value)
	return false, false
}

func (r *reader) integer(n *yaml.Node, what string, min, max int) (int, bool) {
	s, ok := r.scalar(n, what, "a whole number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s.Value, "_", ""), 10, 64)
	if err != nil || s.Tag == "!!str" && s.Style != 0 {
		r.errorf(s, "%s must be a whole number, got %q", what, s.Value)
		return 0, false
	}
	if v < int64(min) || v > int64(max) {
		r.errorf(s, "%s must be between %d and %d, got %d", what, min, max, v)
		return 0, false
	}
	return int(v), true
}

func (r *reader) float(n *yaml.Node, what string, min, max float64) (float64, bool) {
	s, ok := r.scalar(n, what, "a number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s.Value, 64)
	if err != nil || math.IsNaN(v) {
		r.errorf(s, "%s must be a number, got %q", what, s.Value)
		return 0, false
	}
	if v < min || v > max {
		r.errorf(s, "%s must be between %g and %g, got %g", what, min, max, v)
		return 0, false
	}
	return v, true
}

// duration reads a Go duration ("250ms", "2s"); a bare 0 is allowed too.
func (r *reader) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := r.scalar(n, what, "a duration such as 250ms or 2s")
	if !ok {
		return 0, false
	}
	if s.Value == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(s.Value)
	if err != nil {
		r.errorf(s, "%s: invalid duration %q (use a number with a unit: 250ms, 2s, 1m)", what, s.Value)
		return 0, false
	}
	if d < 0 {
		r.errorf(s, "%s must not be negative, got %s", what, s.Value)
		return 0, false
	}
	if d > 24*time.Hour {
		r.errorf(s, "%s must be at most 24h, got %s", what, s.Value)
		return 0, false
	}
	return d, true
}

// size reads a byte count: a whole number, or one with a unit (512KiB, 1MiB, 2MB).
func (r *reader) size(n *yaml.Node, what string) (int64, bool) {
	s, ok := r.scalar(n, what, "a size such as 1MiB")
	if !ok {
		return 0, false
	}
	v, err := parseSize(s.Value)
	if err != nil || v <= 0 {
		r.errorf(s, "%s: invalid size %q (use bytes or a unit: 512KiB, 1MiB, 2MB)", what, s.Value)
		return 0, false
	}
	return v, true
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large")
	}
	return v * mult, nil
}

func (r *reader) timestamp(n *yaml.Node, what string) (time.Time, bool) {
	s, ok := r.scalar(n, what, "an RFC 3339 timestamp")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s.Value)
	if err != nil {
		r.errorf(s, "%s: invalid timestamp %q (use RFC 3339: 2026-03-15T14:22:11Z)", what, s.Value)
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (r *reader) seq(n *yaml.Node, what string) []*yaml.Node {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s must be a list", what)
		return nil
	}
	return n.Content
}

func (r *reader) strList(n *yaml.Node, what string) ([]string, bool) {
	items := r.seq(n, what)
	if items == nil && r.resolve(n).Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]string, 0, len(items))
	ok := true
	for i, it := range items {
		s, good := r.str(it, fmt.Sprintf("%s[%d]", what, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// jsonValue converts a YAML value to its JSON encoding, keys in the order
// written, for free-form fields (metadata, bodies, tool calls) that the
// server stores and serves as JSON.
func (r *reader) jsonValue(n *yaml.Node, what string) (json.RawMessage, bool) {
	var b bytes.Buffer
	if !r.writeJSON(&b, n, what, 0) {
		return nil, false
	}
	return b.Bytes(), true
}

// jsonObject is jsonValue restricted to mappings.
func (r *reader) jsonObject(n *yaml.Node, what string) (json.RawMessage, bool) {
	if rn := r.resolve(n); rn != nil && rn.Kind != yaml.MappingNode {
		r.errorf(rn, "%s must be a mapping", what)
		return nil, false
	}
	return r.jsonValue(n, what)
}

func (r *reader) writeJSON(b *bytes.Buffer, n *yaml.Node, what string, depth int) bool {
	n = r.resolve(n)
	if n == nil || depth > 64 || r.overBudget() {
		r.errorf(n, "%s is nested too deeply or aliases too much", what)
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := r.resolve(n.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				r.errorf(n.Content[i], "%s: keys must be strings", what)
				return false
			}
			if seen[k.Value] {
				r.errorf(k, "%s: duplicate key %q", what, k.Value)
				return false
			}
			seen[k.Value] = true
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONScalar(b, k.Value)
			b.WriteByte(':')
			if !r.writeJSON(b, n.Content[i+1], what, depth+1) {
				return false
			}
		}
		b.WriteByte('}')
		return true
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if !r.writeJSON(b, c, what, depth+1) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			r.errorf(n, "%s: %v", what, err)
			return false
		}
		switch x := v.(type) {
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				r.errorf(n, "%s: %s is not a JSON number", what, n.Value)
				return false
			}
		case time.Time:
			v = x.UTC().Format(time.RFC3339Nano)
		}
		writeJSONScalar(b, v)
		return true
	}
	r.errorf(n, "%s: unsupported YAML node", what)
	return false
}

func writeJSONScalar(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)       // scalars always encode
	b.Truncate(b.Len() - 1) // Encode's newline
}
