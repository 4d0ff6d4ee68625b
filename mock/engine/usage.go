package engine

import "github.com/msgmock/msgmock/scenarios"

// Scenario is the scenario name as the session's requests would find it:
// one added for the session, else one added for every session, else the
// fixtures'; nil when there is none.
func (tx *Tx) Scenario(name string) *scenarios.Scenario { return tx.e.lookup(tx.sess, tx.set, name) }
