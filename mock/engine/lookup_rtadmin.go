package engine

import "github.com/msgmock/msgmock/scenarios"

// BeginRead is Begin for a request that only reads (verify, unmatched,
// usage): a session that does not exist is not created — the transaction
// reads an empty session no one else sees (state.Store.LockForRead).
func (e *Engine) BeginRead(set *scenarios.Set, session string) *Tx {
	return &Tx{e: e, set: set, sess: e.store.LockForRead(session, set), locked: true}
}
