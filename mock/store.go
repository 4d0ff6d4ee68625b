package mock

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/scenarios"
)

// Message is a stored message. One type serves both APIs: each API's wire
// file renders the fields it documents. Once stored it is never mutated,
// so events, journal and readers may share the pointer without locks.
type Message struct {
	ID             string
	ConversationID string
	API            scenarios.API
	SenderID       string
	Role           string // sender_type (Conversations) or role (Workspace)
	Text           string // text or content
	Metadata       json.RawMessage
	ReplyTo        string // reply_to_message_id or parent_message_id
	CreatedAt      time.Time

	// Workspace API only.
	WorkspaceID string
	OwnerID     string
	MessageType string
	Tags        json.RawMessage
	ToolCalls   json.RawMessage
	Attachments json.RawMessage
	SentAt      string // as Pydantic serialised the request's created_at (or now)
	Checksum    string
}

// Event is one entry of a session's event log: a message stored, or a
// chunk of a streamed reply.
type Event struct {
	ID        string
	Seq       uint64
	Type      string // message.created or message.delta
	CreatedAt time.Time
	Message   *Message
	Delta     string // message.delta only
	size      int64  // what it counts against the memory budget
}

type conversation struct {
	id          string
	api         scenarios.API
	workspaceID string
	createdAt   time.Time
	messages    []*Message
	fixture     bool
}

// session holds everything stateful that X-Mock-Session scopes. Its lock is
// held only for in-memory work, never across I/O.
type session struct {
	mu    sync.Mutex
	id    string
	rand  *entropy
	owner *sessions

	fixtures  *scenarios.Set // the fixtures last merged in
	fixtureID map[string]bool

	convs   map[string]*conversation
	created []*conversation // non-fixture conversations, oldest first, for eviction
	msgs    map[string]*Message

	events   []*Event
	eventSeq map[string]uint64
	nextSeq  uint64
	notify   chan struct{} // closed and replaced when an event is appended

	journal    []*JournalEntry
	journalSeq uint64

	count   atomic.Int64 // approximate bytes of messages held; read by other sessions' budget checks
	dropped atomic.Bool  // evicted from the sessions map: its messages no longer count

	scenario string // active scenario; "" = the server's
	runtime  ruleState
	epoch    uint64 // bumped by reset: replies scheduled before it are dropped
	lastUsed time.Time
}

func newSession(id string, seed uint64) *session {
	s := &session{id: id, rand: newEntropy(seed, id)}
	s.clear()
	return s
}

// clear empties the session as reset does; fixtures are merged back lazily.
func (s *session) clear() {
	s.account(-s.count.Load())
	s.fixtures = nil
	s.fixtureID = map[string]bool{}
	s.convs = map[string]*conversation{}
	s.created = nil
	s.msgs = map[string]*Message{}
	s.events = nil
	s.eventSeq = map[string]uint64{}
	if s.notify != nil {
		close(s.notify)
	}
	s.notify = make(chan struct{})
	s.journal = nil
	s.runtime = ruleState{}
	s.epoch++
	s.rand.reset()
}

// sync merges the fixtures of set into the session if it has not seen that
// set yet: conversations new to the fixtures appear; what the session
// already holds, fixture or not, is kept as it is.
func (s *session) sync(set *scenarios.Set) {
	if s.fixtures == set {
		return
	}
	for i := range set.Conversations {
		fc := &set.Conversations[i]
		if s.fixtureID[fc.ID] {
			continue
		}
		s.fixtureID[fc.ID] = true
		if _, taken := s.convs[fc.ID]; taken {
			continue
		}
		c := &conversation{id: fc.ID, api: fc.API, workspaceID: fc.WorkspaceID, createdAt: fc.CreatedAt, fixture: true}
		if c.api == scenarios.APIWorkspace && c.workspaceID == "" {
			c.workspaceID = DefaultWorkspace
		}
		for _, fm := range fc.Messages {
			m := fixtureMessage(c, fm)
			c.messages = append(c.messages, m)
			s.msgs[m.ID] = m
		}
		for _, m := range c.messages {
			s.account(m.size())
		}
		s.convs[c.id] = c
	}
	retentionChanged := s.fixtures != nil && s.fixtures.Settings.Retention != set.Settings.Retention
	s.fixtures = set
	if retentionChanged {
		s.evict(set.Settings.Retention)
	}
}

func fixtureMessage(c *conversation, fm scenarios.Message) *Message {
	m := &Message{
		ID: fm.ID, ConversationID: c.id, API: c.api, SenderID: fm.SenderID, Role: fm.Role,
		Text: fm.Text, Metadata: fm.Metadata, ReplyTo: fm.ReplyTo, CreatedAt: fm.CreatedAt,
	}
	if c.api == scenarios.APIWorkspace {
		m.WorkspaceID, m.OwnerID, m.MessageType = c.workspaceID, fm.OwnerID, fm.MessageType
		m.ToolCalls, m.Attachments, m.SentAt = fm.ToolCalls, fm.Attachments, pydantic.Timestamp(fm.CreatedAt)
		if fm.Tags != nil {
			m.Tags, _ = json.Marshal(fm.Tags)
		}
		if m.Metadata == nil {
			m.Metadata = json.RawMessage(`{}`)
		}
		m.Checksum = checksum(m.Text)
	}
	return m
}

// ordered returns the session's conversations of api: fixtures in the
// order the fixtures list them, then the others oldest first.
func (s *session) ordered(api scenarios.API) []*conversation {
	var out []*conversation
	if s.fixtures != nil {
		for i := range s.fixtures.Conversations {
			if c := s.convs[s.fixtures.Conversations[i].ID]; c != nil && c.fixture && c.api == api {
				out = append(out, c)
			}
		}
	}
	for _, c := range s.created {
		if c.api == api {
			out = append(out, c)
		}
	}
	return out
}

// conversation returns the conversation id of api, or nil.
func (s *session) conversation(api scenarios.API, id string) *conversation {
	c := s.convs[id]
	if c == nil || c.api != api {
		return nil
	}
	return c
}

// newConversation creates a conversation with a fresh id drawn from the
// session's stream; a collision (vanishingly rare) draws again.
func (s *session) newConversation(api scenarios.API, workspaceID string, now time.Time, ret scenarios.Retention) *conversation {
	for {
		var id string
		if api == scenarios.APIWorkspace {
			id = s.rand.id("conv_", 16, hexes)
		} else {
			id = s.rand.id("con_", 7, alnum)
		}
		if _, taken := s.convs[id]; taken {
			continue
		}
		c := &conversation{id: id, api: api, workspaceID: workspaceID, createdAt: now}
		s.convs[id] = c
		s.created = append(s.created, c)
		s.evict(ret)
		return c
	}
}

// newMessageID draws a message id in api's format that the session does not hold.
func (s *session) newMessageID(api scenarios.API) string {
	for {
		var id string
		if api == scenarios.APIWorkspace {
			id = s.rand.id("msg_", 16, hexes)
		} else {
			id = s.rand.id("msg_", 6, alnum)
		}
		if _, taken := s.msgs[id]; !taken {
			return id
		}
	}
}

// newEventID draws an event id.
func (s *session) newEventID() string {
	for {
		id := s.rand.id("evt_", 8, alnum)
		if _, taken := s.eventSeq[id]; !taken {
			return id
		}
	}
}

// addMessage stores m in c and logs its message.created event.
func (s *session) addMessage(c *conversation, m *Message, ret scenarios.Retention) *Event {
	return s.storeMessage(c, m, s.newEventID(), ret)
}

// storeMessage stores m in c, evicting the conversation's oldest messages
// past the retention limit, and logs its message.created event under the
// given (pre-drawn) id.
func (s *session) storeMessage(c *conversation, m *Message, eventID string, ret scenarios.Retention) *Event {
	c.messages = append(c.messages, m)
	s.msgs[m.ID] = m
	s.account(m.size())
	c.messages = dropOldest(c.messages, ret.MessagesPerConversation, func(old *Message) {
		delete(s.msgs, old.ID)
		s.account(-old.size())
	})
	if s.owner != nil && s.owner.total.Load() > ret.MessageBytes {
		s.owner.shed(s, ret)
	}
	return s.addEventID("message.created", m, "", eventID, m.CreatedAt, ret)
}

func (s *session) addEventID(typ string, m *Message, delta, id string, at time.Time, ret scenarios.Retention) *Event {
	s.nextSeq++
	ev := &Event{ID: id, Seq: s.nextSeq, Type: typ, CreatedAt: at, Message: m, Delta: delta}
	// An event keeps its message alive after the conversation lets it go,
	// so it counts the message's bytes too (an overestimate, on the safe side).
	ev.size = 96 + int64(len(delta)) + m.size()
	s.account(ev.size)
	s.events = append(s.events, ev)
	s.eventSeq[ev.ID] = ev.Seq
	s.events = dropOldest(s.events, ret.Events, s.forgetEvent)
	close(s.notify)
	s.notify = make(chan struct{})
	if s.owner != nil && s.owner.onEvent != nil {
		s.owner.onEvent(ev)
	}
	return ev
}

// evict drops the oldest non-fixture conversations past the retention limit.
func (s *session) evict(ret scenarios.Retention) {
	s.created = dropOldest(s.created, ret.Conversations, s.forget)
}

// forget removes an evicted conversation's messages and the conversation.
func (s *session) forget(c *conversation) {
	for _, m := range c.messages {
		delete(s.msgs, m.ID)
		s.account(-m.size())
	}
	delete(s.convs, c.id)
}

func (s *session) forgetEvent(ev *Event) {
	delete(s.eventSeq, ev.ID)
	s.account(-ev.size)
}

// size approximates the bytes a message holds, for the memory budget.
func (m *Message) size() int64 {
	return 320 + int64(len(m.ID)+len(m.ConversationID)+len(m.SenderID)+len(m.Role)+len(m.Text)+len(m.Metadata)+
		len(m.ReplyTo)+len(m.WorkspaceID)+len(m.OwnerID)+len(m.MessageType)+len(m.Tags)+len(m.ToolCalls)+
		len(m.Attachments)+len(m.SentAt)+len(m.Checksum))
}

// account adds n to the session's message count and, while the session is
// live, to the server-wide total. Called with s.mu held.
func (s *session) account(n int64) {
	s.count.Add(n)
	if s.owner != nil && !s.dropped.Load() {
		s.owner.total.Add(n)
	}
}

// dropOldest drops the first len(list)-limit elements, calling onDrop for
// each. It re-slices instead of copying, clearing the dropped slots so the
// backing array keeps nothing alive: append reallocates now and then and
// copies only what is kept, so each insertion costs O(1) amortised.
func dropOldest[T any](list []*T, limit int, onDrop func(*T)) []*T {
	over := len(list) - limit
	if over <= 0 {
		return list
	}
	for i := 0; i < over; i++ {
		if onDrop != nil {
			onDrop(list[i])
		}
		list[i] = nil
	}
	return list[over:]
}

// sessions maps X-Mock-Session ids to sessions. The default session ("")
// always exists; others are created on first use and, past the retention
// limit, the least recently used is dropped.
type sessions struct {
	mu      sync.Mutex
	seed    uint64
	all     map[string]*session
	def     *session
	onEvent func(*Event) // called with the event's session locked; must not block
	total   atomic.Int64 // approximate bytes of messages held by all live sessions
}

// shed brings the bytes held by all sessions back under the retention
// budget after cur stored a message, down to 90% of it so that shedding is
// rare: least recently used named sessions go first, then cur's own oldest
// conversations, then the older half of its events, then the oldest
// messages of its largest conversations (fixture conversations are never
// evicted whole). Other sessions are
// dropped from the map without taking their locks (cur's is held), so no
// two sessions ever wait on each other.
func (ss *sessions) shed(cur *session, ret scenarios.Retention) {
	target := ret.MessageBytes * 9 / 10
	ss.mu.Lock()
	for ss.total.Load() > target {
		var oldest *session
		for id, s := range ss.all {
			if id != "" && s != cur && (oldest == nil || s.lastUsed.Before(oldest.lastUsed)) {
				oldest = s
			}
		}
		if oldest == nil {
			break
		}
		ss.drop(oldest)
	}
	ss.mu.Unlock()
	for ss.total.Load() > target && len(cur.created) > 0 {
		c := cur.created[0]
		cur.created[0] = nil
		cur.created = cur.created[1:]
		cur.forget(c)
	}
	if ss.total.Load() > target && len(cur.events) > 0 {
		cur.events = dropOldest(cur.events, len(cur.events)/2, cur.forgetEvent)
	}
	for ss.total.Load() > target {
		var big *conversation
		for _, c := range cur.convs {
			if big == nil || len(c.messages) > len(big.messages) {
				big = c
			}
		}
		if big == nil || len(big.messages) == 0 {
			return
		}
		big.messages = dropOldest(big.messages, len(big.messages)/2, func(old *Message) {
			delete(cur.msgs, old.ID)
			cur.account(-1)
		})
	}
}

// drop removes s from the map; its messages stop counting. Called with ss.mu held.
func (ss *sessions) drop(s *session) {
	delete(ss.all, s.id)
	if !s.dropped.Swap(true) {
		ss.total.Add(-s.count.Load())
	}
}

func newSessions(seed uint64, onEvent func(*Event)) *sessions {
	ss := &sessions{seed: seed, onEvent: onEvent}
	ss.def = newSession("", seed)
	ss.def.owner = ss
	ss.all = map[string]*session{"": ss.def}
	return ss
}

func (ss *sessions) get(id string, now time.Time, limit int) *session {
	if id == "" {
		return ss.def
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.all[id]
	if s == nil {
		s = newSession(id, ss.seed)
		s.owner = ss
		ss.all[id] = s
		if len(ss.all)-1 > limit {
			ss.dropOldest()
		}
	}
	s.lastUsed = now
	return s
}

// dropOldest removes the least recently used named session. Called with ss.mu held.
func (ss *sessions) dropOldest() {
	var oldest *session
	for id, s := range ss.all {
		if id != "" && (oldest == nil || s.lastUsed.Before(oldest.lastUsed)) {
			oldest = s
		}
	}
	if oldest != nil {
		ss.drop(oldest)
	}
}
