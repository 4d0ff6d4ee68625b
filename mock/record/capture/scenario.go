package capture

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Scenario is a scenario file to write.
type Scenario struct {
	Name        string
	Description string
	Rules       []Rule
}

// Rule is one rule of a scenario file, written with its keys in the
// fixtures format's order.
type Rule struct {
	Comment string  // written above the rule
	Name    string  // "" : the loader names it rule-N
	When    []Field // values: a string (equals) or a Matcher
	Times   int     // 0: not written (no limit)
	State   *State
	Respond *Respond
	Replies []Reply
	// Continue: the rule adds its latency and headers and the match goes on.
	Continue bool
}

// Spread is a recorded distribution of waits, written as a log-normal
// {median, p99}, or as one duration when they are equal.
type Spread struct{ Median, P99 time.Duration }

// node writes the spread as the fixtures format reads a latency.
func (s Spread) node() *yaml.Node {
	if s.P99 <= s.Median {
		return toNode(Duration(s.Median))
	}
	n := mapping("median", Duration(s.Median), "p99", Duration(s.P99))
	n.Style = yaml.FlowStyle
	return n
}

// Stream is a reply's recorded pace: its first token, the gaps between
// chunks and the chunks' sizes in characters (0: not written).
type Stream struct {
	FirstToken         *Spread
	Interval           *Spread
	ChunkMin, ChunkMax int
}

// Matcher is a when value other than equality.
type Matcher struct {
	Op    string // contains, prefix, suffix or regex
	Value string
}

// State is a rule's step of the scenario's state machine.
type State struct{ Require, Set string }

// Respond is a rule's answer.
type Respond struct {
	Status  int // 0: the normal status
	Headers []Header
	Body    json.RawMessage // nil: the API's native body for the status
	Latency time.Duration   // 0: none
	Spread  *Spread         // a recorded latency; instead of Latency
	Fault   string
}

// Header is one response header.
type Header struct{ Name, Value string }

// Reply is a message a rule sends back.
type Reply struct {
	After      *time.Duration // nil: not written
	Text       string         // written as a template that gives exactly this text
	SenderID   string
	SenderType string // Conversations API
	Role       string // Workspace API
	Metadata   json.RawMessage
	Inline     bool
	Stream     *Stream // nil: not streamed
}

// ScenarioFile is the fixtures file of sc, after the comment lines given.
func (b *Book) ScenarioFile(sc Scenario, comments ...string) []byte {
	rules := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range sc.Rules {
		rules.Content = append(rules.Content, ruleNode(r))
	}
	if len(rules.Content) == 0 {
		rules.Style = yaml.FlowStyle
	}
	s := mapping("name", sc.Name)
	if sc.Description != "" {
		add(s, "description", sc.Description)
	}
	add(s, "rules", rules)
	return b.file(comments, mapping("scenario", s))
}

// RuleNode is r as YAML, for a caller that adds it to a file it edits.
func (b *Book) RuleNode(r Rule) *yaml.Node {
	n := ruleNode(r)
	redactNode(n, b.secretList())
	return n
}

func ruleNode(r Rule) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, HeadComment: r.Comment}
	if r.Name != "" {
		add(n, "name", r.Name)
	}
	if len(r.When) > 0 {
		when := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range r.When {
			if m, ok := f.Value.(Matcher); ok {
				add(when, f.Key, mapping(m.Op, m.Value))
			} else {
				add(when, f.Key, f.Value)
			}
		}
		add(n, "when", when)
	}
	if r.Times > 0 {
		add(n, "times", r.Times)
	}
	if r.State != nil {
		st := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		if r.State.Require != "" {
			add(st, "require", r.State.Require)
		}
		if r.State.Set != "" {
			add(st, "set", r.State.Set)
		}
		add(n, "state", st)
	}
	if rp := r.Respond; rp != nil {
		resp := &yaml.Node{Kind: yaml.MappingNode}
		if rp.Status != 0 {
			add(resp, "status", rp.Status)
		}
		if len(rp.Headers) > 0 {
			h := &yaml.Node{Kind: yaml.MappingNode}
			for _, hd := range rp.Headers {
				add(h, hd.Name, hd.Value)
			}
			add(resp, "headers", h)
		}
		if rp.Body != nil {
			if v, err := decodeOrdered(rp.Body); err == nil {
				add(resp, "body", toNode(v))
			}
		}
		if rp.Latency > 0 {
			add(resp, "latency", Duration(rp.Latency))
		}
		if rp.Spread != nil {
			add(resp, "latency", rp.Spread.node())
		}
		if rp.Fault != "" {
			add(resp, "fault", rp.Fault)
		}
		add(n, "respond", resp)
	}
	if len(r.Replies) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, rep := range r.Replies {
			m := &yaml.Node{Kind: yaml.MappingNode}
			if rep.After != nil {
				add(m, "after", Duration(*rep.After))
			}
			add(m, "text", TemplateOf(rep.Text))
			if rep.SenderID != "" {
				add(m, "sender_id", rep.SenderID)
			}
			if rep.SenderType != "" {
				add(m, "sender_type", rep.SenderType)
			}
			if rep.Role != "" {
				add(m, "role", rep.Role)
			}
			if rep.Metadata != nil {
				if v, err := decodeOrdered(rep.Metadata); err == nil {
					add(m, "metadata", toNode(v))
				}
			}
			if rep.Inline {
				add(m, "inline", true)
			}
			if st := rep.Stream; st != nil {
				sn := &yaml.Node{Kind: yaml.MappingNode}
				if st.ChunkMax > 0 {
					chunk := mapping("min", st.ChunkMin, "max", st.ChunkMax)
					chunk.Style = yaml.FlowStyle
					add(sn, "chunk", chunk)
				}
				if st.Interval != nil {
					add(sn, "interval", st.Interval.node())
				}
				if st.FirstToken != nil {
					add(sn, "first_token", st.FirstToken.node())
				}
				add(m, "stream", sn)
			}
			seq.Content = append(seq.Content, m)
		}
		add(n, "reply", seq)
	}
	if r.Continue {
		add(n, "continue", true)
	}
	return n
}

// Duration writes d as the fixtures format reads it: "35ms", "1.5s", "0s".
func Duration(d time.Duration) string {
	if d%time.Millisecond == 0 && d < time.Second && d > 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.String()
}

// TemplateOf is a reply template whose output is exactly text: every "{{"
// is written as an action that prints it.
func TemplateOf(text string) string {
	return strings.ReplaceAll(text, "{{", "{{`{{`}}")
}
