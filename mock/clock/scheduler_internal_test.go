package clock

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSchedulerSurvivesAPanickingJob: a job that panics is logged and
// counted, and the jobs after it still run.
func TestSchedulerSurvivesAPanickingJob(t *testing.T) {
	var logs lockedBuffer
	s := NewScheduler(slog.New(slog.NewTextHandler(&logs, nil)), 0, New(nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	defer s.Close()
	done := make(chan struct{})
	now := time.Now()
	if !s.Add([]Job{{At: now, Fn: func() { panic("job boom") }}}, 10, 1<<20) {
		t.Fatal("refused")
	}
	if !s.Add([]Job{{At: now, Fn: func() { close(done) }}}, 10, 1<<20) {
		t.Fatal("refused")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job after a panicking one never ran")
	}
	for s.Stats().Pending > 0 {
		time.Sleep(time.Millisecond)
	}
	if st := s.Stats(); st.Panics != 1 || st.Bytes != 0 {
		t.Errorf("panics %d, bytes still held %d; want 1 and 0", st.Panics, st.Bytes)
	}
	if !strings.Contains(logs.String(), "job boom") {
		t.Errorf("no log line for the panic: %s", logs.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJobHeapOrder: over seeded random interleavings of pushes and pops,
// with many jobs due at the same instant, the heap gives the earliest job
// first and, among jobs due together, the one scheduled first — what a
// sorted list would give.
func TestJobHeapOrder(t *testing.T) {
	base := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
	for round := range 200 {
		rng := rand.New(rand.NewPCG(uint64(round), 3))
		var h jobHeap
		var model []Job
		seq := uint64(0)
		order := func(a, b Job) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		}
		for op := range 2000 {
			if rng.IntN(3) > 0 || len(model) == 0 {
				seq++
				j := Job{At: base.Add(time.Duration(rng.IntN(50)) * time.Millisecond), seq: seq}
				j.key = int64(j.At.Sub(base))
				h.push(j)
				at, _ := slices.BinarySearchFunc(model, j, order)
				model = slices.Insert(model, at, j)
				continue
			}
			got, want := h.pop(), model[0]
			model = model[1:]
			if got.seq != want.seq || !got.At.Equal(want.At) {
				t.Fatalf("round %d op %d: popped job %d at %v, want job %d at %v", round, op, got.seq, got.At, want.seq, want.At)
			}
			if len(h) != len(model) {
				t.Fatalf("round %d op %d: heap holds %d, want %d", round, op, len(h), len(model))
			}
		}
	}
}
