package clock

import (
	"bytes"
	"context"
	"log/slog"
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
