package engine

import (
	"errors"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Streams are bounded: a stream wakes on every event of its session (or,
// following one conversation, of that conversation), so thousands on one
// session would slow every send. Past either bound Follow refuses with
// ErrTooManyStreams (the APIs answer their own 503).
const (
	MaxStreams        = 1024 // open streams, all sessions together
	MaxSessionStreams = 64   // open streams of one session
)

// ErrTooManyStreams refuses a stream past MaxStreams or MaxSessionStreams.
var ErrTooManyStreams = errors.New("too many open event streams")

// Feed follows a session's event log for one Server-Sent Events stream.
// It keeps no queue of its own: it reads the log from its cursor, so a
// stream costs the same memory however slow its client is.
type Feed struct {
	e      *Engine
	closed bool
	sess   *state.Session
	cursor uint64 // the last event's sequence number the feed has passed
	conv   string // the conversation followed ("": every event)
	live   uint64 // the last event logged before the feed began: later ones are live
}

// Follow starts a feed of session's events from now on, or, when
// lastEventID names an event the log still holds, from the one after it;
// an unknown or expired id replays all the log still holds. A feed that
// follows one conversation (conversationID) sleeps until an event of that
// conversation; its stream's keep still decides what is sent. The caller
// closes the feed when its stream ends.
func (e *Engine) Follow(set *scenarios.Set, session, lastEventID, conversationID string) (*Feed, error) {
	if e.streams.Add(1) > MaxStreams {
		e.streams.Add(-1)
		return nil, ErrTooManyStreams
	}
	tx := e.Begin(set, session)
	defer tx.End()
	if tx.sess.Followers(+1) > MaxSessionStreams {
		tx.sess.Followers(-1)
		e.streams.Add(-1)
		return nil, ErrTooManyStreams
	}
	f := &Feed{e: e, sess: tx.sess, conv: conversationID, cursor: tx.sess.NextSeq(), live: tx.sess.NextSeq()}
	if lastEventID != "" {
		if seq, ok := tx.sess.EventSeq(lastEventID); ok {
			f.cursor = seq
		} else if tx.sess.EventCount() > 0 {
			f.cursor = tx.sess.EventSeqAt(0) - 1
		}
	}
	return f, nil
}

// Live reports whether ev was logged after the feed began: delivered as
// it happens, not replayed for a Last-Event-ID. Scripted mid-stream faults
// hit live deliveries only, so a client that resumes gets the log as it is.
func (f *Feed) Live(ev *state.Event) bool { return ev.Seq > f.live }

// Close releases the feed's place among the open streams.
func (f *Feed) Close() {
	if f.closed {
		return
	}
	f.closed = true
	f.sess.Lock()
	f.sess.Followers(-1)
	f.sess.Unlock()
	f.e.streams.Add(-1)
}

// Next returns up to max events past the cursor that keep selects,
// decoded, and moves the cursor past every event it looked at. more
// reports events left to read; lost, that events the feed had not reached
// left the log (retention) — its client fell too far behind. notify is
// closed when the next event is logged.
func (f *Feed) Next(max int, keep state.EventFilter) (batch []*state.Event, more, lost bool, notify <-chan struct{}) {
	// The session the feed began on, even if a limit has since replaced it:
	// Done tells the stream.
	f.sess.Lock()
	defer f.sess.Unlock()
	n := f.sess.EventCount()
	i := f.sess.After(f.cursor)
	lost = n > 0 && f.sess.EventSeqAt(0) > f.cursor+1
	for ; i < n && len(batch) < max; i++ {
		f.cursor = f.sess.EventSeqAt(i)
		if f.sess.EventMatches(i, keep) {
			batch = append(batch, f.sess.EventAt(i))
		}
	}
	return batch, i < n, lost, f.sess.Notify(f.conv)
}

// Done is closed when a limit evicts the feed's session: its stream ends.
func (f *Feed) Done() <-chan struct{} { return f.sess.Done() }
