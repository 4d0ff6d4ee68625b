package mock

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/scenarios"
)

// ruleState is a session's runtime state of scenario rules: how often each
// rule has fired and where each scenario's state machine stands. It lives
// beside the published configuration, never in it, and a scenario whose
// YAML changed starts afresh.
type ruleState struct {
	scenarios map[string]*scenarioRuntime
}

type scenarioRuntime struct {
	digest string
	hits   map[string]int
	state  string
}

func (rs *ruleState) of(sc *scenarios.Scenario) *scenarioRuntime {
	if rs.scenarios == nil {
		rs.scenarios = map[string]*scenarioRuntime{}
	}
	rt := rs.scenarios[sc.Name]
	if rt == nil || rt.digest != sc.Digest {
		rt = &scenarioRuntime{digest: sc.Digest, hits: map[string]int{}, state: "start"}
		rs.scenarios[sc.Name] = rt
	}
	return rt
}

// scenarioName picks the request's scenario: X-Mock-Scenario, else the
// session's active one, else the server's. known is false when the header
// names a scenario the fixtures do not have. Called with sess locked.
func (s *Server) scenarioName(r *http.Request, set *scenarios.Set, sess *session) (name string, known bool) {
	if h := r.Header.Get("X-Mock-Scenario"); h != "" {
		return h, set.Scenario(h) != nil
	}
	if sess.scenario != "" {
		return sess.scenario, true
	}
	return *s.scenario.Load(), true
}

// evaluate returns the first enabled rule that matches: the named
// scenario's rules in order, then the default scenario's. A firing rule
// counts and moves the state machine. Chance rolls come from the session's
// stream, drawn only for rules that otherwise match. Called with sess locked.
func (sess *session) evaluate(set *scenarios.Set, name string, facts *scenarios.Facts) *scenarios.Rule {
	try := func(sc *scenarios.Scenario) *scenarios.Rule {
		if sc == nil {
			return nil
		}
		var rt *scenarioRuntime
		for _, rule := range sc.Rules {
			if !rule.When.Match(facts) {
				continue
			}
			if rt == nil {
				rt = sess.runtime.of(sc)
			}
			if rule.Times > 0 && rt.hits[rule.Name] >= rule.Times {
				continue
			}
			if rule.State != nil && rule.State.Require != "" && rt.state != rule.State.Require {
				continue
			}
			if rule.Chance > 0 && rule.Chance < 1 && sess.rand.float() >= rule.Chance {
				continue
			}
			rt.hits[rule.Name]++
			if rule.State != nil && rule.State.Set != "" {
				rt.state = rule.State.Set
			}
			return rule
		}
		return nil
	}
	if rule := try(set.Scenario(name)); rule != nil {
		return rule
	}
	if name != "default" {
		return try(set.Scenario("default"))
	}
	return nil
}

// ruleOutcome is what the scenario step decided for a request that goes on
// to be stored: the rule that fired (or nil), its respond, and the latency
// to wait before answering.
type ruleOutcome struct {
	rule    *scenarios.Rule
	respond *scenarios.Respond
	latency time.Duration
}

// applyRules is the scenario step both APIs share: it picks the request's
// scenario, finds the rule and draws its latency. When it answers the
// request itself (an unknown X-Mock-Scenario, a scripted error or fault) it
// unlocks sess and reports done. Called with sess locked.
func (s *Server) applyRules(w http.ResponseWriter, r *http.Request, set *scenarios.Set, sess *session, facts *scenarios.Facts, convID string) (out ruleOutcome, done bool) {
	ex := exchangeOf(w)
	name, known := s.scenarioName(r, set, sess)
	if !known {
		sess.mu.Unlock()
		if facts.API == scenarios.APIWorkspace {
			writeDetail(w, http.StatusBadRequest, "Unknown scenario: "+name)
		} else {
			writeEnvelopeError(w, http.StatusBadRequest, "Unknown scenario: "+name+".")
		}
		return out, true
	}
	ex.scenario = name
	if out.rule = sess.evaluate(set, name, facts); out.rule != nil {
		ex.rule, out.respond = out.rule.Name, out.rule.Respond
		if out.respond != nil {
			out.latency = sess.sample(out.respond.Latency)
		}
	}
	if out.respond.IsError() {
		sess.mu.Unlock()
		s.scriptedError(w, r, facts.API, out.respond, out.latency, convID)
		return out, true
	}
	return out, false
}

// sample draws a respond latency (none drawn for a fixed one).
func (sess *session) sample(l *scenarios.Latency) time.Duration {
	if !l.Random() {
		return l.Sample(0, 0)
	}
	return l.Sample(sess.rand.float(), sess.rand.rand.NormFloat64())
}

// plannedReply is a reply whose every random part (ids, text, delay) was
// drawn while its request was handled; the scheduler only stores it.
type plannedReply struct {
	msg     *Message
	eventID string
	delay   time.Duration
	stream  *scenarios.Stream
	deltas  []delta
}

type delta struct {
	eventID string
	text    string
}

// planReplies draws the rule's replies to m. Called with sess locked.
func (s *Server) planReplies(sess *session, rule *scenarios.Rule, conv *conversation, m *Message, r *http.Request) []plannedReply {
	if rule == nil || len(rule.Replies) == 0 {
		return nil
	}
	data := scenarios.RequestData{
		Text: m.Text, SenderID: m.SenderID, SenderType: m.Role, Role: m.Role,
		ConversationID: conv.id, MessageID: m.ID,
	}
	out := make([]plannedReply, 0, len(rule.Replies))
	for _, rep := range rule.Replies {
		if rep.Text.UsesMetadata && data.Metadata == nil && len(m.Metadata) > 0 {
			_ = json.Unmarshal(m.Metadata, &data.Metadata)
		}
		if rep.Text.UsesHeaders && data.Headers == nil {
			data.Headers = make(map[string]string, len(r.Header))
			for k, vs := range r.Header {
				data.Headers[k] = vs[0]
			}
		}
		text, err := rep.Text.Render(sess.rand.pcg, data)
		if err != nil {
			s.log.Warn("reply template failed", "rule", rule.Name, "error", err.Error())
			text = "[msgmock: reply template failed: " + err.Error() + "]"
		}
		reply := &Message{
			ID: sess.newMessageID(m.API), ConversationID: conv.id, API: m.API,
			SenderID: rep.SenderID, Text: text, Metadata: rep.Metadata, ReplyTo: m.ID,
		}
		if m.API == scenarios.APIWorkspace {
			reply.Role, reply.WorkspaceID, reply.MessageType, reply.Checksum = rep.Role, conv.workspaceID, "text", checksum(text)
		} else {
			reply.Role = rep.SenderType
		}
		p := plannedReply{msg: reply, stream: rep.Stream}
		if !rep.Inline {
			p.delay = sess.sample(rep.After)
			for _, chunk := range chunks(text, rep.Stream) {
				p.deltas = append(p.deltas, delta{eventID: sess.newEventID(), text: chunk})
			}
			p.eventID = sess.newEventID()
		}
		out = append(out, p)
	}
	return out
}

// storeInline stores the inline replies now and returns them.
func (sess *session) storeInline(planned []plannedReply, conv *conversation, now time.Time, ret scenarios.Retention) []*Message {
	var out []*Message
	for _, p := range planned {
		if p.eventID != "" {
			continue
		}
		p.msg.CreatedAt = now
		p.msg.SentAt = pydantic.Timestamp(now)
		sess.addMessage(conv, p.msg, ret)
		out = append(out, p.msg)
	}
	return out
}

// schedule hands the delayed replies to the scheduler. A reply whose
// session was reset, or whose conversation was evicted, meanwhile is dropped.
func (s *Server) schedule(sess *session, conv *conversation, planned []plannedReply) {
	epoch := sess.epoch
	start := time.Now()
	for _, p := range planned {
		if p.eventID == "" {
			continue // inline: stored already
		}
		p := p
		at := start.Add(p.delay)
		for i, d := range p.deltas {
			d := d
			s.jobs.at(at.Add(time.Duration(i)*p.stream.Interval), func() {
				s.deliver(sess, epoch, conv, func(ret scenarios.Retention) {
					sess.addEventID("message.delta", p.msg, d.text, d.eventID, s.clock.Now(), ret)
				})
			})
		}
		if len(p.deltas) > 0 {
			at = at.Add(time.Duration(len(p.deltas)) * p.stream.Interval)
		}
		s.jobs.at(at, func() {
			s.deliver(sess, epoch, conv, func(ret scenarios.Retention) {
				now := s.clock.Now()
				p.msg.CreatedAt = now
				p.msg.SentAt = pydantic.Timestamp(now)
				sess.storeMessage(conv, p.msg, p.eventID, ret)
			})
		})
	}
}

// deliver runs store on the session if it still holds conv as it was.
func (s *Server) deliver(sess *session, epoch uint64, conv *conversation, store func(scenarios.Retention)) {
	set := s.fixtures.Current()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.epoch != epoch || sess.convs[conv.id] != conv {
		return
	}
	store(set.Settings.Retention)
}

// factsA are the matchable facts of a Conversations API request.
func factsA(r *http.Request, req sendRequestA) scenarios.Facts {
	return scenarios.Facts{
		API: scenarios.APIConversations, Text: req.Text, SenderID: req.SenderID, Role: req.SenderType,
		ConversationID: req.ConversationID, Header: r.Header, MetadataJSON: req.Metadata,
	}
}
