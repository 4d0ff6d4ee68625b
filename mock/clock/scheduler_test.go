package clock_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
)

// ranLog records which jobs ran and the clock's time as each ran.
type ranLog struct {
	mu  sync.Mutex
	ran []string
}

func (l *ranLog) job(c *clock.Clock, name string) func() {
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.ran = append(l.ran, fmt.Sprintf("%s@%s", name, c.Now().Sub(start)))
	}
}

func (l *ranLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ran)
}

func newVirtualScheduler(maxJobs int) (*clock.Clock, *clock.Scheduler) {
	c := clock.NewVirtual(start)
	return c, clock.NewScheduler(slog.New(slog.DiscardHandler), maxJobs, c)
}

// TestSchedulerAddBounds: Add takes a batch of jobs whole or not at all,
// against the job bound and the byte bound, and RefuseIfFull refuses when
// no room is left at all; every refusal is counted and refused jobs never
// run.
func TestSchedulerAddBounds(t *testing.T) {
	const maxJobs, maxBytes = 4, 100
	c, s := newVirtualScheduler(maxJobs)
	var log ranLog
	batch := func(name string, n int) []clock.Job {
		jobs := make([]clock.Job, n)
		for i := range jobs {
			jobs[i] = clock.Job{At: start.Add(time.Duration(i+1) * time.Second), Fn: log.job(c, fmt.Sprintf("%s%d", name, i))}
		}
		return jobs
	}
	steps := []struct {
		what    string
		do      func() bool
		want    bool
		pending int
		bytes   int64
		refused int64
	}{
		{"add 2 jobs holding 40 bytes", func() bool { return s.Add(batch("a", 2), 40, maxBytes) }, true, 2, 40, 0},
		{"add 3 jobs: 5 > 4 jobs", func() bool { return s.Add(batch("b", 3), 10, maxBytes) }, false, 2, 40, 1},
		{"add 1 job of 61 bytes: 101 > 100", func() bool { return s.Add(batch("c", 1), 61, maxBytes) }, false, 2, 40, 2},
		{"add 1 job of 60 bytes: exactly 100", func() bool { return s.Add(batch("d", 1), 60, maxBytes) }, true, 3, 100, 2},
		{"RefuseIfFull(1) with the bytes at the bound", func() bool { return s.RefuseIfFull(1, maxBytes) }, true, 3, 100, 3},
		{"add 1 job of 0 bytes: exactly 4 jobs", func() bool { return s.Add(batch("e", 1), 0, maxBytes) }, true, 4, 100, 3},
		{"RefuseIfFull(3) with the jobs at the bound", func() bool { return s.RefuseIfFull(3, 1000) }, true, 4, 100, 6},
		{"nothing: add no jobs", func() bool { return s.Add(nil, 0, maxBytes) }, true, 4, 100, 6},
		{"the clock moves past every job", func() bool { s.Move(start.Add(time.Minute)); return true }, true, 0, 0, 6},
		{"RefuseIfFull(4) with room again", func() bool { return s.RefuseIfFull(4, maxBytes) }, false, 0, 0, 6},
		{"RefuseIfFull(5): more than the jobs bound", func() bool { return s.RefuseIfFull(5, maxBytes) }, true, 0, 0, 11},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: got %v, want %v", st.what, got, st.want)
		}
		if got := s.Stats(); got.Pending != st.pending || got.Bytes != st.bytes || got.Refused != st.refused {
			t.Fatalf("%s: Stats=%+v, want pending %d, bytes %d, refused %d", st.what, got, st.pending, st.bytes, st.refused)
		}
	}
	want := []string{"a0@1s", "d0@1s", "e0@1s", "a1@2s"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v (refused batches never run)", got, want)
	}
}

// TestSchedulerHoldsBytesUntilTheLastJob: a batch's bytes are held until
// its last job has run.
func TestSchedulerHoldsBytesUntilTheLastJob(t *testing.T) {
	c, s := newVirtualScheduler(0)
	var log ranLog
	jobs := []clock.Job{
		{At: start.Add(1 * time.Second), Fn: log.job(c, "chunk1")},
		{At: start.Add(2 * time.Second), Fn: log.job(c, "chunk2")},
		{At: start.Add(3 * time.Second), Fn: log.job(c, "message")},
	}
	if !s.Add(jobs, 30, 1000) {
		t.Fatal("refused")
	}
	for _, step := range []struct {
		to      time.Duration
		pending int
		bytes   int64
	}{{0, 3, 30}, {2 * time.Second, 1, 30}, {3 * time.Second, 0, 0}} {
		s.Move(start.Add(step.to))
		if got := s.Stats(); got.Pending != step.pending || got.Bytes != step.bytes {
			t.Fatalf("at %v: Stats=%+v, want pending %d, bytes %d", step.to, got, step.pending, step.bytes)
		}
	}
}

// TestSchedulerMoveRunsDueJobsInTimeOrder: moving a virtual clock runs
// every job due on the way — those scheduled by jobs too — in time order
// (ties in the order scheduled), each stamped with its own time, before
// Move returns; moving back runs nothing.
func TestSchedulerMoveRunsDueJobsInTimeOrder(t *testing.T) {
	c, s := newVirtualScheduler(0)
	var log ranLog
	s.At(start.Add(3*time.Second), log.job(c, "c"))
	s.At(start.Add(1*time.Second), log.job(c, "a"))
	s.At(start.Add(2*time.Second), log.job(c, "b1"))
	s.At(start.Add(2*time.Second), log.job(c, "b2"))
	s.At(start.Add(1*time.Second), func() {
		log.job(c, "a-chain")()
		// A retry scheduled by a job, due before the move ends, runs in it.
		s.At(start.Add(1500*time.Millisecond), log.job(c, "retry"))
		s.At(start.Add(time.Minute), log.job(c, "later"))
	})

	s.Move(start.Add(5 * time.Second))
	want := []string{"a@1s", "a-chain@1s", "retry@1.5s", "b1@2s", "b2@2s", "c@3s"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if now := c.Now(); !now.Equal(start.Add(5 * time.Second)) {
		t.Fatalf("after Move: Now=%v, want %v", now, start.Add(5*time.Second))
	}
	if p := s.Stats().Pending; p != 1 {
		t.Fatalf("Pending=%d, want 1 (the job due in a minute)", p)
	}

	s.Move(start) // backwards: the clock is set, nothing runs
	if now := c.Now(); !now.Equal(start) || len(log.get()) != len(want) {
		t.Fatalf("after moving back: Now=%v, ran %v", now, log.get())
	}
	s.Move(start.Add(time.Hour))
	want = append(want, "later@1m0s")
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestSchedulerRunsWhatIsDueWithoutAMove: a started scheduler runs a job
// due now (or in the past) on its own, on a virtual clock too.
func TestSchedulerRunsWhatIsDueWithoutAMove(t *testing.T) {
	onEachClock(t, func(t *testing.T, c *clock.Clock, s *clock.Scheduler) {
		ran := make(chan struct{})
		s.At(s.After(-time.Second), func() { close(ran) })
		select {
		case <-ran:
		case <-time.After(20 * time.Second):
			t.Fatal("a job due in the past never ran")
		}
	})
}

// TestSchedulerWakesForAnEarlierJob: the loop sleeps until the first job
// it knows of is due, and a send wakes it only for a job due before that
// (Add's sleepUntil) — so a job due sooner than everything pending must
// still run, as must jobs added while it sleeps for that one.
func TestSchedulerWakesForAnEarlierJob(t *testing.T) {
	onEachClock(t, func(t *testing.T, c *clock.Clock, s *clock.Scheduler) {
		s.At(s.After(time.Hour), func() {})
		// Once a job due now has run, the loop goes to sleep until
		// the hour's job; the jobs below come while it sleeps (the
		// pause only makes that likelier: were they added before, the
		// test would pass without the wake-up it is about).
		started := make(chan struct{})
		s.At(s.After(0), func() { close(started) })
		if !c.Virtual() {
			<-started
			time.Sleep(10 * time.Millisecond)
		}
		ran := make(chan int, 3)
		if !s.Add([]clock.Job{{At: s.After(2 * time.Millisecond), Fn: func() { ran <- 1 }}}, 0, 1) {
			t.Fatal("refused")
		}
		s.At(s.After(time.Millisecond), func() { ran <- 2 })
		s.At(s.After(-time.Second), func() { ran <- 3 })
		got := map[int]bool{}
		for len(got) < 3 {
			if c.Virtual() && len(got) == 1 {
				s.Move(c.Now().Add(time.Second))
			}
			select {
			case n := <-ran:
				got[n] = true
			case <-time.After(20 * time.Second):
				t.Fatalf("ran %v of 1, 2, 3: a job due before the one the loop slept for never ran", got)
			}
		}
	})
}

// TestSchedulerCloseDropsPendingJobs: jobs pending when the scheduler is
// closed, or scheduled after, never run, not even when a virtual clock is
// moved past them afterwards, and their bytes are released.
func TestSchedulerCloseDropsPendingJobs(t *testing.T) {
	c, s := newVirtualScheduler(0)
	s.Start(context.Background())
	var log ranLog
	if !s.Add([]clock.Job{{At: start.Add(time.Second), Fn: log.job(c, "reply")}}, 10, 100) {
		t.Fatal("refused")
	}
	s.At(start.Add(2*time.Second), log.job(c, "retry"))
	s.Close()
	if st := s.Stats(); st.Pending != 0 || st.Bytes != 0 {
		t.Fatalf("after Close: Stats=%+v, want nothing pending or held", st)
	}
	if s.Add([]clock.Job{{At: start.Add(3 * time.Second), Fn: log.job(c, "late reply")}}, 10, 100) {
		t.Fatal("Add after Close reported the jobs scheduled")
	}
	s.At(start.Add(3*time.Second), log.job(c, "late retry"))
	s.Move(start.Add(time.Minute))
	if got := log.get(); len(got) != 0 {
		t.Fatalf("jobs ran after Close: %v", got)
	}
	if now := c.Now(); !now.Equal(start.Add(time.Minute)) {
		t.Fatalf("Now=%v after Move, want %v: a closed scheduler's clock still moves", now, start.Add(time.Minute))
	}
}

// TestSchedulerConcurrentAddsAndMoves: batches added from many goroutines
// while the clock moves are each taken whole or refused whole; every job
// taken runs exactly once; at the end nothing is pending or held.
func TestSchedulerConcurrentAddsAndMoves(t *testing.T) {
	const (
		writers   = 8
		perWriter = 200
		batchSize = 3
		maxJobs   = 60
		maxBytes  = 1 << 20
	)
	c, s := newVirtualScheduler(maxJobs)
	s.Start(context.Background())
	defer s.Close()

	var mu sync.Mutex
	runs := map[string]int{}
	var accepted []string
	var refused int
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				batch := fmt.Sprintf("w%d-%d", w, i)
				at := s.After(time.Duration(i%5) * time.Millisecond)
				jobs := make([]clock.Job, batchSize)
				for k := range jobs {
					name := fmt.Sprintf("%s/%d", batch, k)
					jobs[k] = clock.Job{At: at.Add(time.Duration(k) * time.Millisecond), Fn: func() {
						mu.Lock()
						runs[name]++
						mu.Unlock()
					}}
				}
				ok := s.Add(jobs, 7, maxBytes)
				mu.Lock()
				if ok {
					accepted = append(accepted, batch)
				} else {
					refused++
				}
				mu.Unlock()
			}
		})
	}
	moved := make(chan struct{})
	go func() {
		defer close(moved)
		for i := 1; i <= 400; i++ {
			s.Move(start.Add(time.Duration(i) * time.Millisecond))
			if st := s.Stats(); st.Pending > maxJobs {
				t.Errorf("Pending=%d, past the bound %d", st.Pending, maxJobs)
			}
		}
	}()
	wg.Wait()
	<-moved
	s.Move(c.Now().Add(time.Hour))

	st := s.Stats()
	if st.Pending != 0 || st.Bytes != 0 {
		t.Fatalf("at the end: Stats=%+v, want nothing pending or held", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(accepted)+refused != writers*perWriter || st.Refused != int64(refused) {
		t.Fatalf("accepted %d + refused %d != %d, or Stats.Refused=%d", len(accepted), refused, writers*perWriter, st.Refused)
	}
	for _, b := range accepted {
		for k := range batchSize {
			if n := runs[fmt.Sprintf("%s/%d", b, k)]; n != 1 {
				t.Fatalf("job %s/%d ran %d times, want once", b, k, n)
			}
		}
	}
	if len(runs) != len(accepted)*batchSize {
		t.Fatalf("%d jobs ran, want %d: a refused batch ran in part", len(runs), len(accepted)*batchSize)
	}
}

// onEachClock runs f with a started scheduler on a wall, a frozen and a
// virtual clock, each a subtest.
func onEachClock(t *testing.T, f func(t *testing.T, c *clock.Clock, s *clock.Scheduler)) {
	for _, tc := range []struct {
		name string
		c    *clock.Clock
	}{{"wall", clock.New(nil)}, {"frozen", clock.New(&start)}, {"virtual", clock.NewVirtual(start)}} {
		t.Run(tc.name, func(t *testing.T) {
			s := clock.NewScheduler(slog.New(slog.DiscardHandler), 0, tc.c)
			s.Start(context.Background())
			defer s.Close()
			f(t, tc.c, s)
		})
	}
}
