package main

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connLimiter caps the connections msgmock holds open at once, so that
// idle keep-alive connections or a flood of new ones cannot take it to the
// file-descriptor limit or hold a goroutine and buffers each without end.
//
// Its listener admits a connection while fewer than max are open. At the
// cap it closes the keep-alive connection idle longest to make room; if
// none is idle (every one has a request in progress, or is new — a new
// one's first request may be on its way, and ReadHeaderTimeout bounds one
// that sends nothing) it closes the new connection at once, in the
// accepting goroutine: a refused connection costs no goroutine, and what
// is open never exceeds max. A client may find an idle connection closed
// as it reuses it, as with any idle timeout; clients retry that.
// http.Server reports each connection's state through ConnState, which
// the server must be given.
type connLimiter struct {
	net.Listener
	max int
	log *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]*connInfo // admitted and not yet closed

	refused, evicted atomic.Int64
	lastWarn         atomic.Int64 // unix seconds of the last warning logged
}

type connInfo struct {
	idle  bool      // between two requests of a keep-alive connection
	since time.Time // when it went idle
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, log: log, conns: make(map[net.Conn]*connInfo, max)}
}

// Accept returns the next connection admitted; refused ones are closed
// here, without a goroutine.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
		}
		_ = c.Close()
	}
}

func (l *connLimiter) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		var oldest net.Conn
		var at time.Time
		for oc, info := range l.conns {
			if info.idle && (oldest == nil || info.since.Before(at)) {
				oldest, at = oc, info.since
			}
		}
		if oldest == nil {
			l.refused.Add(1)
			l.warn("connection refused: none of the --max-connections is idle")
			return false
		}
		// Its goroutine sees the close on its next read and ends; its
		// StateClosed then finds nothing to remove.
		_ = oldest.Close()
		delete(l.conns, oldest)
		l.evicted.Add(1)
	}
	l.conns[c] = &connInfo{}
	return true
}

// ConnState is the http.Server's ConnState hook.
func (l *connLimiter) ConnState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	info := l.conns[c]
	if info == nil {
		return
	}
	switch state {
	case http.StateIdle:
		info.idle, info.since = true, time.Now()
	case http.StateActive:
		info.idle = false
	case http.StateHijacked, http.StateClosed:
		delete(l.conns, c)
	}
}

// warn logs at most once every ten seconds: a flood must not become a
// flood of log lines.
func (l *connLimiter) warn(msg string) {
	now := time.Now().Unix()
	last := l.lastWarn.Load()
	if now-last < 10 || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn(msg, "max_connections", l.max, "refused_so_far", l.refused.Load(), "idle_closed_so_far", l.evicted.Load())
}
