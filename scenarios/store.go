package scenarios

import (
	"context"
	"errors"
	"fmt"
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
//
// A reload is also refused, keeping the last good Set, when a file that
// defined something now holds nothing (an editor's save caught between
// truncating the file and writing it: to remove what a file defines,
// delete the file), and when the guard (SetGuard) objects.
type Store struct {
	source string
	load   func() (*Set, error)
	now    func() time.Time

	// Set by NewFSStore: what ReloadSettled reads twice.
	loader *Loader
	fsys   fs.FS
	prefix string

	current atomic.Pointer[Set]
	status  atomic.Pointer[Status]
	mu      sync.Mutex // serialises reloads; guards guard
	guard   func(cur, next *Set) Problems
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
	st, err := NewStore(source, func() (*Set, error) { return l.Load(fsys, prefix) }, now)
	if err != nil {
		return nil, err
	}
	st.loader, st.fsys, st.prefix = l, fsys, prefix
	return st, nil
}

// Current returns the published Set.
func (st *Store) Current() *Set { return st.current.Load() }

// Source names where the fixtures come from.
func (st *Store) Source() string { return st.source }

// Status returns the outcome of the latest load.
func (st *Store) Status() Status { return *st.status.Load() }

// SetGuard sets a check every reload must pass before it is published:
// g sees the current Set and the new one, and any problem it returns
// refuses the reload (the current Set keeps serving; the problems show in
// Status as load errors do). g runs with reloads serialised; nil removes
// the guard.
func (st *Store) SetGuard(g func(cur, next *Set) Problems) {
	st.mu.Lock()
	st.guard = g
	st.mu.Unlock()
}

// Reload loads again. On success with changed content it publishes the new
// Set and returns true; unchanged content publishes nothing. On failure the
// previous Set keeps serving and the error (Problems) is recorded.
func (st *Store) Reload() (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	set, err := st.load()
	return st.publish(set, err)
}

// Bounds of ReloadSettled's wait for files to stop changing.
const (
	// DefaultSettle is the quiet interval between ReloadSettled's reads.
	DefaultSettle = 25 * time.Millisecond
	// settleReads bounds the reads: files still changing after them are
	// reported, and the watcher reloads again on their next change.
	settleReads = 20
)

// ReloadSettled is Reload for a watcher, which sees files while editors
// write them: it reads the fixtures, waits quiet, reads them again, and
// goes on until two reads in a row agree; only then does it build and
// publish, so that a file caught half-written is never applied. Files
// still changing after settleReads reads are a problem (the last good Set
// keeps serving). It returns ctx's error, publishing nothing, if ctx ends
// while it waits. A Store not made by NewFSStore reloads as Reload does.
func (st *Store) ReloadSettled(ctx context.Context, quiet time.Duration) (bool, error) {
	if st.loader == nil {
		return st.Reload()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	files, probs := readTree(st.fsys, st.prefix)
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for reads := 1; ; reads++ {
		timer.Reset(quiet)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timer.C:
		}
		again, againProbs := readTree(st.fsys, st.prefix)
		if sameRead(files, probs, again, againProbs) {
			break
		}
		files, probs = again, againProbs
		if reads == settleReads {
			return st.publish(nil, Problems{{File: displayRoot(st.prefix), Msg: fmt.Sprintf(
				"files kept changing over %d reads %s apart; the last good configuration is kept until they settle", settleReads, quiet)}})
		}
	}
	set, err := st.loader.loadFiles(files, probs)
	return st.publish(set, err)
}

func displayRoot(prefix string) string {
	if prefix == "" {
		return "."
	}
	return prefix
}

// publish swaps set in, unless err is set, a file that defined something
// now holds nothing, or the guard objects; it records the outcome in
// Status. Called with st.mu held.
func (st *Store) publish(set *Set, err error) (bool, error) {
	prev := st.status.Load()
	cur := st.current.Load()
	if err == nil && set.Digest != cur.Digest {
		probs := emptiedFiles(cur, set)
		if st.guard != nil {
			probs = append(probs, st.guard(cur, set)...)
		}
		if len(probs) > 0 {
			err = probs
		}
	}
	if err != nil {
		var probs Problems
		msgs := []string{err.Error()}
		if errors.As(err, &probs) {
			msgs = probs.Strings()
		}
		st.status.Store(&Status{OK: false, At: st.now().UTC(), Errors: msgs, Generation: prev.Generation})
		return false, err
	}
	if set.Digest == cur.Digest {
		st.status.Store(&Status{OK: true, At: st.now().UTC(), Generation: prev.Generation})
		return false, nil
	}
	st.current.Store(set)
	st.status.Store(&Status{OK: true, At: st.now().UTC(), Generation: prev.Generation + 1})
	return true, nil
}

// emptiedFiles are the problems of files that held a document in cur and
// hold none in next: most likely saves caught midway, after the editor
// truncated the file and before it wrote it again.
func emptiedFiles(cur, next *Set) Problems {
	var probs Problems
	for _, f := range next.Files {
		if cur.defining[f] && !next.defining[f] {
			probs = append(probs, Problem{File: f, Line: 1, Col: 1, Msg: "the file is empty (or holds only comments) — probably caught mid-save; " +
				"the last good configuration is kept. Save it again, or delete the file to remove what it defined"})
		}
	}
	return probs
}
