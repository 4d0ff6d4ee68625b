package state

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// Session holds everything stateful that X-Mock-Session scopes. Lock it
// (Lock) before any other method and for no longer than in-memory work
// takes: it is never held across I/O.
type Session struct {
	mu    sync.Mutex
	id    string
	store *Store
	rand  *entropy

	fixtures  *scenarios.Set // the fixtures last merged in; its retention applies
	fixtureID map[string]bool

	convs   map[string]*Conversation
	created []*Conversation // non-fixture conversations, oldest first, for eviction
	preload []*Conversation // fixture conversations, in the order they were merged

	// What the session retains, in pointer-free memory (see the package
	// documentation): messages and chunks' text in msgs, journal entries
	// in jrnl; the indexes and the logs hold handles and fixed records.
	msgs     *arena
	jrnl     *arena
	msgIndex table // hash of a message id → its handle, for the messages conversations hold
	// shared counts, for a message id held more than once (fixtures may
	// give two conversations the same id), the copies besides the one the
	// index finds: when that one goes, another is indexed in its place.
	shared   map[string]int
	convRing int64 // bytes of the conversations' rings of handles

	events     ring[eventRec]
	eventIndex table // event id → sequence number
	nextSeq    uint64
	notify     chan struct{}            // closed when an event is appended; made only when someone waits (Notify)
	notifyOf   map[string]chan struct{} // by conversation id: closed when an event of that conversation is appended

	journal    ring[handle]
	journalSeq uint64

	scenario string // active scenario; "" = the server's
	// active mirrors scenario for readers without the lock (nil: ""):
	// whether a request may meet a rate limit is asked before its
	// transaction (Store.ActiveScenario).
	active atomic.Pointer[string]
	rules  map[string]*RuleRuntime
	added  map[string]AddedScenario // scenarios added over the admin API for this session
	epoch  uint64                   // bumped by Reset: replies planned before it are dropped

	lastUsed  atomic.Uint64 // the Store's use counter when last used: recency without a clock
	followers int           // open event streams following the session

	// acct guards the byte count and the dropped flag. It is a leaf lock,
	// taken with or without mu, so the Store can drop a session without
	// taking that session's lock.
	acct     sync.Mutex
	count    int64 // bytes held: what the arenas, indexes and logs hold (counted) and added scenarios
	held     int64 // messages held by conversations, for the eviction counters
	counted  int64 // the retained structures' bytes as last counted (settle)
	dropped  bool
	done     chan struct{} // closed when the session is dropped
	doneOnce sync.Once
}

func newSession(st *Store, id string) *Session {
	s := &Session{id: id, store: st, rand: newEntropy(st.seed, id), done: make(chan struct{})}
	s.clear()
	return s
}

// ID is the session's X-Mock-Session ("" for the default session).
func (s *Session) ID() string { return s.id }

// Lock locks the session.
func (s *Session) Lock() { s.mu.Lock() }

// Sync merges the fixtures of set into the locked session if it has not
// seen that set yet: conversations new to the fixtures appear; what it
// already holds, fixture or not, stays as it is. A writer syncs with the
// configuration its request runs on before it writes.
func (s *Session) Sync(set *scenarios.Set) { s.sync(set) }

// Unlock unlocks the session.
func (s *Session) Unlock() { s.mu.Unlock() }

// Followers adds delta to the count of event streams following the
// session and returns it. Called with the session locked.
func (s *Session) Followers(delta int) int {
	s.followers += delta
	return s.followers
}

// Done is closed when the session is dropped (a limit evicted it): its
// streams end then.
func (s *Session) Done() <-chan struct{} { return s.done }

// Dropped reports whether a limit has evicted the session.
func (s *Session) Dropped() bool {
	s.acct.Lock()
	defer s.acct.Unlock()
	return s.dropped
}

func (s *Session) retention() scenarios.Retention { return s.fixtures.Settings.Retention }

// clear empties the session as Reset does; fixtures are merged back lazily.
func (s *Session) clear() {
	s.account(-s.bytes(), -s.heldMessages())
	s.fixtures = nil
	s.fixtureID = map[string]bool{}
	s.convs = map[string]*Conversation{}
	s.created = nil
	s.preload = nil
	s.msgs, s.jrnl = newArena(), newArena()
	s.msgIndex, s.convRing, s.shared = table{}, 0, nil
	s.events, s.eventIndex = ring[eventRec]{}, table{}
	s.wake("")
	s.journal = ring[handle]{}
	s.counted = 0
	s.rules = nil
	s.added = nil
	s.epoch++
	s.rand.reset()
}

// Reset returns the session to the fixtures' state: no messages sent, no
// events, an empty journal, rule counters and states from the start, the
// random stream rewound and the active scenario the server's.
func (s *Session) Reset(set *scenarios.Set) {
	s.clear()
	s.SetActiveScenario("")
	s.sync(set)
}

func (s *Session) sync(set *scenarios.Set) {
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
		c := &Conversation{ID: fc.ID, API: fc.API, WorkspaceID: fc.WorkspaceID, CreatedAt: fc.CreatedAt, Fixture: true, arena: s.msgs}
		if c.API == scenarios.APIWorkspace && c.WorkspaceID == "" {
			c.WorkspaceID = DefaultWorkspace
		}
		for _, fm := range fc.Messages {
			s.keepMessage(c, fixtureMessage(c, fm))
		}
		s.convs[c.ID] = c
		s.preload = append(s.preload, c)
	}
	retentionChanged := s.fixtures != nil && s.fixtures.Settings.Retention != set.Settings.Retention
	s.fixtures = set
	if retentionChanged {
		s.created = dropOldest(s.created, set.Settings.Retention.Conversations, s.forget)
	}
	s.settle()
}

// Conversations returns the session's conversations of api: fixtures in
// the order the fixtures list them, then the others oldest first.
func (s *Session) Conversations(api scenarios.API) []*Conversation {
	var out []*Conversation
	if s.fixtures != nil {
		for i := range s.fixtures.Conversations {
			if c := s.convs[s.fixtures.Conversations[i].ID]; c != nil && c.Fixture && c.API == api {
				out = append(out, c)
			}
		}
	}
	for _, c := range s.created {
		if c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// Conversation returns the conversation id of api, or nil.
func (s *Session) Conversation(api scenarios.API, id string) *Conversation {
	c := s.convs[id]
	if c == nil || c.API != api {
		return nil
	}
	return c
}

// Holds reports whether the session is live and still holds c, as it was:
// what a delayed reply checks before it is stored.
func (s *Session) Holds(c *Conversation) bool {
	return s.convs[c.ID] == c && !s.Dropped()
}

// Message returns the message id held by one of the session's
// conversations, decoded, or nil.
func (s *Session) Message(id string) *Message {
	h := s.lookup(id)
	if h == 0 {
		return nil
	}
	v := viewMessage(s.msgs.bytes(h))
	return v.decode()
}

// MessageIn reports whether one of the session's conversations holds the
// message id and it is conversationID's: a check that decodes nothing.
func (s *Session) MessageIn(id, conversationID string) bool {
	h := s.lookup(id)
	if h == 0 {
		return false
	}
	v := viewMessage(s.msgs.bytes(h))
	return string(v.field(fConversationID)) == conversationID
}

// idSeed keys the hashes of message ids: the index's order is never seen.
var idSeed = maphash.MakeSeed()

// lookup returns the handle of the message id, or 0.
func (s *Session) lookup(id string) handle {
	h, _ := s.msgIndex.find(maphash.String(idSeed, id), func(val uint64) bool {
		return string(messageID(s.msgs.bytes(handle(val)))) == id
	})
	return handle(h)
}

// lookupKey is lookup of an id given as bytes and its hash.
func (s *Session) lookupKey(key uint64, id []byte) handle {
	h, _ := s.msgIndex.find(key, func(val uint64) bool {
		return string(messageID(s.msgs.bytes(handle(val)))) == string(id)
	})
	return handle(h)
}

// Epoch changes with every Reset: a reply planned in one epoch is not
// stored in another.
func (s *Session) Epoch() uint64 { return s.epoch }

// NewConversation creates a conversation with a fresh id drawn from the
// session's stream; past the retention limit the oldest created one goes.
func (s *Session) NewConversation(api scenarios.API, workspaceID string, now time.Time) *Conversation {
	for {
		var id string
		if api == scenarios.APIWorkspace {
			id = s.rand.id("conv_", 16, hexDigits)
		} else {
			id = s.rand.id("con_", 7, alnum)
		}
		if _, taken := s.convs[id]; taken {
			continue // a collision (vanishingly rare) draws again
		}
		c := &Conversation{ID: id, API: api, WorkspaceID: workspaceID, CreatedAt: now, arena: s.msgs}
		s.convs[id] = c
		s.created = append(s.created, c)
		// The new one is the newest, and the limit is at least 1: it stays.
		s.created = dropOldest(s.created, s.retention().Conversations, s.forget)
		s.settle()
		return c
	}
}

// NewMessageID draws a message id in api's format that the session does not hold.
func (s *Session) NewMessageID(api scenarios.API) string {
	for {
		var id string
		if api == scenarios.APIWorkspace {
			id = s.rand.id("msg_", 16, hexDigits)
		} else {
			id = s.rand.id("msg_", 6, alnum)
		}
		if s.lookup(id) == 0 {
			return id
		}
	}
}

// NewEventID draws an event id.
func (s *Session) NewEventID() EventID {
	for {
		var id EventID
		s.rand.fill(id[:], alnum)
		if _, taken := s.eventIndex.find(id.key(), nil); !taken {
			return id
		}
	}
}

// Float draws a number in [0, 1) from the session's stream.
func (s *Session) Float() float64 { return s.rand.float() }

// Norm draws a standard normal number from the session's stream.
func (s *Session) Norm() float64 { return s.rand.rand.NormFloat64() }

// Uint64 draws 64 bits from the session's stream (a seed for work done
// outside the lock, such as rendering a reply).
func (s *Session) Uint64() uint64 { return s.rand.pcg.Uint64() }

// Add stores m in c and logs its message.created event under a fresh id;
// it returns the event's sequence number.
func (s *Session) Add(c *Conversation, m *Message) uint64 {
	return s.Store(c, m, s.NewEventID())
}

// Store stores m in c and logs its message.created event under the given
// (pre-drawn) id. Limits may evict what is oldest — the conversation's
// oldest messages, the oldest events, and past the memory budget other
// sessions and this one's older content — but never c, m or its event.
// A conversation the session no longer holds (a merge of new settings
// forgot it) takes nothing: Store returns nil, for a message kept there
// would be held by nothing a limit walks. It returns the event's sequence
// number (0: refused).
func (s *Session) Store(c *Conversation, m *Message, eventID EventID) uint64 {
	if s.convs[c.ID] != c {
		return 0
	}
	return s.stored(c, s.keepMessage(c, m), m, m.ConversationID, eventID, m.CreatedAt)
}

// StorePacked is Store for a message that waited packed (Packed): its
// record is copied into the arena as it is, its created_at — and sent_at,
// when the record holds one — set to at, instead of being decoded and
// encoded again. The message is decoded only if a webhook wants its event.
func (s *Session) StorePacked(c *Conversation, p Packed, eventID EventID, at time.Time) uint64 {
	if s.convs[c.ID] != c {
		return 0
	}
	h, b := s.msgs.alloc(len(p))
	copy(b, p)
	putTime(b[1:], at)
	if b[0]&msgHasSentAt != 0 {
		putTime(b[1+timeSize:], at)
	}
	s.keepRecord(c, h)
	return s.stored(c, h, nil, c.ID, eventID, at)
}

// stored finishes Store once c holds the message's record h: the
// conversation's oldest messages past its limit go, the message.created
// event is logged (m nil: decoded from h if a webhook wants it) and the
// budget is fitted.
func (s *Session) stored(c *Conversation, h handle, m *Message, conversationID string, eventID EventID, at time.Time) uint64 {
	for c.messages.len() > s.retention().MessagesPerConversation {
		s.dropMessage(s.popMessage(c))
	}
	s.msgs.hold(h) // for its event
	seq := s.logEvent(eventCreated, m, conversationID, h, "", eventID, at, 0)
	s.fitBudget(keep{conv: c, msg: h, event: seq})
	return seq
}

// keepMessage writes m's record (anew when a streamed reply's chunks
// already hold one) and appends it to c, indexed by its id; it returns
// the record's handle.
func (s *Session) keepMessage(c *Conversation, m *Message) handle {
	h := s.record(m, true)
	s.keepRecord(c, h)
	return h
}

// keepRecord appends the message record h to c, indexed by its id and
// counted held. An id taken again (a fixture's) is found as the newer
// message.
func (s *Session) keepRecord(c *Conversation, h handle) {
	s.pushMessage(c, h)
	id := messageID(s.msgs.bytes(h))
	key := maphash.Bytes(idSeed, id)
	if old := s.lookupKey(key, id); old != 0 {
		s.msgIndex.remove(key, uint64(old))
		if s.shared == nil {
			s.shared = map[string]int{}
		}
		s.shared[string(id)]++
	}
	s.msgIndex.insert(key, uint64(h))
	s.account(0, 1)
}

// record returns the handle of m's record with one more holder: the one
// written for m's chunks (rewritten when rewrite is set), else a new one.
func (s *Session) record(m *Message, rewrite bool) handle {
	if m.owner == s.msgs && s.msgs.live(m.rec, m.gen) {
		if rewrite {
			m.encode(s.msgs.resize(m.rec, m.recordSize()))
			s.msgs.settle()
		}
		s.msgs.hold(m.rec)
		return m.rec
	}
	h, b := s.msgs.alloc(m.recordSize())
	m.encode(b)
	m.owner, m.rec, m.gen = s.msgs, h, s.msgs.slots[h].gen
	return h
}

func (s *Session) pushMessage(c *Conversation, h handle) {
	before := c.messages.bytes()
	c.messages.push(h)
	s.convRing += c.messages.bytes() - before
}

func (s *Session) popMessage(c *Conversation) handle {
	before := c.messages.bytes()
	h := c.messages.pop()
	s.convRing += c.messages.bytes() - before
	return h
}

// AddDelta logs a message.delta event: the next chunk of m, a streamed
// reply, with the faults scripted on its delivery.
func (s *Session) AddDelta(m *Message, delta string, eventID EventID, at time.Time, fault DeliveryFault) uint64 {
	seq := s.logEvent(eventDelta, m, m.ConversationID, s.record(m, false), delta, eventID, at, fault)
	s.fitBudget(keep{msg: m.rec, event: seq})
	return seq
}

// logEvent logs an event of m, whose record h it holds already, and
// returns its sequence number. m may be nil (StorePacked): it is decoded
// from h if a webhook wants the event.
func (s *Session) logEvent(typ uint8, m *Message, conversationID string, h handle, delta string, id EventID, at time.Time, fault DeliveryFault) uint64 {
	s.nextSeq++
	rec := eventRec{seq: s.nextSeq, id: id, msg: h, typ: typ, fault: fault}
	putTime(rec.at[:], at)
	if delta != "" {
		dh, b := s.msgs.alloc(len(delta))
		copy(b, delta)
		rec.delta = dh
	}
	s.events.push(rec)
	s.eventIndex.insert(id.key(), rec.seq)
	for s.events.len() > s.retention().Events {
		s.dropEvent(s.events.pop())
	}
	s.wake(conversationID)
	if s.store.onEvent != nil && (s.store.wants == nil || s.store.wants(s.fixtures)) {
		if m == nil {
			v := viewMessage(s.msgs.bytes(h))
			m = v.decode()
		}
		s.store.onEvent(newEvent(typ, m, delta, id, at, fault, rec.seq), s.fixtures)
	}
	return rec.seq
}

// newEvent is the Event logEvent logged.
func newEvent(typ uint8, m *Message, delta string, id EventID, at time.Time, fault DeliveryFault, seq uint64) *Event {
	return &Event{ID: id.String(), Seq: seq, Type: eventTypes[typ], CreatedAt: at, Message: m, Delta: delta, Fault: fault}
}

// EventCount is how many events the log holds. The log is read by index,
// 0 the oldest, with the session locked.
func (s *Session) EventCount() int { return s.events.len() }

// EventSeqAt is the sequence number of the i-th event.
func (s *Session) EventSeqAt(i int) uint64 { return s.events.ref(i).seq }

// EventMatches reports whether f selects the i-th event.
func (s *Session) EventMatches(i int, f EventFilter) bool {
	if f == (EventFilter{}) {
		return true
	}
	v := viewMessage(s.msgs.bytes(s.events.ref(i).msg))
	return f.matches(&v)
}

// EventAt returns the i-th event, decoded: the caller's to keep.
func (s *Session) EventAt(i int) *Event {
	rec := s.events.ref(i)
	v := viewMessage(s.msgs.bytes(rec.msg))
	ev := &Event{ID: rec.id.String(), Seq: rec.seq, Type: eventTypes[rec.typ], CreatedAt: getTime(rec.at[:]),
		Message: v.decode(), Fault: rec.fault}
	if rec.delta != 0 {
		ev.Delta = string(s.msgs.bytes(rec.delta))
	}
	return ev
}

// After returns the index of the first event with a sequence number above seq.
func (s *Session) After(seq uint64) int {
	return s.events.search(func(rec eventRec) bool { return rec.seq > seq })
}

// EventSeq returns the sequence number of the event id, if it is still logged.
func (s *Session) EventSeq(id string) (uint64, bool) {
	eid, ok := parseEventID(id)
	if !ok {
		return 0, false
	}
	return s.eventIndex.find(eid.key(), nil)
}

// NextSeq is the sequence number of the last event logged (0: none yet).
func (s *Session) NextSeq() uint64 { return s.nextSeq }

// Notify is closed when the next event is logged (or the session is
// reset) — with a conversation id, the next event of that conversation, so
// that a stream following one conversation sleeps through the others'.
// Channels are made on demand: a session nobody streams from makes none.
func (s *Session) Notify(conversationID string) <-chan struct{} {
	if conversationID == "" {
		if s.notify == nil {
			s.notify = make(chan struct{})
		}
		return s.notify
	}
	ch := s.notifyOf[conversationID]
	if ch == nil {
		if s.notifyOf == nil {
			s.notifyOf = map[string]chan struct{}{}
		}
		ch = make(chan struct{})
		s.notifyOf[conversationID] = ch
	}
	return ch
}

// wake closes what Notify gave out for an event of conversationID: the
// channel of every stream and that conversation's; with "" (a reset),
// every channel.
func (s *Session) wake(conversationID string) {
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
	if conversationID == "" {
		for id, ch := range s.notifyOf {
			close(ch)
			delete(s.notifyOf, id)
		}
		return
	}
	if ch := s.notifyOf[conversationID]; ch != nil {
		close(ch)
		delete(s.notifyOf, conversationID)
	}
}

// Record caps e (JournalBodyLimit, JournalHeaderLimit), numbers it and
// appends it to the journal.
func (s *Session) Record(e *JournalEntry) {
	e.Capture()
	s.journalSeq++
	e.Seq = s.journalSeq
	binary.LittleEndian.PutUint64(e.rec.rec, e.Seq)
	h, b := s.jrnl.alloc(len(e.rec.rec))
	copy(b, e.rec.rec)
	e.releaseRecord()
	s.journal.push(h)
	for s.journal.len() > s.retention().Journal {
		s.dropJournal(s.journal.pop())
	}
	s.fitBudget(keep{entry: h})
}

// Journal returns the journal, oldest first, decoded: the caller's to keep.
func (s *Session) Journal() []*JournalEntry {
	out := make([]*JournalEntry, s.journal.len())
	for i := range out {
		out[i] = decodeJournal(s.jrnl.bytes(s.journal.at(i)))
	}
	return out
}

// JournalEntry returns the entry numbered seq, decoded, or nil.
func (s *Session) JournalEntry(seq uint64) *JournalEntry {
	i := s.journal.search(func(h handle) bool { return journalSeq(s.jrnl.bytes(h)) >= seq })
	if i == s.journal.len() || journalSeq(s.jrnl.bytes(s.journal.at(i))) != seq {
		return nil
	}
	return decodeJournal(s.jrnl.bytes(s.journal.at(i)))
}

// ClearJournal empties the journal.
func (s *Session) ClearJournal() {
	for s.journal.len() > 0 {
		s.jrnl.release(s.journal.pop())
	}
	s.settle()
}

// AddedScenario is a scenario added over the admin API, with the body it
// was sent as.
type AddedScenario struct {
	Scenario *scenarios.Scenario
	Body     []byte
	size     int64 // what it counts against the budget, set by AddScenario
}

// AddScenario adds (or replaces) a scenario for this session only; Reset removes it.
func (s *Session) AddScenario(a AddedScenario) {
	if s.added == nil {
		s.added = map[string]AddedScenario{}
	}
	if old, ok := s.added[a.Scenario.Name]; ok {
		s.account(-old.size, 0)
	}
	// A scenario added at run time counts against the memory budget like
	// the session's messages: its rules, templates and the body it came as.
	a.size = a.Scenario.Cost() + int64(len(a.Body))
	s.account(a.size, 0)
	s.added[a.Scenario.Name] = a
	s.fitBudget(keep{})
}

// AddedScenario returns the session's scenario added as name.
func (s *Session) AddedScenario(name string) (AddedScenario, bool) {
	a, ok := s.added[name]
	return a, ok
}

// RemoveScenario removes the session's scenario added as name.
func (s *Session) RemoveScenario(name string) bool {
	a, ok := s.added[name]
	if ok {
		s.account(-a.size, 0)
	}
	delete(s.added, name)
	return ok
}

// AddedScenarios returns the names of the session's added scenarios.
func (s *Session) AddedScenarios() []string {
	names := make([]string, 0, len(s.added))
	for n := range s.added {
		names = append(names, n)
	}
	return names
}

// ActiveScenario is the session's active scenario, "" when it follows the server's.
func (s *Session) ActiveScenario() string { return s.scenario }

// SetActiveScenario sets the session's active scenario.
func (s *Session) SetActiveScenario(name string) {
	s.scenario = name
	if name == "" {
		s.active.Store(nil)
	} else {
		s.active.Store(&name)
	}
}

// RuleRuntime is a scenario's runtime state in one session: how often each
// rule has fired and where its state machine stands. It lives beside the
// published configuration, never in it; a scenario whose YAML changed
// starts afresh.
type RuleRuntime struct {
	Hits   map[string]int
	State  string
	digest string
}

// Rules returns the session's runtime state of sc.
func (s *Session) Rules(sc *scenarios.Scenario) *RuleRuntime {
	if s.rules == nil {
		s.rules = map[string]*RuleRuntime{}
	}
	rt := s.rules[sc.Name]
	if rt == nil || rt.digest != sc.Digest {
		rt = &RuleRuntime{digest: sc.Digest, Hits: map[string]int{}, State: "start"}
		s.rules[sc.Name] = rt
	}
	return rt
}

// RuleHits is the session's runtime state of sc as Rules has it, read
// without creating it: how often each rule fired (nil: none yet) and the
// state machine's state.
func (s *Session) RuleHits(sc *scenarios.Scenario) (hits map[string]int, state string) {
	if rt := s.rules[sc.Name]; rt != nil && rt.digest == sc.Digest {
		return rt.Hits, rt.State
	}
	return nil, "start"
}

// dropMessage lets a conversation's message go.
func (s *Session) dropMessage(h handle) {
	rid := messageID(s.msgs.bytes(h))
	indexed := s.msgIndex.remove(maphash.Bytes(idSeed, rid), uint64(h))
	if n := s.shared[string(rid)]; n > 0 {
		id := string(rid)
		if s.shared[id] = n - 1; n == 1 {
			delete(s.shared, id)
		}
		if indexed {
			s.reindex(id, h)
		}
	}
	s.msgs.release(h)
	s.account(0, -1)
	s.store.evicted.Messages.Add(1)
}

// reindex indexes, in place of gone (evicted), the copy of id that the
// index would have found had gone never been merged: that of the fixture
// conversation merged last that still holds one. Only ids that fixtures
// gave more than one message (the only way an id is taken twice) take
// this walk.
func (s *Session) reindex(id string, gone handle) {
	var found handle
	for i := len(s.preload) - 1; i >= 0 && found == 0; i-- {
		c := s.preload[i]
		if s.convs[c.ID] != c {
			continue
		}
		for j := range c.messages.len() {
			if h := c.messages.at(j); h != gone {
				if string(messageID(s.msgs.bytes(h))) == id {
					found = h
				}
			}
		}
	}
	if found != 0 {
		s.msgIndex.insert(maphash.String(idSeed, id), uint64(found))
	}
}

// forget removes an evicted conversation and its messages.
func (s *Session) forget(c *Conversation) {
	for c.messages.len() > 0 {
		s.dropMessage(s.popMessage(c))
	}
	s.convRing -= c.messages.bytes()
	c.messages = ring[handle]{}
	delete(s.convs, c.ID)
	s.store.evicted.Conversations.Add(1)
}

func (s *Session) dropEvent(rec eventRec) {
	s.eventIndex.remove(rec.id.key(), rec.seq)
	s.msgs.release(rec.msg)
	if rec.delta != 0 {
		s.msgs.release(rec.delta)
	}
	s.store.evicted.Events.Add(1)
}

func (s *Session) dropJournal(h handle) {
	s.jrnl.release(h)
	s.store.evicted.Journal.Add(1)
}

// retained is what the session's retained structures hold: the arenas,
// the indexes and the logs.
func (s *Session) retained() int64 {
	return s.msgs.held() + s.jrnl.held() + s.msgIndex.bytes() + s.eventIndex.bytes() +
		s.events.bytes() + s.journal.bytes() + s.convRing
}

// settle compacts what the arenas found sparse and counts the bytes the
// session's structures hold now.
func (s *Session) settle() {
	s.msgs.settle()
	s.jrnl.settle()
	b := s.retained()
	s.account(b-s.counted, 0)
	s.counted = b
}

// account adds bytes to the session's count and, while the session is
// live, to the Store's total; messages counts the messages its
// conversations hold.
func (s *Session) account(bytes, messages int64) {
	s.acct.Lock()
	s.count += bytes
	s.held += messages
	if !s.dropped {
		s.store.total.Add(bytes)
	}
	s.acct.Unlock()
}

func (s *Session) bytes() int64 {
	s.acct.Lock()
	defer s.acct.Unlock()
	return s.count
}

func (s *Session) heldMessages() int64 {
	s.acct.Lock()
	defer s.acct.Unlock()
	return s.held
}

// drop marks the session evicted: its bytes stop counting and its streams
// end. It takes only the leaf lock, so any goroutine may call it.
func (s *Session) drop() (messages int64) {
	s.acct.Lock()
	defer s.acct.Unlock()
	if s.dropped {
		return 0
	}
	s.dropped = true
	s.store.total.Add(-s.count)
	s.doneOnce.Do(func() { close(s.done) })
	return s.held
}

// dropOldest drops the first len(list)-limit elements (conversations),
// calling onDrop for each. It re-slices instead of copying, clearing the
// dropped slots so the backing array keeps nothing alive: append
// reallocates now and then and copies only what is kept, so each
// insertion costs O(1) amortised.
func dropOldest[T any](list []*T, limit int, onDrop func(*T)) []*T {
	over := len(list) - limit
	if over <= 0 {
		return list
	}
	for i := 0; i < over; i++ {
		onDrop(list[i])
		list[i] = nil
	}
	return list[over:]
}
