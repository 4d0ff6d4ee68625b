package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Scenario is a named, ordered list of rules.
type Scenario struct {
	Name        string
	Description string
	File        string
	Digest      string // of the scenario's YAML: runtime counters reset when it changes
	Rules       []*Rule
	// RateLimits apply, with the settings', to the requests that run this
	// scenario.
	RateLimits []*RateLimit
	// Warnings are what loads but cannot be meant: a rule no request can
	// reach. msgmock validate and /__mock/status show them.
	Warnings []Problem
	index    *ruleIndex // see Candidates; nil: try every rule
}

// Rule is one scripted behaviour: when its condition holds and it is
// enabled, it replaces the response (Respond) and/or schedules replies.
type Rule struct {
	Name    string
	When    When
	Times   int     // 0: no limit
	Chance  float64 // 0: always
	State   *StateStep
	Respond *Respond
	Replies []*Reply
	// Continue: when the rule fires, its latency and headers are added and
	// the request goes on to the rules after it (and to the default
	// scenario's), instead of the rule ending the match.
	Continue bool
}

// StateStep ties a rule to the scenario's state machine, which starts in "start".
type StateStep struct {
	Require string // "" : any state
	Set     string // "" : unchanged
}

// Fault kinds.
const (
	FaultReset     = "reset"
	FaultEmpty     = "empty"
	FaultMalformed = "malformed"
	FaultTimeout   = "timeout"
)

// Respond replaces the normal response.
type Respond struct {
	Status     int // 0: the normal status
	Message    string
	Headers    []Header
	Body       json.RawMessage
	Latency    *Latency
	Fault      string
	HasMessage bool
	// DropAfter closes an event stream's connection, abruptly, after that
	// many events (0: never), so that a client's reconnection with
	// Last-Event-ID can be tested. Streams only.
	DropAfter int
}

// Header is one response header to set.
type Header struct{ Name, Value string }

// IsError reports whether the response is an error, which stores nothing
// and schedules no reply.
func (r *Respond) IsError() bool { return r != nil && (r.Status >= 400 || r.Fault != "") }

// Latency is a delay: fixed, uniform between Min and Max, or log-normal
// with the given median and 99th percentile.
type Latency struct {
	Fixed    time.Duration
	Min, Max time.Duration
	Median   time.Duration
	P99      time.Duration
}

// Sample draws one delay; uniform and normal are the caller's random draws:
// a number in [0, 1) and a standard normal variate.
func (l *Latency) Sample(uniform, normal float64) time.Duration {
	switch {
	case l == nil:
		return 0
	case l.Median > 0:
		// ln X ~ N(mu, sigma²) with e^mu = median and e^(mu + 2.326 sigma) = p99.
		mu := math.Log(float64(l.Median))
		sigma := (math.Log(float64(l.P99)) - mu) / 2.3263478740408408
		d := time.Duration(math.Exp(mu + sigma*normal))
		if d > 10*l.P99 {
			d = 10 * l.P99 // keep a freak draw from holding a request for hours
		}
		return d
	case l.Max > 0:
		return l.Min + time.Duration(uniform*float64(l.Max-l.Min))
	}
	return l.Fixed
}

// Random reports whether sampling draws randomness (and how much): a fixed
// delay draws none, so it leaves the session's stream untouched.
func (l *Latency) Random() bool { return l != nil && (l.Median > 0 || l.Max > 0) }

// Reply is a message the scenario sends back after a delay.
type Reply struct {
	After      *Latency
	Text       *Template
	SenderID   string
	SenderType string // Conversations API
	Role       string // Workspace API
	Metadata   json.RawMessage
	Stream     *Stream
	Inline     bool
}

var (
	scenarioKeys = []string{"name", "description", "rate_limits", "rules"}
	ruleKeys     = []string{"name", "when", "times", "chance", "state", "respond", "reply", "continue"}
	respondKeys  = []string{"status", "message", "headers", "body", "latency", "fault", "drop_after"}
	replyKeys    = []string{"after", "text", "sender_id", "sender_type", "role", "metadata", "stream", "inline"}
)

// scenario reads a scenario; digest is its file's, by which runtime counters
// know that it changed.
func (r *reader) scenario(n *yaml.Node, file, digest string) *Scenario {
	f := r.fields(n, "scenario", scenarioKeys...)
	if f == nil {
		return nil
	}
	base := path.Base(file)
	sc := &Scenario{Name: strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml"), File: file, Digest: digest}
	if v := f["name"]; v != nil {
		sc.Name, _ = r.nonEmpty(v, "scenario.name")
	}
	if v := f["description"]; v != nil {
		sc.Description, _ = r.str(v, "scenario.description")
	}
	if v := f["rate_limits"]; v != nil {
		sc.RateLimits = r.rateLimits(v, "scenario.rate_limits")
	}
	names := map[string]bool{}
	if v := f["rules"]; v != nil {
		for i, item := range r.seq(v, "scenario.rules") {
			rule := r.rule(item, fmt.Sprintf("rules[%d]", i))
			if rule == nil {
				continue
			}
			if rule.Name == "" {
				rule.Name = "rule-" + strconv.Itoa(i+1)
			}
			if names[rule.Name] {
				r.errorf(item, "rules[%d]: duplicate rule name %q in scenario %q", i, rule.Name, sc.Name)
				continue
			}
			names[rule.Name] = true
			sc.Rules = append(sc.Rules, rule)
			if by := r.shadowedBy(sc.Rules, rule); by != nil {
				sc.Warnings = append(sc.Warnings, Problem{File: r.file, Line: item.Line, Col: item.Column,
					Msg: fmt.Sprintf("rules[%d] %q can never fire: rule %q before it always answers the requests it matches", i, rule.Name, by.Name)})
			}
		}
	}
	sc.index = buildIndex(sc.Rules)
	return sc
}

// shadowedBy returns an earlier rule of rules that fires for every request
// rule could match — it is enabled every time (no times, chance or
// required state), ends the match (no continue), and its condition is empty
// or the same as rule's (same keys, same values) — or nil.
func (r *reader) shadowedBy(rules []*Rule, rule *Rule) *Rule {
	for _, prev := range rules[:len(rules)-1] {
		if prev.Continue || prev.Times > 0 || prev.Chance > 0 || (prev.State != nil && prev.State.Require != "") {
			continue
		}
		if prev.When.covers(&rule.When) {
			return prev
		}
	}
	return nil
}

func (r *reader) rule(n *yaml.Node, what string) *Rule {
	f := r.fields(n, what, ruleKeys...)
	if f == nil {
		return nil
	}
	before := len(*r.probs)
	rule := &Rule{}
	if v := f["name"]; v != nil {
		rule.Name, _ = r.nonEmpty(v, what+".name")
	}
	if v := f["when"]; v != nil {
		rule.When = r.when(v, what+".when")
	}
	if v := f["times"]; v != nil {
		rule.Times, _ = r.integer(v, what+".times", 1, math.MaxInt32)
	}
	if v := f["chance"]; v != nil {
		if c, ok := r.float(v, what+".chance", 0, 1); ok {
			if c == 0 {
				r.errorf(v, "%s.chance must be above 0 (a rule that never fires does nothing)", what)
			}
			rule.Chance = c
		}
	}
	if v := f["state"]; v != nil {
		sf := r.fields(v, what+".state", "require", "set")
		st := &StateStep{}
		if x := sf["require"]; x != nil {
			st.Require, _ = r.nonEmpty(x, what+".state.require")
		}
		if x := sf["set"]; x != nil {
			st.Set, _ = r.nonEmpty(x, what+".state.set")
		}
		if sf != nil && sf["require"] == nil && sf["set"] == nil {
			r.errorf(v, "%s.state needs require, set or both", what)
		}
		rule.State = st
	}
	if v := f["respond"]; v != nil {
		rule.Respond = r.respond(v, what+".respond")
	}
	if v := f["reply"]; v != nil {
		rule.Replies = r.replies(v, what+".reply", rule.When.API)
	}
	if v := f["continue"]; v != nil {
		rule.Continue, _ = r.boolean(v, what+".continue")
		if rule.Continue {
			if resp := rule.Respond; resp != nil && (resp.Status != 0 || resp.Body != nil || resp.Fault != "" || resp.DropAfter != 0) {
				r.errorf(v, "%s: continue adds latency and headers and lets the request go on; a status, body, fault or drop_after ends it — drop continue or those", what)
			}
			if f["reply"] != nil {
				r.errorf(v, "%s: continue adds latency and headers only; give the reply a rule of its own", what)
			}
		}
	}
	if f["respond"] == nil && f["reply"] == nil {
		r.errorf(n, "%s does nothing: give it respond, reply or both", what)
	}
	if f["reply"] != nil && rule.When.Method != nil && !rule.When.Method.Match("POST") {
		r.errorf(f["reply"], "%s: a reply answers a message sent (POST); this rule's when.method does not match POST", what)
	}
	if rule.Respond.IsError() && len(rule.Replies) > 0 {
		r.errorf(f["reply"], "%s: a reply is never sent when respond is an error or a fault; move it to its own rule", what)
	}
	if len(*r.probs) > before {
		return nil
	}
	return rule
}

func (r *reader) respond(n *yaml.Node, what string) *Respond {
	f := r.fields(n, what, respondKeys...)
	if f == nil {
		return nil
	}
	resp := &Respond{}
	if v := f["status"]; v != nil {
		resp.Status, _ = r.integer(v, what+".status", 200, 599)
	}
	if v := f["message"]; v != nil {
		resp.Message, _ = r.str(v, what+".message")
		resp.HasMessage = true
		if resp.Status < 400 {
			r.errorf(v, "%s.message applies to an error status (400–599); set status too", what)
		}
		if f["body"] != nil {
			r.errorf(v, "%s: message and body both set the body; give one", what)
		}
	}
	if v := f["headers"]; v != nil {
		if hn := r.resolve(v); hn != nil && hn.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(hn.Content); i += 2 {
				name, ok1 := r.nonEmpty(hn.Content[i], what+".headers name")
				val, ok2 := r.str(hn.Content[i+1], what+".headers."+name)
				if ok1 && ok2 {
					resp.Headers = append(resp.Headers, Header{Name: textproto.CanonicalMIMEHeaderKey(name), Value: val})
				}
			}
		} else {
			r.errorf(v, "%s.headers must be a mapping of header names to values", what)
		}
	}
	if v := f["body"]; v != nil {
		resp.Body, _ = r.jsonValue(v, what+".body")
	}
	if v := f["latency"]; v != nil {
		resp.Latency = r.latency(v, what+".latency", true)
	}
	if v := f["drop_after"]; v != nil {
		resp.DropAfter, _ = r.integer(v, what+".drop_after", 1, math.MaxInt32)
		if resp.Status >= 400 {
			r.errorf(v, "%s: drop_after applies to a stream that is answered; drop the error status", what)
		}
	}
	if v := f["fault"]; v != nil {
		if s, ok := r.str(v, what+".fault"); ok {
			switch s {
			case FaultReset, FaultEmpty, FaultMalformed, FaultTimeout:
				resp.Fault = s
			default:
				r.errorf(v, "%s.fault must be reset, empty, malformed or timeout, got %q", what, s)
			}
		}
		if resp.Status != 0 || f["body"] != nil {
			r.errorf(v, "%s: a fault replaces the whole response; drop status and body", what)
		}
	}
	return resp
}

// latency reads 250ms, {min, max} or (when logNormal) {median, p99}.
func (r *reader) latency(n *yaml.Node, what string, logNormal bool) *Latency {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		d, ok := r.duration(n, what)
		if !ok {
			return nil
		}
		return &Latency{Fixed: d}
	}
	keys := []string{"min", "max"}
	if logNormal {
		keys = append(keys, "median", "p99")
	}
	f := r.fields(n, what, keys...)
	if f == nil {
		return nil
	}
	// A key given with a bad duration is reported once, as such, not
	// also as missing.
	bad := false
	get := func(k string) (time.Duration, bool) {
		if v := f[k]; v != nil {
			d, ok := r.duration(v, what+"."+k)
			bad = bad || !ok
			return d, true
		}
		return 0, false
	}
	minD, hasMin := get("min")
	maxD, hasMax := get("max")
	med, hasMed := get("median")
	p99, hasP99 := get("p99")
	switch {
	case bad:
		return nil
	case (hasMin || hasMax) && (hasMed || hasP99):
		r.errorf(n, "%s: give {min, max} (uniform) or {median, p99} (log-normal), not both", what)
	case hasMin || hasMax:
		if !hasMin || !hasMax {
			r.errorf(n, "%s: uniform latency needs both min and max", what)
			return nil
		}
		if minD > maxD {
			r.errorf(f["min"], "%s: min (%s) is above max (%s)", what, minD, maxD)
			return nil
		}
		return &Latency{Min: minD, Max: maxD}
	case hasMed || hasP99:
		if !hasMed || !hasP99 {
			r.errorf(n, "%s: log-normal latency needs both median and p99", what)
			return nil
		}
		if med <= 0 || p99 < med {
			r.errorf(f["median"], "%s: needs 0 < median <= p99, got median %s and p99 %s", what, med, p99)
			return nil
		}
		if p99 == med {
			return &Latency{Fixed: med}
		}
		return &Latency{Median: med, P99: p99}
	default:
		r.errorf(n, "%s needs a duration, {min, max} or {median, p99}", what)
	}
	return nil
}

func (r *reader) replies(n *yaml.Node, what string, api API) []*Reply {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		var out []*Reply
		for i, item := range n.Content {
			if rep := r.reply(item, fmt.Sprintf("%s[%d]", what, i), api); rep != nil {
				out = append(out, rep)
			}
		}
		return out
	}
	if rep := r.reply(n, what, api); rep != nil {
		return []*Reply{rep}
	}
	return nil
}

func (r *reader) reply(n *yaml.Node, what string, api API) *Reply {
	f := r.fields(n, what, replyKeys...)
	if f == nil {
		return nil
	}
	rep := &Reply{SenderID: "agt_assistant", SenderType: "agent", Role: "assistant"}
	if v := f["after"]; v != nil {
		rep.After = r.latency(v, what+".after", false)
	}
	if v := f["text"]; v == nil {
		r.errorf(n, "%s: text is required (a template such as \"{{ Sentence }}\")", what)
	} else if s, ok := r.str(v, what+".text"); ok {
		t, err := parseTemplate(s)
		if err != nil {
			r.errorf(v, "%s.text: %s", what, templateError(err))
		}
		rep.Text = t
	}
	if v := f["sender_id"]; v != nil {
		rep.SenderID, _ = r.nonEmpty(v, what+".sender_id")
	}
	if v := f["sender_type"]; v != nil {
		if s, ok := r.str(v, what+".sender_type"); ok {
			if s != "user" && s != "agent" && s != "system" {
				r.errorf(v, "%s.sender_type must be one of: user, agent, system; got %q", what, s)
			}
			rep.SenderType = s
		}
		if api == APIWorkspace {
			r.errorf(v, "%s.sender_type is the Conversations API's; this rule is for api: workspace (use role)", what)
		}
	}
	if v := f["role"]; v != nil {
		rep.Role, _ = r.nonEmpty(v, what+".role")
		if api == APIConversations {
			r.errorf(v, "%s.role is the Workspace API's; this rule is for api: conversations (use sender_type)", what)
		}
	}
	if v := f["metadata"]; v != nil {
		rep.Metadata, _ = r.jsonObject(v, what+".metadata")
	}
	if v := f["stream"]; v != nil {
		rep.Stream = r.stream(v, what+".stream", false)
	}
	if v := f["inline"]; v != nil {
		rep.Inline, _ = r.boolean(v, what+".inline")
		if rep.Inline && api != APIWorkspace {
			// Without when.api the rule also matches Conversations API
			// requests, whose answer cannot carry a reply.
			r.errorf(v, "%s.inline is for the Workspace API, whose 201 lists the reply: the rule needs when.api: workspace (the Conversations API delivers replies by events)", what)
		}
		if rep.Inline && f["after"] != nil {
			r.errorf(f["after"], "%s: an inline reply is part of the response and cannot wait; drop after", what)
		}
		if rep.Inline && f["stream"] != nil {
			r.errorf(f["stream"], "%s: an inline reply is part of the response and cannot be streamed; drop stream", what)
		}
	}
	return rep
}

// templateError trims text/template's "template: name:1:2: " prefix, which
// repeats what the problem's location already says.
func templateError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
		rest := msg[i+2:]
		if j := strings.Index(rest, ": "); j >= 0 {
			return "template: " + rest[j+2:]
		}
	}
	return msg
}

// Warnings are every scenario's warnings, as FILE:LINE:COL: message, in
// name order.
func (s *Set) Warnings() []string {
	out := []string{}
	for _, name := range s.Names {
		for _, w := range s.Scenarios[name].Warnings {
			out = append(out, w.String())
		}
	}
	return out
}
