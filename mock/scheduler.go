package mock

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// What the scheduler holds at most, by default: jobs (a streamed reply is
// one per chunk, plus one), and bytes of the replies they will store
// (pendingLimit of the budget). Past either, a new reply is refused (the
// API answers auto_reply_enqueued: false) and counted, so a flood of
// delayed replies cannot grow memory without end.
const maxScheduledJobs = 100_000

// pendingLimit is how many bytes replies waiting in the scheduler may hold,
// and as many again webhook deliveries not yet finished: an eighth of the
// message budget, from 1 MiB to 8 MiB. With the budget they bound the
// process's memory (README: Memory).
func pendingLimit(budget int64) int64 { return min(max(budget/8, 1<<20), 8<<20) }

// scheduler runs short jobs at given times on one goroutine. Pending
// replies cost a heap entry each rather than a goroutine and a timer, so a
// burst of traffic with delayed replies keeps memory small. Jobs must not
// block: they take a session lock, store, and return. A job that panics is
// logged and the others run on.
type scheduler struct {
	log     *slog.Logger
	maxJobs int
	clock   *Clock

	// runMu is held while jobs run, so that a virtual clock's move and the
	// scheduler's own loop never run jobs out of time order.
	runMu sync.Mutex

	mu      sync.Mutex
	jobs    jobHeap
	due     []job // runDue's, reused (under runMu)
	seq     uint64
	running int   // jobs taken off the heap and not yet finished
	bytes   int64 // of the replies pending jobs will store
	refused int64 // replies refused because the scheduler was full
	panics  int64
	wake    chan struct{}
}

type job struct {
	at   time.Time
	seq  uint64 // ties run in the order they were scheduled
	fn   func()
	size int64 // bytes released when the job has run
}

// jobHeap is a min-heap of jobs by due time, then by seq. It is typed
// (container/heap would box each job in an interface: an allocation per
// push and per pop).
type jobHeap []job

func (h jobHeap) less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}

func (h *jobHeap) push(j job) {
	*h = append(*h, j)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *jobHeap) pop() job {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = job{}
	s = s[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s.less(l, small) {
			small = l
		}
		if r < len(s) && s.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}

func newScheduler(log *slog.Logger, maxJobs int, clock *Clock) *scheduler {
	if maxJobs <= 0 {
		maxJobs = maxScheduledJobs
	}
	return &scheduler{log: log, maxJobs: maxJobs, clock: clock, wake: make(chan struct{}, 1)}
}

// after is the time d from now on the clock waits run on.
func (s *scheduler) after(d time.Duration) time.Time { return s.clock.waitNow().Add(d) }

// at schedules fn to run at t (now or in the past: as soon as possible).
// Webhook retries use it; they are bounded by the webhooks' own queue.
func (s *scheduler) at(t time.Time, fn func()) {
	s.mu.Lock()
	s.push(job{at: t, fn: fn})
	s.mu.Unlock()
	s.signal()
}

// add schedules jobs, all or none, holding size bytes until the last of
// them has run; it reports false, and counts a refusal, when they would
// take the scheduler past its bounds.
func (s *scheduler) add(jobs []job, size, maxBytes int64) bool {
	s.mu.Lock()
	if len(s.jobs)+s.running+len(jobs) > s.maxJobs || s.bytes+size > maxBytes {
		s.refuseLocked(1, maxBytes)
		return false
	}
	s.bytes += size
	jobs[len(jobs)-1].size = size
	for _, j := range jobs {
		s.push(j)
	}
	s.mu.Unlock()
	s.signal()
	return true
}

// refuseIfFull refuses n replies, as add would, when the scheduler has no
// room left at all (its job count or its bytes at the bound), before
// anyone renders them; it reports whether it did.
func (s *scheduler) refuseIfFull(n int, maxBytes int64) bool {
	s.mu.Lock()
	if len(s.jobs)+s.running+n <= s.maxJobs && s.bytes < maxBytes {
		s.mu.Unlock()
		return false
	}
	s.refuseLocked(n, maxBytes)
	return true
}

// refuseLocked counts n refused replies and unlocks s.mu; a flood logs a
// few lines (the 1st, 2nd, 4th, 8th… refusal), not one per reply.
func (s *scheduler) refuseLocked(n int, maxBytes int64) {
	before := s.refused
	s.refused += int64(n)
	after := s.refused
	s.mu.Unlock()
	for k := before + 1; k <= after; k++ {
		if k&(k-1) == 0 {
			s.log.Warn("reply refused: the scheduler is full", "jobs_max", s.maxJobs, "bytes_max", maxBytes, "refused", k)
			break
		}
	}
}

func (s *scheduler) push(j job) {
	s.seq++
	j.seq = s.seq
	s.jobs.push(j)
}

func (s *scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// schedulerStats is what /__mock/status shows of the scheduler.
type schedulerStats struct {
	Pending int   `json:"pending"`
	Bytes   int64 `json:"bytes"`
	Refused int64 `json:"refused"`
	Panics  int64 `json:"panics"`
}

func (s *scheduler) stats() schedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return schedulerStats{Pending: len(s.jobs) + s.running, Bytes: s.bytes, Refused: s.refused, Panics: s.panics}
}

// run executes jobs as they come due until ctx ends; jobs still pending
// then are dropped. On a virtual clock it runs only what is due already;
// moving the clock (advanceTo) runs the rest.
func (s *scheduler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ran, next := s.runDue(s.clock.waitNow())
		if ran {
			continue
		}
		if s.clock.Virtual() {
			next = time.Hour // nothing falls due until the clock is moved
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

// runDue runs, in time order, every job due at now; it reports whether any
// ran and how long until the next is due.
func (s *scheduler) runDue(now time.Time) (ran bool, next time.Duration) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	due := s.due[:0] // reused: runMu is held
	for len(s.jobs) > 0 && !s.jobs[0].at.After(now) {
		due = append(due, s.jobs.pop())
	}
	s.running += len(due)
	next = time.Hour
	if len(s.jobs) > 0 {
		next = s.jobs[0].at.Sub(now)
	}
	s.mu.Unlock()
	for _, j := range due {
		s.runJob(j)
	}
	clear(due) // let the jobs' closures go
	s.due = due
	return len(due) > 0, next
}

// advanceTo moves a virtual clock to target, stopping at each job's due
// time to run it, so that everything due is delivered, in time order and
// stamped with its own time, before it returns.
func (s *scheduler) advanceTo(target time.Time) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	for {
		s.mu.Lock()
		if len(s.jobs) == 0 || s.jobs[0].at.After(target) {
			s.mu.Unlock()
			break
		}
		j := s.jobs.pop()
		s.running++
		s.mu.Unlock()
		if j.at.After(s.clock.Now()) {
			s.clock.Set(j.at)
		}
		s.runJob(j)
	}
	s.clock.Set(target)
}

func (s *scheduler) runJob(j job) {
	defer func() {
		p := recover()
		s.mu.Lock()
		s.running--
		s.bytes -= j.size
		if p != nil {
			s.panics++
		}
		s.mu.Unlock()
		if p != nil {
			s.log.Error("panic in a scheduled job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	j.fn()
}
