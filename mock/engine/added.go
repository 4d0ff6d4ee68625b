package engine

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// MaxAddedScenarios bounds how many scenarios one session (or the server,
// for every session) may hold added at run time.
const MaxAddedScenarios = 100

// MaxServerAddedBytes bounds what the scenarios added for every session
// hold, by scenarios.Scenario.Cost and their bodies; a session's own count
// against the memory budget with the rest of the session.
const MaxServerAddedBytes = 4 << 20

// ErrTooManyScenarios refuses an added scenario past MaxAddedScenarios or
// MaxServerAddedBytes.
var ErrTooManyScenarios = errors.New("too many added scenarios")

// addedScenarios are the server-wide ones. Requests read them on every
// rule evaluation, so the map is immutable and read through an atomic
// pointer; writers (admin requests) copy it under mu.
type addedScenarios struct {
	mu  sync.Mutex
	all atomic.Pointer[map[string]state.AddedScenario]
}

func (a *addedScenarios) get(name string) (state.AddedScenario, bool) {
	m := a.all.Load()
	if m == nil {
		return state.AddedScenario{}, false
	}
	sc, ok := (*m)[name]
	return sc, ok
}

func (a *addedScenarios) names() []string {
	m := a.all.Load()
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(*m))
	for n := range *m {
		out = append(out, n)
	}
	return out
}

// update replaces the map with change applied to a copy of it; change
// reports whether to publish the copy.
func (a *addedScenarios) update(change func(m map[string]state.AddedScenario) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := map[string]state.AddedScenario{}
	if cur := a.all.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	if change(next) {
		a.all.Store(&next)
	}
}

// lookup finds the scenario a request names: one its session added, then
// one added for every session, then the fixtures'. Called with sess locked.
func (e *Engine) lookup(sess *state.Session, set *scenarios.Set, name string) *scenarios.Scenario {
	if a, ok := sess.AddedScenario(name); ok {
		return a.Scenario
	}
	if a, ok := e.added.get(name); ok {
		return a.Scenario
	}
	return set.Scenario(name)
}

// AddScenario adds (or replaces) a scenario for session, or for every
// session when session is ""; past MaxAddedScenarios it refuses with
// ErrTooManyScenarios.
func (e *Engine) AddScenario(set *scenarios.Set, session string, added state.AddedScenario) error {
	name := added.Scenario.Name
	if len(added.Scenario.RateLimits) > 0 {
		e.addedLimits.Store(true) // never cleared: it only turns the limits' lookup on
	}
	full := false
	if session != "" {
		tx := e.Begin(set, session)
		defer tx.End()
		_, replacing := tx.sess.AddedScenario(name)
		if full = !replacing && len(tx.sess.AddedScenarios()) >= MaxAddedScenarios; !full {
			tx.sess.AddScenario(added)
		}
	} else {
		e.added.update(func(m map[string]state.AddedScenario) bool {
			_, replacing := m[name]
			bytes := added.Scenario.Cost() + int64(len(added.Body))
			for n, a := range m {
				if n != name {
					bytes += a.Scenario.Cost() + int64(len(a.Body))
				}
			}
			if full = (!replacing && len(m) >= MaxAddedScenarios) || bytes > MaxServerAddedBytes; !full {
				m[name] = added
			}
			return !full
		})
	}
	if full {
		return ErrTooManyScenarios
	}
	return nil
}

// AddedScenario returns the scenario session (or, with session "", the
// server) added as name.
func (e *Engine) AddedScenario(set *scenarios.Set, session, name string) (state.AddedScenario, bool) {
	if session == "" {
		return e.added.get(name)
	}
	tx := e.Begin(set, session)
	defer tx.End()
	return tx.sess.AddedScenario(name)
}

// RemoveScenario removes an added scenario; it reports whether there was one.
func (e *Engine) RemoveScenario(set *scenarios.Set, session, name string) bool {
	removed := false
	if session == "" {
		e.added.update(func(m map[string]state.AddedScenario) bool {
			_, removed = m[name]
			delete(m, name)
			return removed
		})
		return removed
	}
	tx := e.Begin(set, session)
	defer tx.End()
	return tx.sess.RemoveScenario(name)
}

// AddedScenarios lists, sorted, the scenarios added for every session and
// those session added (none for session "").
func (e *Engine) AddedScenarios(set *scenarios.Set, session string) (server, own []string) {
	server = e.added.names()
	if session != "" {
		tx := e.Begin(set, session)
		own = tx.sess.AddedScenarios()
		tx.End()
	}
	sort.Strings(server)
	sort.Strings(own)
	return server, own
}
