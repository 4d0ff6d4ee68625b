package clock

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// MaxJobs is what a Scheduler holds at most by default: jobs (a streamed
// reply is one per chunk, plus one). The caller also bounds the bytes of
// the replies they will store (state.PendingLimit of the budget). Past either, a new reply is refused (the
// API answers auto_reply_enqueued: false) and counted, so a flood of
// delayed replies cannot grow memory without end.
const MaxJobs = 100_000

// Scheduler runs short jobs at given times on one goroutine. Pending
// replies cost a heap entry each rather than a goroutine and a timer, so a
// burst of traffic with delayed replies keeps memory small. Jobs must not
// block: they take a session lock, store, and return. A job that panics is
// logged and the others run on.
type Scheduler struct {
	log     *slog.Logger
	maxJobs int
	clock   *Clock

	cancel context.CancelFunc
	done   chan struct{}

	// runMu is held while jobs run, so that a virtual clock's move and the
	// scheduler's own loop never run jobs out of time order.
	runMu sync.Mutex

	mu      sync.Mutex
	jobs    jobHeap
	due     []Job // runDue's, reused (under runMu)
	seq     uint64
	running int   // jobs taken off the heap and not yet finished
	bytes   int64 // of the replies pending jobs will store
	refused int64 // replies refused because the scheduler was full
	panics  int64
	closed  bool // jobs scheduled from now on are dropped
	wake    chan struct{}
	// sleepUntil is when the loop's timer fires (runDue sets it): a job
	// due before then wakes the loop, any other needs no signal — under
	// load, where every reply is due after the ones already waiting, a
	// send costs no goroutine wake-up. Zero while the loop is about to
	// look at the heap again anyway.
	sleepUntil time.Time
	// epoch is the clock's time when the scheduler was made. A job's heap
	// key is its time's distance from it (Job.key): one integer to compare
	// where time.Time's Equal and Before were two, on the monotonic clock
	// as they compare wall-clock times. Distances saturate past ±292 years,
	// where jobs then run in the order they were scheduled.
	epoch time.Time
}

// wakeSlack is how late the loop may run a job on the wall clock: it
// sleeps until the next job is due plus this, and runs everything due by
// then. A busy server (a reply due every few microseconds) so wakes at
// most about a thousand times a second instead of once per reply; a reply
// is stamped when it is delivered, up to this late. A virtual clock runs
// every job at its own time (advanceTo).
const wakeSlack = time.Millisecond

// Job is one piece of delayed work: Fn runs at At. It must not block.
type Job struct {
	At   time.Time
	Fn   func()
	seq  uint64 // ties run in the order they were scheduled
	size int64  // bytes released when the job has run
	key  int64  // At as nanoseconds from the scheduler's epoch: what the heap compares
}

// jobHeap is a min-heap of jobs by due time, then by seq. It is typed
// (container/heap would box each job in an interface: an allocation per
// push and per pop) and 4-ary, as the runtime's timer heap: half the
// depth of a binary heap over the tens of thousands of replies that wait
// under load, and a job is moved into its place once rather than swapped
// level by level.
type jobHeap []Job

func jobBefore(a, b *Job) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.seq < b.seq
}

func (h *jobHeap) push(j Job) {
	*h = append(*h, j)
	s := *h
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !jobBefore(&j, &s[parent]) {
			break
		}
		s[i] = s[parent]
		i = parent
	}
	s[i] = j
}

func (h *jobHeap) pop() Job {
	s := *h
	top := s[0]
	last := len(s) - 1
	j := s[last]
	s[last] = Job{}
	s = s[:last]
	if last > 0 {
		i := 0
		for {
			first := 4*i + 1
			if first >= len(s) {
				break
			}
			small := first
			for c := first + 1; c < first+4 && c < len(s); c++ {
				if jobBefore(&s[c], &s[small]) {
					small = c
				}
			}
			if !jobBefore(&s[small], &j) {
				break
			}
			s[i] = s[small]
			i = small
		}
		s[i] = j
	}
	*h = s
	return top
}

// NewScheduler returns a Scheduler on clock holding at most maxJobs jobs
// (MaxJobs when 0). It runs nothing until Start.
func NewScheduler(log *slog.Logger, maxJobs int, clock *Clock) *Scheduler {
	if maxJobs <= 0 {
		maxJobs = MaxJobs
	}
	return &Scheduler{log: log, maxJobs: maxJobs, clock: clock, wake: make(chan struct{}, 1), epoch: clock.WaitNow()}
}

// Start runs jobs as they fall due, on a goroutine of its own, until ctx
// ends or Close is called; jobs still pending then are dropped.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.run(ctx)
	}()
}

// Close stops the Scheduler, waits for the job running, if any, and drops
// the jobs still pending and any scheduled later: they never run, not even
// when a virtual clock is moved past them.
func (s *Scheduler) Close() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.runMu.Lock() // a Move in progress finishes first
	defer s.runMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, j := range s.jobs {
		s.bytes -= j.size
	}
	clear(s.jobs)
	s.jobs = s.jobs[:0]
}

// Clock is the clock the Scheduler runs on.
func (s *Scheduler) Clock() *Clock { return s.clock }

// After is the time d from now on the clock waits run on.
func (s *Scheduler) After(d time.Duration) time.Time { return s.clock.WaitNow().Add(d) }

// At schedules fn to run at t (now or in the past: as soon as possible).
// Webhook retries use it; they are bounded by the webhooks' own queue.
func (s *Scheduler) At(t time.Time, fn func()) {
	s.mu.Lock()
	s.push(Job{At: t, Fn: fn})
	wake := s.wakesLocked(t)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
}

// Add schedules jobs, all or none, holding size bytes until the last of
// them has run; it reports false, and counts a refusal, when they would
// take the scheduler past its bounds. No jobs is nothing to schedule.
func (s *Scheduler) Add(jobs []Job, size, maxBytes int64) bool {
	if len(jobs) == 0 {
		return true
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if len(s.jobs)+s.running+len(jobs) > s.maxJobs || s.bytes+size > maxBytes {
		s.refuseLocked(1, maxBytes)
		return false
	}
	s.bytes += size
	jobs[len(jobs)-1].size = size
	first := jobs[0].At
	for _, j := range jobs {
		s.push(j)
		if j.At.Before(first) {
			first = j.At
		}
	}
	wake := s.wakesLocked(first)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
	return true
}

// wakesLocked reports whether a job due at t must wake the loop, which
// then looks at the heap again (so later jobs need not).
func (s *Scheduler) wakesLocked(t time.Time) bool {
	if !t.Before(s.sleepUntil) {
		return false
	}
	s.sleepUntil = time.Time{}
	return true
}

// RefuseIfFull refuses n replies, as add would, when the scheduler has no
// room left at all (its job count or its bytes at the bound), before
// anyone renders them; it reports whether it did.
func (s *Scheduler) RefuseIfFull(n int, maxBytes int64) bool {
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
func (s *Scheduler) refuseLocked(n int, maxBytes int64) {
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

func (s *Scheduler) push(j Job) {
	if s.closed {
		return
	}
	s.seq++
	j.seq = s.seq
	j.key = int64(j.At.Sub(s.epoch))
	s.jobs.push(j)
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stats is what /__mock/status shows of the scheduler.
type Stats struct {
	Pending int   `json:"pending"`
	Bytes   int64 `json:"bytes"`
	Refused int64 `json:"refused"`
	Panics  int64 `json:"panics"`
}

// Stats returns the Scheduler's counts.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Pending: len(s.jobs) + s.running, Bytes: s.bytes, Refused: s.refused, Panics: s.panics}
}

// run executes jobs as they come due until ctx ends; jobs still pending
// then are dropped. On a virtual clock it runs only what is due already;
// moving the clock (advanceTo) runs the rest.
func (s *Scheduler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ran, next := s.runDue(s.clock.WaitNow())
		if ran {
			continue
		}
		if s.clock.Virtual() {
			next = time.Hour // nothing falls due until the clock is moved
		} else {
			next += wakeSlack
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
func (s *Scheduler) runDue(now time.Time) (ran bool, next time.Duration) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	due := s.due[:0] // reused: runMu is held
	for len(s.jobs) > 0 && !s.jobs[0].At.After(now) {
		due = append(due, s.jobs.pop())
	}
	s.running += len(due)
	next = time.Hour
	if len(s.jobs) > 0 {
		next = s.jobs[0].At.Sub(now)
	}
	switch {
	case len(due) > 0:
		s.sleepUntil = time.Time{} // the loop comes back at once
	case s.clock.Virtual():
		s.sleepUntil = maxTime // every job added wakes it: it may be due now
	default:
		s.sleepUntil = now.Add(next + wakeSlack)
	}
	s.mu.Unlock()
	// The counts are settled once for the batch, not once per job: the
	// handlers adding jobs take the same lock.
	var size, panics int64
	for _, j := range due {
		if !s.try(j) {
			panics++
		}
		size += j.size
	}
	s.mu.Lock()
	s.running -= len(due)
	s.bytes -= size
	s.panics += panics
	s.mu.Unlock()
	clear(due) // let the jobs' closures go
	s.due = due
	return len(due) > 0, next
}

// advanceTo moves a virtual clock to target, stopping at each job's due
// time to run it, so that everything due is delivered, in time order and
// stamped with its own time, before it returns.
func (s *Scheduler) advanceTo(target time.Time) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	for {
		s.mu.Lock()
		if len(s.jobs) == 0 || s.jobs[0].At.After(target) {
			s.mu.Unlock()
			break
		}
		j := s.jobs.pop()
		s.running++
		s.mu.Unlock()
		if j.At.After(s.clock.Now()) {
			s.clock.Set(j.At)
		}
		s.runJob(j)
	}
	s.clock.Set(target)
}

// try runs j and reports whether it returned; a panic is logged.
func (s *Scheduler) try(j Job) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in a scheduled job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	j.Fn()
	return true
}

// runJob runs j and settles its counts.
func (s *Scheduler) runJob(j Job) {
	ok := s.try(j)
	s.mu.Lock()
	s.running--
	s.bytes -= j.size
	if !ok {
		s.panics++
	}
	s.mu.Unlock()
}

// Move sets the clock to t. A virtual clock moving forward first delivers
// everything that falls due on the way — replies, stream chunks, webhook
// retries, responses waiting out their latency — in time order, before it
// returns.
func (s *Scheduler) Move(t time.Time) {
	if s.clock.Virtual() && t.After(s.clock.Now()) {
		s.advanceTo(t)
		return
	}
	s.clock.Set(t)
}

// maxTime is later than any job.
var maxTime = time.Unix(1<<62, 0)
