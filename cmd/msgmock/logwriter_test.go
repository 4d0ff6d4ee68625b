package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowWriter takes its time over each write, as a terminal can.
type slowWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// TestLogWriterLosesNothing writes lines from many goroutines, faster than
// the destination takes them and past the buffer's bound: after Close every
// line is out, whole, and each goroutine's lines in the order it wrote them.
func TestLogWriterLosesNothing(t *testing.T) {
	out := &slowWriter{}
	w := newLogWriter(out)
	const writers, lines = 8, 20000
	pad := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < lines; i++ {
				fmt.Fprintf(w, "g=%d i=%d %s\n", g, i, pad)
			}
		}()
	}
	wg.Wait()
	w.Close()
	fmt.Fprintf(w, "after close\n") // straight through
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.buf.String(), "\n"), "\n")
	if len(got) != writers*lines+1 || got[len(got)-1] != "after close" {
		t.Fatalf("%d lines out, want %d", len(got), writers*lines+1)
	}
	for _, line := range got[:len(got)-1] {
		var g, i int
		if _, err := fmt.Sscanf(line, "g=%d i=%d", &g, &i); err != nil || !strings.HasSuffix(line, pad) {
			t.Fatalf("a torn line: %q", line)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
}

func TestLogWriterFlushesWithoutClose(t *testing.T) {
	out := &slowWriter{}
	w := newLogWriter(out)
	defer w.Close()
	fmt.Fprintln(w, "one line")
	deadline := time.Now().Add(5 * time.Second)
	for {
		out.mu.Lock()
		s := out.buf.String()
		out.mu.Unlock()
		if s == "one line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not written out: %q", s)
		}
		time.Sleep(time.Millisecond)
	}
}
