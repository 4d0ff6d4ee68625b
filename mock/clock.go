package mock

import (
	"sync"
	"time"
)

// Clock is the time every id, timestamp and journal entry is stamped with.
// Frozen (--now) it stands still until told to move; otherwise it follows
// the wall clock plus an offset that POST /__mock/clock can shift. Delays
// (latency, reply timers) always run in real time.
type Clock struct {
	mu     sync.Mutex
	frozen bool
	at     time.Time     // the frozen instant
	offset time.Duration // added to the wall clock when not frozen
	wall   func() time.Time
}

// NewClock returns a clock frozen at *now, or following the wall clock when now is nil.
func NewClock(now *time.Time) *Clock {
	c := &Clock{wall: time.Now}
	if now != nil {
		c.frozen, c.at = true, now.UTC()
	}
	return c
}

// Now returns the current mock time in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.frozen {
		return c.at
	}
	return c.wall().UTC().Add(c.offset)
}

// Set moves the clock to t and returns it. A running clock keeps running from t.
func (c *Clock) Set(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t.UTC()
	} else {
		c.offset = t.Sub(c.wall())
	}
	return c.nowLocked()
}

// Advance moves the clock by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
	} else {
		c.offset += d
	}
	return c.nowLocked()
}

// Frozen reports whether the clock stands still between moves.
func (c *Clock) Frozen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frozen
}
