package mock

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSchedulerSurvivesAPanickingJob: a job that panics is logged and
// counted, and the jobs after it still run.
func TestSchedulerSurvivesAPanickingJob(t *testing.T) {
	var logs lockedBuffer
	s := newScheduler(slog.New(slog.NewTextHandler(&logs, nil)), 0, NewClock(nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.run(ctx)
	done := make(chan struct{})
	now := time.Now()
	if !s.add([]job{{at: now, fn: func() { panic("job boom") }}}, 10, 1<<20) {
		t.Fatal("refused")
	}
	if !s.add([]job{{at: now, fn: func() { close(done) }}}, 10, 1<<20) {
		t.Fatal("refused")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job after a panicking one never ran")
	}
	for s.stats().Pending > 0 {
		time.Sleep(time.Millisecond)
	}
	if st := s.stats(); st.Panics != 1 || st.Bytes != 0 {
		t.Errorf("panics %d, bytes still held %d; want 1 and 0", st.Panics, st.Bytes)
	}
	if !strings.Contains(logs.String(), "job boom") {
		t.Errorf("no log line for the panic: %s", logs.String())
	}
}
