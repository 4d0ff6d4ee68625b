package clock_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
)

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// within reports whether t lies in [lo, hi]: bounds read from the machine's
// clock around the call, not a threshold.
func within(t, lo, hi time.Time) bool { return !t.Before(lo) && !t.After(hi) }

// TestClockKinds: what each kind of clock tells, before and after Set.
func TestClockKinds(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	frozenAt := time.Date(2024, 1, 2, 4, 5, 6, 0, paris)
	moved := time.Date(2030, 6, 1, 0, 0, 0, 0, paris)

	t.Run("wall", func(t *testing.T) {
		c := clock.New(nil)
		if c.Frozen() || c.Virtual() {
			t.Fatalf("Frozen=%v Virtual=%v, want false false", c.Frozen(), c.Virtual())
		}
		before := time.Now().UTC()
		now := c.Now()
		after := time.Now().UTC()
		if !within(now, before, after) || now.Location() != time.UTC {
			t.Fatalf("Now=%v, want a UTC time in [%v, %v]", now, before, after)
		}

		before = time.Now()
		got := c.Set(moved)
		afterSet := time.Now()
		if !within(got, moved, moved.Add(afterSet.Sub(before))) {
			t.Fatalf("Set returned %v, want %v plus at most the time Set took", got, moved)
		}
		// The clock keeps running from the instant it was set to.
		now = c.Now()
		if !within(now, moved, moved.Add(time.Since(before))) || now.Location() != time.UTC {
			t.Fatalf("after Set(%v): Now=%v, want a UTC time from it plus what has elapsed", moved, now)
		}
		// Waits still run on the machine's time, not on the offset.
		before = time.Now()
		wait := c.WaitNow()
		if !within(wait, before, time.Now()) {
			t.Fatalf("WaitNow=%v, want the machine's time (around %v)", wait, before)
		}
	})

	t.Run("frozen", func(t *testing.T) {
		c := clock.New(&frozenAt)
		if !c.Frozen() || c.Virtual() {
			t.Fatalf("Frozen=%v Virtual=%v, want true false", c.Frozen(), c.Virtual())
		}
		if a, b := c.Now(), c.Now(); !a.Equal(frozenAt) || a != b || a.Location() != time.UTC {
			t.Fatalf("Now=%v then %v, want %v in UTC both times", a, b, frozenAt.UTC())
		}
		if got := c.Set(moved); got != moved.UTC() || c.Now() != moved.UTC() {
			t.Fatalf("Set(%v)=%v, Now=%v; want it, in UTC, standing still", moved, got, c.Now())
		}
		// A frozen clock still waits in real time.
		before := time.Now()
		wait := c.WaitNow()
		if !within(wait, before, time.Now()) {
			t.Fatalf("WaitNow=%v, want the machine's time (around %v)", wait, before)
		}
		if !c.Sleep(context.Background(), time.Millisecond) {
			t.Fatal("a real-time Sleep of 1ms reported it was cut short")
		}
		if c.Waiting() != 0 {
			t.Fatalf("Waiting=%d on a frozen clock, want 0: its sleeps run in real time", c.Waiting())
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if c.Sleep(ctx, time.Hour) {
			t.Fatal("Sleep with an ended context reported the full delay passed")
		}
	})

	t.Run("virtual", func(t *testing.T) {
		c := clock.NewVirtual(frozenAt)
		if !c.Frozen() || !c.Virtual() {
			t.Fatalf("Frozen=%v Virtual=%v, want true true", c.Frozen(), c.Virtual())
		}
		if now, wait := c.Now(), c.WaitNow(); now != frozenAt.UTC() || wait != frozenAt.UTC() {
			t.Fatalf("Now=%v WaitNow=%v, want both %v", now, wait, frozenAt.UTC())
		}
		if got := c.Set(moved); got != moved.UTC() || c.WaitNow() != moved.UTC() {
			t.Fatalf("Set(%v)=%v WaitNow=%v, want the waits' time to move with it", moved, got, c.WaitNow())
		}
		if !c.Sleep(context.Background(), 0) || !c.Sleep(context.Background(), -time.Second) {
			t.Fatal("a Sleep of zero or less reported it was cut short")
		}
	})
}

// sleeper runs c.Sleep(ctx, d) on a goroutine and reports its result.
func sleeper(ctx context.Context, c *clock.Clock, d time.Duration) <-chan bool {
	out := make(chan bool, 1)
	go func() { out <- c.Sleep(ctx, d) }()
	return out
}

// waitUntil polls cond until it holds; the deadline only bounds a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func result(t *testing.T, what string, ch <-chan bool) bool {
	t.Helper()
	select {
	case ok := <-ch:
		return ok
	case <-time.After(20 * time.Second):
		t.Fatalf("%s never returned", what)
		return false
	}
}

// stillWaiting fails if the sleep behind ch has returned.
func stillWaiting(t *testing.T, what string, ch <-chan bool) {
	t.Helper()
	select {
	case ok := <-ch:
		t.Fatalf("%s returned (%v) before the clock reached its deadline", what, ok)
	default:
	}
}

// TestVirtualSleepReleasedByMove: sleeps on a virtual clock wait for a move
// past their deadline and are released in time order: a job due between
// two deadlines sees the earlier sleep released and the later still held.
func TestVirtualSleepReleasedByMove(t *testing.T) {
	c := clock.NewVirtual(start)
	s := clock.NewScheduler(slog.New(slog.DiscardHandler), 0, c)
	s.Start(context.Background())
	defer s.Close()

	ctx := context.Background()
	s1, s2, s3 := sleeper(ctx, c, 1*time.Second), sleeper(ctx, c, 2*time.Second), sleeper(ctx, c, 3*time.Second)
	waitUntil(t, "three sleeps waiting", func() bool { return c.Waiting() == 3 })

	var mu sync.Mutex
	seen := map[string]int{} // job → sleeps still waiting when it ran
	for _, j := range []struct {
		name string
		at   time.Duration
	}{{"at 1.5s", 1500 * time.Millisecond}, {"at 2.5s", 2500 * time.Millisecond}, {"at 0.5s", 500 * time.Millisecond}} {
		s.At(start.Add(j.at), func() {
			mu.Lock()
			seen[j.name] = c.Waiting()
			mu.Unlock()
		})
	}

	s.Move(start.Add(999 * time.Millisecond))
	if c.Waiting() != 3 {
		t.Fatalf("at 0.999s: Waiting=%d, want 3 (no deadline reached)", c.Waiting())
	}
	stillWaiting(t, "the 1s sleep", s1)
	s.Move(start.Add(2 * time.Second))
	if !result(t, "the 1s sleep", s1) || !result(t, "the 2s sleep", s2) {
		t.Fatal("a sleep released by the move reported it was cut short")
	}
	if c.Waiting() != 1 {
		t.Fatalf("at 2s: Waiting=%d, want 1 (the 3s sleep)", c.Waiting())
	}
	s.Move(start.Add(3 * time.Second))
	if !result(t, "the 3s sleep", s3) || c.Waiting() != 0 {
		t.Fatalf("at 3s: Waiting=%d, want 0", c.Waiting())
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"at 0.5s": 3, "at 1.5s": 2, "at 2.5s": 1}
	for name, n := range want {
		if seen[name] != n {
			t.Errorf("job %s saw %d sleeps waiting, want %d (sleeps released in time order)", name, seen[name], n)
		}
	}
}

// TestVirtualSleepEndsWithItsContext: a sleep whose context ends returns
// false and no longer counts as waiting; the others stay.
func TestVirtualSleepEndsWithItsContext(t *testing.T) {
	c := clock.NewVirtual(start)
	ctx, cancel := context.WithCancel(context.Background())
	cut := sleeper(ctx, c, time.Minute)
	kept := sleeper(context.Background(), c, time.Minute)
	waitUntil(t, "two sleeps waiting", func() bool { return c.Waiting() == 2 })
	cancel()
	if result(t, "the cancelled sleep", cut) {
		t.Fatal("a sleep whose context ended reported the full delay passed")
	}
	if c.Waiting() != 1 {
		t.Fatalf("Waiting=%d after one sleep's context ended, want 1", c.Waiting())
	}
	c.Set(start.Add(time.Minute))
	if !result(t, "the kept sleep", kept) || c.Waiting() != 0 {
		t.Fatalf("Waiting=%d after the clock reached the deadline, want 0", c.Waiting())
	}
}

// TestClockAt: At maps a reading of the wall clock to the clock's time —
// the wall clock shifted by Set's offset, or the frozen or virtual
// instant whatever the reading.
func TestClockAt(t *testing.T) {
	wall := clock.New(nil)
	wall.Set(time.Now().Add(-48 * time.Hour))
	reading := time.Now()
	if got, want := wall.At(reading), reading.UTC().Add(-48*time.Hour); got.Sub(want).Abs() > time.Second || got.Location() != time.UTC {
		t.Errorf("wall clock, 48 h back: At(%v) = %v, want about %v in UTC", reading, got, want)
	}
	if now := wall.Now(); now.Before(wall.At(reading)) {
		t.Errorf("Now %v before At of an earlier reading %v", now, wall.At(reading))
	}
	for _, c := range []*clock.Clock{clock.New(&start), clock.NewVirtual(start)} {
		if got := c.At(time.Now()); !got.Equal(start) {
			t.Errorf("At %v, want the standing instant %v", got, start)
		}
		c.Set(start.Add(time.Minute))
		if got := c.At(time.Now()); !got.Equal(start.Add(time.Minute)) {
			t.Errorf("after a move: At %v, want %v", got, start.Add(time.Minute))
		}
	}
}
