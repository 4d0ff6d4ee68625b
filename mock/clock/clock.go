package clock

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the time every id, timestamp and journal entry is stamped with,
// and the time every wait runs on.
//
//   - Wall (the default): it follows the wall clock plus an offset that
//     POST /__mock/clock can shift; waits run in real time.
//   - Frozen (--now): it stands still until told to move; waits still run
//     in real time.
//   - Virtual (--clock virtual): it stands still until POST /__mock/clock
//     moves it, and every wait — reply delays, stream pacing, response
//     latency, webhook back-off — runs on it: moving it delivers what falls
//     due, in time order, before the move returns.
//
// Reading it takes no lock (every request reads it, some several times):
// its kind never changes, and the instant and the offset are swapped
// whole; mu orders the moves and guards the sleeps.
type Clock struct {
	mu      sync.Mutex
	frozen  bool // set at construction only, as virtual
	virtual bool
	at      atomic.Pointer[time.Time] // the frozen or virtual instant
	offset  atomic.Int64              // a time.Duration added to the wall clock when neither
	wall    func() time.Time
	waiters []*clockWaiter // virtual: sleeps waiting for the clock to reach their deadline
}

type clockWaiter struct {
	deadline time.Time
	done     chan struct{}
}

// New returns a clock frozen at *now, or following the wall clock when now is nil.
func New(now *time.Time) *Clock {
	c := &Clock{wall: time.Now}
	if now != nil {
		at := now.UTC()
		c.frozen = true
		c.at.Store(&at)
	}
	return c
}

// NewVirtual returns a virtual clock that starts at start.
func NewVirtual(start time.Time) *Clock {
	c := &Clock{wall: time.Now, virtual: true}
	at := start.UTC()
	c.at.Store(&at)
	return c
}

// Now returns the current mock time in UTC.
func (c *Clock) Now() time.Time {
	if c.frozen || c.virtual {
		return *c.at.Load()
	}
	return c.wall().UTC().Add(time.Duration(c.offset.Load()))
}

// At is the clock's time at the wall clock's instant wall (a reading of
// time.Now): Now without reading the wall clock again.
func (c *Clock) At(wall time.Time) time.Time {
	if c.frozen || c.virtual {
		return *c.at.Load()
	}
	return wall.UTC().Add(time.Duration(c.offset.Load()))
}

// WaitNow is the time waits are measured on: the virtual clock's, else the
// wall clock (a frozen clock still waits in real time).
func (c *Clock) WaitNow() time.Time {
	if c.virtual {
		return *c.at.Load()
	}
	return c.wall()
}

// Virtual reports whether waits run on this clock rather than in real time.
func (c *Clock) Virtual() bool { return c.virtual }

// Set moves the clock to t and returns it. A running clock keeps running
// from t. (A virtual clock is moved forward by Scheduler.Move, which delivers
// what falls due on the way.)
func (c *Clock) Set(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen || c.virtual {
		at := t.UTC()
		c.at.Store(&at)
		c.wakeLocked()
	} else {
		c.offset.Store(int64(t.Sub(c.wall())))
	}
	return c.Now()
}

// Frozen reports whether the clock stands still between moves.
func (c *Clock) Frozen() bool { return c.frozen || c.virtual }

// Sleep waits d on the clock, or until ctx ends; it reports whether the
// full delay passed. On a virtual clock it returns once the clock has
// been moved past the deadline.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	if !c.virtual {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	c.mu.Lock()
	w := &clockWaiter{deadline: c.at.Load().Add(d), done: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case <-w.done:
		return true
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.waiters {
			if x == w {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return false
	}
}

// Waiting is how many sleeps wait for a virtual clock to move.
func (c *Clock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// wakeLocked releases the sleeps whose deadline the clock has reached.
func (c *Clock) wakeLocked() {
	kept := c.waiters[:0]
	at := *c.at.Load()
	for _, w := range c.waiters {
		if !w.deadline.After(at) {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	for i := len(kept); i < len(c.waiters); i++ {
		c.waiters[i] = nil
	}
	c.waiters = kept
}
