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
//
// A request changes its connection's state twice (active, then idle), so
// ConnState takes no lock and reads no clock: the connections are a
// sync.Map (written only when one is admitted or closed) and each one's
// state is atomics, idleness ordered by a counter rather than a time.
type connLimiter struct {
	net.Listener
	max int
	log *slog.Logger

	mu    sync.Mutex // orders admissions
	conns sync.Map   // net.Conn → *connInfo: admitted and not yet closed
	open  atomic.Int64
	tick  atomic.Uint64 // orders the moments connections went idle

	refused, evicted atomic.Int64
	lastWarn         atomic.Int64 // unix seconds of the last warning logged
}

type connInfo struct {
	idleSince atomic.Uint64 // the tick when it went idle; 0 while active or new
	gone      atomic.Bool   // removed: counted out of open once
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, log: log}
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
	if l.open.Load() >= int64(l.max) {
		var oldest net.Conn
		var oldestInfo *connInfo
		var at uint64
		l.conns.Range(func(k, v any) bool {
			info := v.(*connInfo)
			if since := info.idleSince.Load(); since != 0 && (oldest == nil || since < at) {
				oldest, oldestInfo, at = k.(net.Conn), info, since
			}
			return true
		})
		if oldest == nil {
			l.refused.Add(1)
			l.warn("connection refused: none of the --max-connections is idle")
			return false
		}
		// Its goroutine sees the close on its next read and ends; its
		// StateClosed then finds nothing to remove.
		_ = oldest.Close()
		l.remove(oldest, oldestInfo)
		l.evicted.Add(1)
	}
	l.conns.Store(c, &connInfo{})
	l.open.Add(1)
	return true
}

// remove forgets c, once.
func (l *connLimiter) remove(c net.Conn, info *connInfo) {
	if info.gone.CompareAndSwap(false, true) {
		l.conns.Delete(c)
		l.open.Add(-1)
	}
}

// ConnState is the http.Server's ConnState hook.
func (l *connLimiter) ConnState(c net.Conn, state http.ConnState) {
	v, ok := l.conns.Load(c)
	if !ok {
		return
	}
	info := v.(*connInfo)
	switch state {
	case http.StateIdle:
		info.idleSince.Store(l.tick.Add(1))
	case http.StateActive:
		info.idleSince.Store(0)
	case http.StateHijacked, http.StateClosed:
		l.remove(c, info)
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
