package scenarios

import (
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// Status is the outcome of the latest load, as /__mock/status shows it.
type Status struct {
	OK         bool
	At         time.Time
	Errors     []string
	Generation int // successful loads that changed the configuration, the first included
}

// Store publishes the current Set. Readers Load it once per request and use
// that snapshot throughout; Reload builds a new Set completely and swaps it
// in only if every file is valid, so a bad save never takes anything away.
type Store struct {
	source string
	load   func() (*Set, error)
	now    func() time.Time

	current atomic.Pointer[Set]
	status  atomic.Pointer[Status]
	mu      sync.Mutex // serialises reloads
}

// NewStore loads once with load and fails if that load fails: a server
// never starts on a broken configuration. source names the fixtures (a
// directory, or "built-in") for status output.
func NewStore(source string, load func() (*Set, error), now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	st := &Store{source: source, load: load, now: now}
	set, err := load()
	if err != nil {
		return nil, err
	}
	st.current.Store(set)
	st.status.Store(&Status{OK: true, At: now().UTC(), Generation: 1})
	return st, nil
}

// NewFSStore is NewStore over fsys, with a Loader that re-parses only the
// files that changed since the previous load.
func NewFSStore(source string, fsys fs.FS, prefix string, now func() time.Time) (*Store, error) {
	l := NewLoader()
	return NewStore(source, func() (*Set, error) { return l.Load(fsys, prefix) }, now)
}

// Current returns the published Set.
func (st *Store) Current() *Set { return st.current.Load() }

// Source names where the fixtures come from.
func (st *Store) Source() string { return st.source }

// Status returns the outcome of the latest load.
func (st *Store) Status() Status { return *st.status.Load() }

// Reload loads again. On success with changed content it publishes the new
// Set and returns true; unchanged content publishes nothing. On failure the
// previous Set keeps serving and the error (Problems) is recorded.
func (st *Store) Reload() (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	prev := st.status.Load()
	set, err := st.load()
	if err != nil {
		var probs Problems
		msgs := []string{err.Error()}
		if errors.As(err, &probs) {
			msgs = probs.Strings()
		}
		st.status.Store(&Status{OK: false, At: st.now().UTC(), Errors: msgs, Generation: prev.Generation})
		return false, err
	}
	if set.Digest == st.current.Load().Digest {
		st.status.Store(&Status{OK: true, At: st.now().UTC(), Generation: prev.Generation})
		return false, nil
	}
	st.current.Store(set)
	st.status.Store(&Status{OK: true, At: st.now().UTC(), Generation: prev.Generation + 1})
	return true, nil
}
