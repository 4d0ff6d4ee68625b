package mock

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// scenarioName picks the request's scenario: X-Mock-Scenario, else the
// session's active one, else the server's. known is false when the header
// names a scenario the fixtures do not have. Called with sess locked.
func (s *Server) scenarioName(r *http.Request, set *scenarios.Set, sess *state.Session) (name string, known bool) {
	if h := r.Header.Get("X-Mock-Scenario"); h != "" {
		return h, s.lookupScenario(sess, set, h) != nil
	}
	if name := sess.ActiveScenario(); name != "" {
		return name, true
	}
	return *s.scenario.Load(), true
}

// evaluate returns the first enabled rule that matches: the named
// scenario's rules in order, then the default scenario's. A firing rule
// counts and moves the state machine. Chance rolls come from the session's
// stream, drawn only for rules that otherwise match. Called with sess locked.
func (s *Server) evaluate(sess *state.Session, set *scenarios.Set, name string, facts *scenarios.Facts) *scenarios.Rule {
	try := func(sc *scenarios.Scenario) *scenarios.Rule {
		if sc == nil {
			return nil
		}
		var rt *state.RuleRuntime
		for _, rule := range sc.Rules {
			if !rule.When.Match(facts) {
				continue
			}
			if rt == nil {
				rt = sess.Rules(sc)
			}
			if rule.Times > 0 && rt.Hits[rule.Name] >= rule.Times {
				continue
			}
			if rule.State != nil && rule.State.Require != "" && rt.State != rule.State.Require {
				continue
			}
			if rule.Chance > 0 && rule.Chance < 1 && sess.Float() >= rule.Chance {
				continue
			}
			rt.Hits[rule.Name]++
			if rule.State != nil && rule.State.Set != "" {
				rt.State = rule.State.Set
			}
			return rule
		}
		return nil
	}
	if rule := try(s.lookupScenario(sess, set, name)); rule != nil {
		return rule
	}
	if name != "default" {
		return try(s.lookupScenario(sess, set, "default"))
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
// request itself (an unknown X-Mock-Scenario, a scripted error or fault,
// or — no rule matching — the passthrough upstream's answer) it unlocks
// sess and reports done. Called with sess locked.
func (s *Server) applyRules(w http.ResponseWriter, r *http.Request, set *scenarios.Set, sess *state.Session, facts *scenarios.Facts, convID string) (out ruleOutcome, done bool) {
	ex := exchangeOf(w)
	name, known := s.scenarioName(r, set, sess)
	if !known {
		sess.Unlock()
		if facts.API == scenarios.APIWorkspace {
			writeDetail(w, http.StatusBadRequest, "Unknown scenario: "+name)
		} else {
			writeEnvelopeError(w, http.StatusBadRequest, "Unknown scenario: "+name+".")
		}
		return out, true
	}
	ex.scenario = name
	if out.rule = s.evaluate(sess, set, name, facts); out.rule != nil {
		ex.rule, out.respond = out.rule.Name, out.rule.Respond
		if out.respond != nil {
			out.latency = sample(sess, out.respond.Latency)
		}
	}
	if out.respond.IsError() {
		sess.Unlock()
		s.scriptedError(w, r, facts.API, out.respond, out.latency, convID)
		return out, true
	}
	if out.rule == nil && set.Settings.Passthrough.URL != "" {
		sess.Unlock()
		s.passThrough(w, r, set, facts.API)
		return out, true
	}
	return out, false
}

// sample draws a latency (none drawn for a fixed one).
func sample(sess *state.Session, l *scenarios.Latency) time.Duration {
	if !l.Random() {
		return l.Sample(0, 0)
	}
	return l.Sample(sess.Float(), sess.Norm())
}

// plannedReply is a reply whose every random part (ids, text, delay) is
// drawn from its session's stream while its request is handled, in three
// steps: the ids, the delay and a seed for the text with the session
// locked (drawReplies); the text from that seed with no lock held
// (renderReplies); the event ids of its chunks, once the text is known,
// locked again (scheduleReplies). The scheduler only stores it.
type plannedReply struct {
	reply   *scenarios.Reply
	msg     *state.Message
	seed    uint64
	delay   time.Duration
	eventID string // message.created; "" for an inline reply
	deltas  []delta
}

type delta struct {
	eventID string
	text    string
}

// storeWithReplies stores m and, when replies is true, the rule's replies
// to it: drawn with sess locked, rendered with no lock, then stored
// (inline) or scheduled with sess locked again. Called with sess locked;
// returns with it unlocked, giving the inline replies stored and how many
// were scheduled.
func (s *Server) storeWithReplies(sess *state.Session, conv *state.Conversation, m *state.Message, rule *scenarios.Rule, replies bool, r *http.Request, now time.Time) ([]*state.Message, int) {
	sess.Add(conv, m)
	var planned []plannedReply
	if replies {
		planned = drawReplies(sess, rule, conv, m)
	}
	// Plain replies (not inline, not streamed) need one event id each,
	// whatever their text: drawn now, in the order the general path draws
	// them, they need no second lock of the session after rendering.
	plain := len(planned) > 0 && allPlain(planned)
	if plain {
		for i := range planned {
			planned[i].eventID = sess.NewEventID()
		}
	}
	epoch := sess.Epoch()
	sess.Unlock()
	if len(planned) == 0 {
		return nil, 0
	}
	if plain {
		// A full scheduler would refuse them once rendered: refuse them
		// first (same count, same answer; every draw is done) and spare an
		// overloaded server the rendering.
		if s.jobs.refuseIfFull(len(planned), pendingLimit(s.fixtures.Current().Settings.Retention.MessageBytes)) {
			return nil, 0
		}
		s.renderReplies(planned, rule, m, r)
		scheduled := 0
		for i := range planned {
			// deliver checks, when the reply is due, that the session was
			// not reset nor the conversation evicted meanwhile.
			if s.schedule(sess, epoch, conv, &planned[i]) {
				scheduled++
			}
		}
		return nil, scheduled
	}
	s.renderReplies(planned, rule, m, r)
	sess.Lock()
	defer sess.Unlock()
	return s.scheduleReplies(sess, epoch, conv, planned, now)
}

// drawReplies draws the rule's replies to m. Called with sess locked.
func drawReplies(sess *state.Session, rule *scenarios.Rule, conv *state.Conversation, m *state.Message) []plannedReply {
	if rule == nil || len(rule.Replies) == 0 {
		return nil
	}
	out := make([]plannedReply, 0, len(rule.Replies))
	for _, rep := range rule.Replies {
		reply := &state.Message{
			ID: sess.NewMessageID(m.API), ConversationID: conv.ID, API: m.API,
			SenderID: rep.SenderID, Metadata: rep.Metadata, ReplyTo: m.ID,
		}
		if m.API == scenarios.APIWorkspace {
			reply.Role, reply.WorkspaceID, reply.MessageType = rep.Role, conv.WorkspaceID, "text"
		} else {
			reply.Role = rep.SenderType
		}
		p := plannedReply{reply: rep, msg: reply, seed: sess.Uint64()}
		if !rep.Inline {
			p.delay = sample(sess, rep.After)
		}
		out = append(out, p)
	}
	return out
}

// allPlain reports whether no planned reply is inline or streamed.
func allPlain(planned []plannedReply) bool {
	for i := range planned {
		if planned[i].reply.Inline || planned[i].reply.Stream != nil {
			return false
		}
	}
	return true
}

// renderReplies renders each planned reply's text from its seed, with no
// lock held: a slow template delays only its own request.
func (s *Server) renderReplies(planned []plannedReply, rule *scenarios.Rule, m *state.Message, r *http.Request) {
	data := scenarios.RequestData{
		Text: m.Text, SenderID: m.SenderID, SenderType: m.Role, Role: m.Role,
		ConversationID: m.ConversationID, MessageID: m.ID,
	}
	for i := range planned {
		p := &planned[i]
		if p.reply.Text.UsesMetadata && data.Metadata == nil && len(m.Metadata) > 0 {
			_ = json.Unmarshal(m.Metadata, &data.Metadata)
		}
		if p.reply.Text.UsesHeaders && data.Headers == nil {
			data.Headers = make(map[string]string, len(r.Header))
			for k, vs := range r.Header {
				data.Headers[k] = vs[0]
			}
		}
		text, err := p.reply.Text.RenderSeeded(r.Context(), p.seed, p.seed^0x9e3779b97f4a7c15, data)
		if err != nil {
			s.log.Warn("reply template failed", "rule", rule.Name, "error", err.Error())
			text = "[msgmock: reply template failed: " + err.Error() + "]"
		}
		p.msg.Text = text
		if p.msg.API == scenarios.APIWorkspace {
			p.msg.Checksum = state.Checksum(text)
		}
	}
}

// scheduleReplies stores the inline replies now and hands the others to the
// scheduler, unless the session was reset or conv evicted since the replies
// were drawn. It returns the inline replies stored and how many replies
// were scheduled. Called with sess locked.
func (s *Server) scheduleReplies(sess *state.Session, epoch uint64, conv *state.Conversation, planned []plannedReply, now time.Time) (inline []*state.Message, scheduled int) {
	if sess.Epoch() != epoch || !sess.Holds(conv) {
		return nil, 0
	}
	for i := range planned {
		p := &planned[i]
		if p.reply.Inline {
			p.msg.CreatedAt = now
			p.msg.SentAt, p.msg.SentInstant = pydantic.Timestamp(now), now
			sess.Add(conv, p.msg)
			inline = append(inline, p.msg)
			continue
		}
		for _, chunk := range chunks(p.msg.Text, p.reply.Stream) {
			p.deltas = append(p.deltas, delta{eventID: sess.NewEventID(), text: chunk})
		}
		p.eventID = sess.NewEventID()
		if s.schedule(sess, epoch, conv, p) {
			scheduled++
		}
	}
	return inline, scheduled
}

// schedule hands one delayed reply (its chunks, then the message) to the
// scheduler, all or nothing; it reports false when the scheduler is full.
func (s *Server) schedule(sess *state.Session, epoch uint64, conv *state.Conversation, p *plannedReply) bool {
	at := s.jobs.after(p.delay)
	var room [8]job // add keeps none of them: a reply of up to 7 chunks costs no slice
	jobs := room[:0]
	for i, d := range p.deltas {
		d := d
		jobs = append(jobs, job{at: at.Add(time.Duration(i) * p.reply.Stream.Interval), fn: func() {
			s.deliver(sess, epoch, conv, func() {
				sess.AddDelta(p.msg, d.text, d.eventID, s.clock.Now())
			})
		}})
	}
	if len(p.deltas) > 0 {
		at = at.Add(time.Duration(len(p.deltas)) * p.reply.Stream.Interval)
	}
	jobs = append(jobs, job{at: at, fn: func() {
		s.deliver(sess, epoch, conv, func() {
			now := s.clock.Now()
			p.msg.CreatedAt = now
			if p.msg.API == scenarios.APIWorkspace {
				p.msg.SentAt, p.msg.SentInstant = pydantic.Timestamp(now), now
			}
			sess.Store(conv, p.msg, p.eventID)
		})
	}})
	size := p.msg.Size()
	for _, d := range p.deltas {
		size += int64(len(d.text) + len(d.eventID))
	}
	return s.jobs.add(jobs, size, pendingLimit(s.fixtures.Current().Settings.Retention.MessageBytes))
}

// deliver runs store on the session if it is live and still holds conv as
// it was when the reply was planned.
func (s *Server) deliver(sess *state.Session, epoch uint64, conv *state.Conversation, store func()) {
	set := s.fixtures.Current()
	sess.Lock()
	defer sess.Unlock()
	if sess.Epoch() != epoch || !sess.Holds(conv) {
		return
	}
	sess.Sync(set)
	store()
}

// factsA are the matchable facts of a Conversations API request.
func factsA(r *http.Request, req sendRequestA) scenarios.Facts {
	return scenarios.Facts{
		API: scenarios.APIConversations, Text: req.Text, SenderID: req.SenderID, Role: req.SenderType,
		ConversationID: req.ConversationID, Header: r.Header, MetadataJSON: req.Metadata,
	}
}
