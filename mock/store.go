package mock

import (
	"encoding/json"
	"sync"
	"time"

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
		s.convs[c.id] = c
	}
	if s.fixtures != nil && s.fixtures.Settings.Retention != set.Settings.Retention {
		s.fixtures = set
		s.evict(set.Settings.Retention)
	}
	s.fixtures = set
}

func fixtureMessage(c *conversation, fm scenarios.Message) *Message {
	m := &Message{
		ID: fm.ID, ConversationID: c.id, API: c.api, SenderID: fm.SenderID, Role: fm.Role,
		Text: fm.Text, Metadata: fm.Metadata, ReplyTo: fm.ReplyTo, CreatedAt: fm.CreatedAt,
	}
	if c.api == scenarios.APIWorkspace {
		m.WorkspaceID, m.OwnerID, m.MessageType = c.workspaceID, fm.OwnerID, fm.MessageType
		m.ToolCalls, m.Attachments, m.SentAt = fm.ToolCalls, fm.Attachments, pydanticTimestamp(fm.CreatedAt)
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
	c.messages = dropOldest(c.messages, ret.MessagesPerConversation, func(old *Message) { delete(s.msgs, old.ID) })
	return s.addEventID("message.created", m, "", eventID, m.CreatedAt, ret)
}

func (s *session) addEventID(typ string, m *Message, delta, id string, at time.Time, ret scenarios.Retention) *Event {
	s.nextSeq++
	ev := &Event{ID: id, Seq: s.nextSeq, Type: typ, CreatedAt: at, Message: m, Delta: delta}
	s.events = append(s.events, ev)
	s.eventSeq[ev.ID] = ev.Seq
	s.events = dropOldest(s.events, ret.Events, func(old *Event) { delete(s.eventSeq, old.ID) })
	close(s.notify)
	s.notify = make(chan struct{})
	if s.owner != nil && s.owner.onEvent != nil {
		s.owner.onEvent(ev)
	}
	return ev
}

// evict drops the oldest non-fixture conversations past the retention limit.
func (s *session) evict(ret scenarios.Retention) {
	s.created = dropOldest(s.created, ret.Conversations, func(c *conversation) {
		for _, m := range c.messages {
			delete(s.msgs, m.ID)
		}
		delete(s.convs, c.id)
	})
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
		delete(ss.all, oldest.id)
	}
}

// each calls fn for every session, the default one first.
func (ss *sessions) each(fn func(*session)) {
	ss.mu.Lock()
	list := make([]*session, 0, len(ss.all))
	list = append(list, ss.def)
	for id, s := range ss.all {
		if id != "" {
			list = append(list, s)
		}
	}
	ss.mu.Unlock()
	for _, s := range list {
		fn(s)
	}
}
