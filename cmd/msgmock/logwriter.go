package main

import (
	"io"
	"sync"
	"time"
)

// logWriter takes log lines off the request path: Write copies the line
// into a buffer and returns; a goroutine writes the buffer out every
// logFlushEvery, or sooner when it fills. The logger's own lock (slog
// holds one around Write) is then held for a copy, not for a write to a
// terminal or a pipe, which would make it a global lock across I/O that
// every request waits on. Past logBufferMax bytes not yet written, Write
// waits for the writer: a slow terminal slows msgmock down instead of
// growing its memory or losing lines. Close writes what is left.
type logWriter struct {
	out io.Writer

	mu      sync.Mutex
	buf     []byte
	closed  bool
	flushed *sync.Cond // signalled after each write out
	kick    chan struct{}
	done    chan struct{}
}

const (
	logFlushEvery = 20 * time.Millisecond
	logBufferSoft = 64 << 10 // wake the writer early
	logBufferMax  = 4 << 20  // make writers wait
)

func newLogWriter(out io.Writer) *logWriter {
	w := &logWriter{out: out, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.flushed = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.buf) >= logBufferMax && !w.closed {
		w.kickLocked()
		w.flushed.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p) // after Close: straight through
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= logBufferSoft {
		w.kickLocked()
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *logWriter) kickLocked() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *logWriter) loop() {
	defer close(w.done)
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	var spare []byte
	for {
		select {
		case <-tick.C:
		case <-w.kick:
		}
		w.mu.Lock()
		out, closed := w.buf, w.closed
		w.buf = spare[:0]
		w.mu.Unlock()
		if len(out) > 0 {
			_, _ = w.out.Write(out)
		}
		w.mu.Lock()
		w.flushed.Broadcast()
		w.mu.Unlock()
		if cap(out) <= logBufferMax {
			spare = out // reused; one that grew past the bound is let go
		} else {
			spare = nil
		}
		if closed {
			return
		}
	}
}

// Close writes out what is buffered; later writes go straight through.
func (w *logWriter) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.kickLocked()
	w.flushed.Broadcast()
	w.mu.Unlock()
	<-w.done
}
