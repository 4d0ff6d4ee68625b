package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Stored is what Commit stored.
type Stored struct {
	Inline    []*state.Message // replies stored with the message (the Workspace API's inline replies)
	Scheduled int              // replies handed to the scheduler, to be stored after their delay
	// Err is why the replies could not be made: a template that broke its
	// budget (scenarios.ErrTemplateBudget, logged and counted) or the
	// request's context ending. The message itself is stored.
	Err error
}

// Commit stores m in conv and, when replies is true, the replies rule
// scripts for it, then ends the transaction. Every random part of the
// replies (ids, text, delay) is drawn from the session's stream now, while
// the request is handled, in three steps: the ids, the delay and a seed for
// the text with the session locked; the text from that seed with no lock
// held (a slow template delays only its own request); the event ids of a
// streamed reply's chunks, once its text is known, locked again. header
// is the request's, for templates that read .Request.Headers.
func (tx *Tx) Commit(ctx context.Context, conv *state.Conversation, m *state.Message, rule *scenarios.Rule, replies bool, header map[string][]string) Stored {
	sess := tx.sess
	sess.Add(conv, m)
	var planned []plannedReply
	if replies {
		planned = tx.e.drawReplies(sess, rule, conv, m)
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
	tx.End()
	if len(planned) == 0 {
		return Stored{}
	}
	limit := state.PendingLimit(tx.set.Settings.Retention.MessageBytes)
	if plain {
		// A full scheduler would refuse them once rendered: refuse them
		// first (same count, same answer; every draw is done) and spare an
		// overloaded server the rendering.
		if tx.e.jobs.RefuseIfFull(len(planned), limit) {
			return Stored{}
		}
		if err := tx.e.renderReplies(ctx, planned, rule, m, header); err != nil {
			return Stored{Err: err}
		}
		scheduled := 0
		for i := range planned {
			// deliver checks, when the reply is due, that the session was
			// not reset nor the conversation evicted meanwhile.
			if tx.e.schedule(sess, epoch, conv, &planned[i], limit) {
				scheduled++
			}
		}
		return Stored{Scheduled: scheduled}
	}
	if err := tx.e.renderReplies(ctx, planned, rule, m, header); err != nil {
		return Stored{Err: err}
	}
	sess.Lock()
	defer sess.Unlock()
	return tx.e.scheduleReplies(sess, &tx.set.Settings, epoch, conv, planned, m.CreatedAt, limit)
}

// plannedReply is a reply whose every random part is drawn (see Commit);
// the scheduler only stores it.
type plannedReply struct {
	reply   *scenarios.Reply
	msg     *state.Message
	seed    uint64
	delay   time.Duration
	eventID state.EventID // message.created; none for an inline reply
	deltas  []delta
	created time.Duration // a streamed reply's message.created, after the delay
}

type delta struct {
	eventID state.EventID
	text    string
	at      time.Duration // after the reply's delay
	stall   time.Duration // a scripted pause after this chunk
	fault   state.DeliveryFault
}

// drawReplies draws the rule's replies to m. Called with sess locked.
func (e *Engine) drawReplies(sess *state.Session, rule *scenarios.Rule, conv *state.Conversation, m *state.Message) []plannedReply {
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
			p.delay = e.scale(sampleWith(sess, rep.After))
		}
		out = append(out, p)
	}
	return out
}

// sampleWith draws a latency from sess's stream (none drawn for a fixed one).
func sampleWith(sess *state.Session, l *scenarios.Latency) time.Duration {
	if !l.Random() {
		return l.Sample(0, 0)
	}
	return l.Sample(sess.Float(), sess.Norm())
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
// lock held. A template that breaks its budget, or a request gone, stops it:
// no reply of the rule is made then.
func (e *Engine) renderReplies(ctx context.Context, planned []plannedReply, rule *scenarios.Rule, m *state.Message, header map[string][]string) error {
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
			data.Headers = make(map[string]string, len(header))
			for k, vs := range header {
				data.Headers[k] = vs[0]
			}
		}
		text, err := p.reply.Text.RenderSeeded(ctx, p.seed, p.seed^0x9e3779b97f4a7c15, data)
		if err != nil {
			if ctx.Err() == nil {
				e.templateFailures.Add(1)
				e.log.Error("reply template failed", "rule", rule.Name, "error", err.Error())
			}
			return err
		}
		p.msg.Text = text
		if p.msg.API == scenarios.APIWorkspace {
			p.msg.Checksum = state.Checksum(text)
		}
	}
	return nil
}

// scheduleReplies stores the inline replies now and hands the others to the
// scheduler, unless the session was reset or conv evicted since the replies
// were drawn. Called with sess locked.
func (e *Engine) scheduleReplies(sess *state.Session, settings *scenarios.Settings, epoch uint64, conv *state.Conversation, planned []plannedReply, now time.Time, limit int64) (out Stored) {
	if sess.Epoch() != epoch || !sess.Holds(conv) {
		return out
	}
	for i := range planned {
		p := &planned[i]
		if p.reply.Inline {
			p.msg.CreatedAt, p.msg.SentAt = now, now
			sess.Add(conv, p.msg)
			out.Inline = append(out.Inline, p.msg)
			continue
		}
		var plan scenarios.Stream
		if p.reply.Stream != nil {
			plan = settings.StreamPlan(p.reply.Stream)
			for _, chunk := range chunks(p.msg.Text, &plan, sess.Float) {
				p.deltas = append(p.deltas, delta{eventID: sess.NewEventID(), text: chunk})
			}
		}
		p.eventID = sess.NewEventID()
		if len(p.deltas) > 0 {
			// Drawn after the ids, so that a stream that draws nothing
			// (a fixed pace, no faults) leaves them as they always were.
			p.created = e.paceStream(sess, &plan, p.deltas)
		}
		if e.schedule(sess, epoch, conv, p, limit) {
			out.Scheduled++
		}
	}
	return out
}

// schedule hands one delayed reply (its chunks, then the message) to the
// scheduler, all or nothing; it reports false when the scheduler is full.
func (e *Engine) schedule(sess *state.Session, epoch uint64, conv *state.Conversation, p *plannedReply, limit int64) bool {
	at := e.jobs.After(p.delay)
	var room [8]clock.Job // Add keeps none of them: a reply of up to 7 chunks costs no slice
	jobs := room[:0]
	// The jobs hold what they store, not p: the request's plan is garbage
	// once it is answered, and a pending reply is one object fewer for the
	// collector to mark (tens of thousands are pending under load).
	msg, eventID := p.msg, p.eventID
	var packed state.Packed
	if len(p.deltas) == 0 { // a plain reply waits packed (state.Packed)
		if msg.API == scenarios.APIWorkspace {
			msg.SentAt = at.Add(p.created) // a place for it in the record: StorePacked sets it
		}
		packed, msg = state.Pack(msg), nil
	}
	for _, d := range p.deltas {
		d := d
		jobs = append(jobs, clock.Job{At: at.Add(d.at), Fn: func() {
			e.deliver(sess, epoch, conv, func() {
				sess.AddDelta(msg, d.text, d.eventID, e.clock.Now(), d.fault)
			})
		}})
	}
	at = at.Add(p.created)
	jobs = append(jobs, clock.Job{At: at, Fn: func() {
		e.deliver(sess, epoch, conv, func() {
			now := e.clock.Now()
			if msg == nil {
				sess.StorePacked(conv, packed, eventID, now)
				return
			}
			msg.CreatedAt = now
			if msg.API == scenarios.APIWorkspace {
				msg.SentAt = now
			}
			sess.Store(conv, msg, eventID)
		})
	}})
	size := p.msg.Size()
	for _, d := range p.deltas {
		size += int64(len(d.text) + len(state.EventID{}))
	}
	return e.jobs.Add(jobs, size, limit)
}

// deliver runs store on the session if it is live and still holds conv as
// it was when the reply was planned. It runs when the reply falls due, on
// the configuration in use then.
func (e *Engine) deliver(sess *state.Session, epoch uint64, conv *state.Conversation, store func()) {
	set := e.fixtures.Current()
	sess.Lock()
	defer sess.Unlock()
	// Merged first: a reload may have lowered retention.conversations, and
	// the merge then forgets conversations — conv perhaps. Storing into a
	// conversation the session no longer holds would keep a message that
	// nothing evicts.
	sess.Sync(set)
	if sess.Epoch() != epoch || !sess.Holds(conv) {
		return
	}
	store()
}
