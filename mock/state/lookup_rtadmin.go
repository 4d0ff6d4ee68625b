package state

import "github.com/msgmock/msgmock/scenarios"

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
