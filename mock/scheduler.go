package mock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// scheduler runs short jobs at given times on one goroutine. Pending
// replies cost a heap entry each rather than a goroutine and a timer, so a
// burst of traffic with delayed replies keeps memory small. Jobs must not
// block: they take a session lock, store, and return.
type scheduler struct {
	mu      sync.Mutex
	jobs    jobHeap
	seq     uint64
	running int // jobs taken off the heap and not yet finished
	wake    chan struct{}
}

type job struct {
	at  time.Time
	seq uint64 // ties run in the order they were scheduled
	fn  func()
}

type jobHeap []job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h jobHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)   { *h = append(*h, x.(job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = job{}
	*h = old[:len(old)-1]
	return j
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

// at schedules fn to run at t (now or in the past: as soon as possible).
func (s *scheduler) at(t time.Time, fn func()) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.jobs, job{at: t, seq: s.seq, fn: fn})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pending returns how many jobs wait or run.
func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs) + s.running
}

// run executes jobs as they come due until ctx ends; jobs still pending
// then are dropped.
func (s *scheduler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var due []func()
		now := time.Now()
		for len(s.jobs) > 0 && !s.jobs[0].at.After(now) {
			due = append(due, heap.Pop(&s.jobs).(job).fn)
		}
		s.running += len(due)
		next := time.Hour
		if len(s.jobs) > 0 {
			next = s.jobs[0].at.Sub(now)
		}
		s.mu.Unlock()
		for _, fn := range due {
			fn()
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
		}
		if len(due) > 0 {
			continue
		}
		// Go 1.23 timers: Reset never delivers a stale tick, so no draining.
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}
