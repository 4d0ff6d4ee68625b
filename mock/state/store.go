package state

import (
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/msgmock/msgmock/scenarios"
)

// PendingLimit is how many bytes replies waiting to be delivered may hold,
// and as many again webhook deliveries not yet finished: an eighth of the
// message budget, from 1 MiB to 8 MiB. With the budget they bound the
// process's memory.
func PendingLimit(budget int64) int64 { return min(max(budget/8, 1<<20), 8<<20) }

// Reserve is the part of the byte budget the state leaves to the garbage
// collector: a quarter of it. Sessions shed past the budget less the
// reserve, so that at budget-full the heap — what is held, the
// configuration, requests in flight — stays under the runtime's memory
// limit (mock.MemoryLimit) with room for the collector to work in. Without
// it the heap would sit at the limit and the collector run back to back.
func Reserve(budget int64) int64 { return budget / 4 }

// Options are a Store's dependencies.
type Options struct {
	Seed    uint64                       // every session's random stream derives from it
	OnEvent func(*Event, *scenarios.Set) // called for every event logged, with its session locked and the configuration it last merged; must not block
	// WantsEvents, when set, is asked first, with the same configuration:
	// false spares building the event (two allocations a message) when
	// nothing listens — no webhook configured.
	WantsEvents func(*scenarios.Set) bool
	Logger      *slog.Logger // evictions of sessions and budget shedding; default: none
}

// Store maps X-Mock-Session ids to sessions. The default session ("")
// always exists; others are created on first use. Past the sessions limit
// the least recently used named session is dropped; past the byte budget,
// the least recently used sessions of all go first.
type Store struct {
	seed    uint64
	onEvent func(*Event, *scenarios.Set)
	wants   func(*scenarios.Set) bool
	log     *slog.Logger

	mu   sync.RWMutex
	all  map[string]*Session // the default session too, under ""
	def  atomic.Pointer[Session]
	tick atomic.Uint64 // use counter: recency is the order of use, not a clock

	total   atomic.Int64 // bytes held by all live sessions
	evicted Evictions
}

// Evictions counts what limits have evicted since start.
type Evictions struct {
	Sessions, Conversations, Messages, Events, Journal atomic.Int64
}

// Stats is a snapshot of the Store's size and evictions.
type Stats struct {
	Sessions int   // named sessions, besides the default one
	Bytes    int64 // bytes held by all sessions, as counted against the budget
	Evicted  EvictionCounts
}

// EvictionCounts is a snapshot of Evictions.
type EvictionCounts struct {
	Sessions      int64 `json:"sessions"`
	Conversations int64 `json:"conversations"`
	Messages      int64 `json:"messages"`
	Events        int64 `json:"events"`
	Journal       int64 `json:"journal_entries"`
}

// New returns an empty Store.
func New(opts Options) *Store {
	st := &Store{seed: opts.Seed, onEvent: opts.OnEvent, wants: opts.WantsEvents, log: opts.Logger, all: map[string]*Session{}}
	def := newSession(st, "")
	st.def.Store(def)
	st.all[""] = def
	def.lastUsed.Store(st.tick.Add(1))
	return st
}

// ActiveScenario is the active scenario of session id as last set, read
// without its lock and without creating it ("" for none, or for a session
// that does not exist).
func (st *Store) ActiveScenario(id string) string {
	var s *Session
	if id == "" {
		s = st.def.Load()
	} else {
		st.mu.RLock()
		s = st.all[id]
		st.mu.RUnlock()
	}
	if s == nil {
		return ""
	}
	if name := s.active.Load(); name != nil {
		return *name
	}
	return ""
}

// Session returns the session id, creating it on first use, and marks it
// the most recently used. Creating one past the sessions limit of set
// drops the least recently used other named session.
func (st *Store) Session(id string, set *scenarios.Set) *Session {
	if id == "" {
		s := st.def.Load()
		s.lastUsed.Store(st.tick.Add(1))
		return s
	}
	st.mu.RLock()
	s := st.all[id]
	st.mu.RUnlock()
	if s != nil {
		s.lastUsed.Store(st.tick.Add(1))
		return s
	}
	st.mu.Lock()
	if s = st.all[id]; s != nil {
		st.mu.Unlock()
		s.lastUsed.Store(st.tick.Add(1))
		return s
	}
	s = newSession(st, id)
	s.lastUsed.Store(st.tick.Add(1)) // before any eviction: the new session is the newest
	st.all[id] = s
	var dropped []*Session
	for len(st.all)-1 > set.Settings.Retention.Sessions {
		victim := st.leastRecent(s, false)
		if victim == nil {
			break
		}
		st.dropLocked(victim)
		dropped = append(dropped, victim)
	}
	st.mu.Unlock()
	for _, v := range dropped {
		st.logf("session evicted: past retention.sessions", "session", v.id, "limit", set.Settings.Retention.Sessions)
	}
	return s
}

// Lock returns the session id, locked and merged with set.
func (st *Store) Lock(id string, set *scenarios.Set) *Session {
	s := st.Session(id, set)
	s.Lock()
	s.sync(set)
	return s
}

// LockForRead is Lock for a reader that must not create the session
// (POST /__mock/verify, GET /__mock/unmatched, …/usage): creating one past
// retention.sessions evicts another, so a read naming unknown sessions
// could wipe real ones. A session that exists is returned locked and
// merged with set, and marked used, as Lock does; for one that does not,
// an empty session that the Store does not hold — no journal, no
// counters, no added scenarios — locked, for the reader to see as empty
// and drop. It is marked dropped, so that nothing it might count reaches
// the Store's byte total.
func (st *Store) LockForRead(id string, set *scenarios.Set) *Session {
	if id == "" {
		return st.Lock(id, set)
	}
	st.mu.RLock()
	s := st.all[id]
	st.mu.RUnlock()
	if s != nil {
		s.lastUsed.Store(st.tick.Add(1))
		s.Lock()
		s.sync(set)
		return s
	}
	s = newSession(st, id)
	s.acct.Lock()
	s.dropped = true
	s.acct.Unlock()
	s.Lock()
	return s
}

// Stats returns the Store's size and eviction counts.
func (st *Store) Stats() Stats {
	st.mu.RLock()
	n := len(st.all) - 1
	st.mu.RUnlock()
	return Stats{Sessions: n, Bytes: st.total.Load(), Evicted: EvictionCounts{
		Sessions: st.evicted.Sessions.Load(), Conversations: st.evicted.Conversations.Load(),
		Messages: st.evicted.Messages.Load(), Events: st.evicted.Events.Load(), Journal: st.evicted.Journal.Load(),
	}}
}

// leastRecent returns the least recently used session other than except;
// for the budget (forBudget), any that holds bytes, the default session
// too; for the sessions limit, any named one. Called with st.mu held.
func (st *Store) leastRecent(except *Session, forBudget bool) *Session {
	var oldest *Session
	for id, s := range st.all {
		if s == except || (id == "" && !forBudget) || (forBudget && s.bytes() == 0) {
			continue
		}
		if oldest == nil || s.lastUsed.Load() < oldest.lastUsed.Load() {
			oldest = s
		}
	}
	return oldest
}

// dropLocked removes s from the map; the default session is replaced by
// a fresh one. Called with st.mu held; takes only s's leaf lock.
func (st *Store) dropLocked(s *Session) {
	if s.id == "" {
		fresh := newSession(st, "")
		fresh.lastUsed.Store(st.tick.Add(1))
		st.all[""] = fresh
		st.def.Store(fresh)
	} else {
		delete(st.all, s.id)
	}
	st.evicted.Messages.Add(s.drop())
	st.evicted.Sessions.Add(1)
}

func (st *Store) logf(msg string, args ...any) {
	if st.log != nil {
		st.log.Warn(msg, args...)
	}
}

// keep is what a write must not evict: its conversation, its message's
// record, its event (by sequence number), its journal entry's record.
type keep struct {
	conv  *Conversation
	msg   handle
	event uint64
	entry handle
}

// fitBudget brings the bytes held by all sessions back within the budget
// less the collector's reserve after s wrote, down to 90% of that so that
// shedding is rare. It evicts, in
// this order, until the total fits: the least recently used other
// sessions; s's oldest events; s's oldest journal entries; the oldest
// messages of s's largest conversations. It never evicts k, and never a
// conversation whole: a client writing to a conversation never finds it
// gone because of the budget (only retention.conversations removes one).
//
// What s evicts frees records in its arenas, not always whole chunks: s
// evicts until what it would hold with its arenas compacted fits, then
// compacts them, sparsest chunks first, until it does — so that records
// that share chunks with what went are not evicted for nothing. Called
// with s locked; other sessions are dropped without their locks (only
// their leaf locks), so no two sessions ever wait on each other.
func (s *Session) fitBudget(k keep) {
	st := s.store
	budget := s.retention().MessageBytes
	limit := budget - Reserve(budget)
	s.settle()
	if st.total.Load() <= limit {
		return
	}
	target := limit * 9 / 10
	before := st.total.Load()
	var sessions []string
	st.mu.Lock()
	for st.total.Load() > target {
		victim := st.leastRecent(s, true)
		if victim == nil {
			break
		}
		st.dropLocked(victim)
		sessions = append(sessions, victim.id)
	}
	st.mu.Unlock()
	over := func() bool { s.settle(); return st.total.Load() > target }
	// projected: over once the arenas are compacted.
	projected := func() bool {
		s.settle()
		return st.total.Load()-s.msgs.reclaimable()-s.jrnl.reclaimable() > target
	}
	var events, entries, messages int
	for over() {
		n := events + entries + messages
		for projected() && s.events.len() > 0 && s.events.ref(0).seq != k.event {
			s.dropEvent(s.events.pop())
			events++
		}
		for projected() && s.journal.len() > 0 && s.journal.at(0) != k.entry {
			s.dropJournal(s.journal.pop())
			entries++
		}
		for projected() {
			big := s.largestConversation(k.msg)
			if big == nil {
				break
			}
			for i := max(big.messages.len()/2, 1); i > 0 && big.messages.at(0) != k.msg && projected(); i-- {
				s.dropMessage(s.popMessage(big))
				messages++
			}
		}
		s.msgs.compactAll(over)
		s.jrnl.compactAll(over)
		if events+entries+messages == n {
			break // nothing more to evict: what is left is what this write keeps
		}
	}
	st.logf("memory budget reached: evicted the oldest content", "budget", budget, "bytes_before", before,
		"bytes_after", st.total.Load(), "session", s.id, "sessions_dropped", sessions,
		"events", events, "journal_entries", entries, "messages", messages)
}

// largestConversation returns the conversation with the most messages
// whose oldest message is not m, or nil; among equals the first in the
// order the fixtures were merged, then the oldest created, so that runs repeat.
func (s *Session) largestConversation(m handle) *Conversation {
	var big *Conversation
	consider := func(c *Conversation) {
		if c == nil || c.messages.len() == 0 || c.messages.at(0) == m {
			return
		}
		if big == nil || c.messages.len() > big.messages.len() {
			big = c
		}
	}
	for _, c := range s.preload {
		consider(c)
	}
	for _, c := range s.created {
		consider(c)
	}
	return big
}

// Each calls fn for every live session, the default one included, each
// locked for the call. fn must not lock another session.
func (st *Store) Each(fn func(*Session)) {
	st.mu.RLock()
	all := make([]*Session, 0, len(st.all))
	for _, s := range st.all {
		all = append(all, s)
	}
	st.mu.RUnlock()
	for _, s := range all {
		s.Lock()
		fn(s)
		s.Unlock()
	}
}

// SessionIDs returns the ids of the named sessions, most recently used first.
func (st *Store) SessionIDs() []string {
	st.mu.RLock()
	type used struct {
		id   string
		tick uint64
	}
	all := make([]used, 0, len(st.all))
	for id, s := range st.all {
		if id != "" {
			all = append(all, used{id, s.lastUsed.Load()})
		}
	}
	st.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].tick > all[j].tick })
	ids := make([]string, len(all))
	for i, u := range all {
		ids[i] = u.id
	}
	return ids
}
