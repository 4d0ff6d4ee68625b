package wire

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

const (
	ssePingEvery    = 15 * time.Second
	sseWriteTimeout = 10 * time.Second
	sseBatch        = 256
	// sseFlushBytes bounds what a stream encodes before writing it: a
	// batch is written in pieces of about this size, so a stream holds at
	// most this plus one event, however large the events it replays.
	sseFlushBytes = 64 << 10
)

// Stream serves feed as a Server-Sent Events stream: each event keep
// accepts, its data line being data(ev) as JSON. Both APIs and the admin
// API stream this way:
//
//   - A stream begins with "retry: 1000", so a client that loses it
//     reconnects after a second (with Last-Event-ID) rather than its own
//     default of three. Its starting point is taken before the first byte is
//     sent: a message posted as soon as the headers arrive is on it.
//   - Without Last-Event-ID (or ?last_event_id=) a stream starts with what
//     happens next; with it, it replays what followed that event; an unknown
//     or expired id replays every event still kept.
//   - A stream keeps no queue: it reads the session's event log from its
//     position, up to 256 events at a time, and writes what it encoded
//     whenever that passes 64 KiB (sseFlushBytes): a replay of large
//     events, or of text that escapes six-fold (control characters), holds
//     at most 64 KiB plus one event per stream, not 256 events' worth. A client so slow that retention drops events it has not read
//     is disconnected, with a log line, and can reconnect with Last-Event-ID;
//     a write that cannot finish in 10s ends the stream; a ": ping" comment
//     every 15 s keeps proxies from closing it. A session evicted by a limit
//     ends its streams with a ": session evicted" comment.
//   - EventSource cannot send headers: the streams take ?access_token= and
//     ?session= (for X-Mock-Session).
//   - A rule's drop_after N (resp) closes the connection abruptly once N
//     events were written, as a network that fails would, so that a
//     client's reconnection with Last-Event-ID can be tested.
//
// Stream applies no mid-stream fault (the admin API's stream, which the
// inspector reads, uses it); StreamReplies does.
func Stream(x *Exchange, r *http.Request, e *engine.Engine, feed *engine.Feed, keep state.EventFilter, data func(*state.Event) any, resp *scenarios.Respond) {
	stream(x, r, e, feed, keep, data, resp, false)
}

// StreamReplies is Stream for an API's own stream: the mid-stream faults
// a reply's stream scripts (state.DeliveryFault) hit the chunks it
// delivers live — drop closes the connection right after the chunk,
// malformed sends its frame with the data cut in half and no id line (the
// client's Last-Event-ID stays on the chunk before), repeat sends it twice
// with the same id. Events replayed for a Last-Event-ID are sent as the
// log holds them, faultless: a client that resumes gets every chunk whole.
func StreamReplies(x *Exchange, r *http.Request, e *engine.Engine, feed *engine.Feed, keep state.EventFilter, data func(*state.Event) any, resp *scenarios.Respond) {
	stream(x, r, e, feed, keep, data, resp, true)
}

func stream(x *Exchange, r *http.Request, e *engine.Engine, feed *engine.Feed, keep state.EventFilter, data func(*state.Event) any, resp *scenarios.Respond, faults bool) {
	dropAfter := 0
	if resp != nil {
		dropAfter = resp.DropAfter
	}
	sent := 0
	rc := http.NewResponseController(x)
	h := x.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	x.WriteHeader(http.StatusOK)
	// retry: a client that loses the stream reconnects after a second
	// (with Last-Event-ID) instead of its own default of three.
	if !sseWrite(x, rc, []byte("retry: 1000\n\n")) {
		return
	}

	ping := time.NewTicker(ssePingEvery)
	defer ping.Stop()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for {
		batch, more, lost, notify := feed.Next(sseBatch, keep)
		if lost {
			e.Logger().Warn("SSE client too slow: events it had not read were dropped by retention; closing its stream", "path", r.URL.Path)
			return
		}
		if len(batch) > 0 {
			buf.Reset()
			dropping := false
			for _, ev := range batch {
				var fault state.DeliveryFault
				if faults && ev.Fault != 0 && feed.Live(ev) {
					fault = ev.Fault
				}
				if fault&state.FaultMalformed != 0 {
					writeMalformedSSE(&buf, enc, ev, data(ev))
				} else {
					writeSSE(&buf, enc, ev, data(ev))
				}
				if fault&state.FaultRepeat != 0 {
					writeSSE(&buf, enc, ev, data(ev))
				}
				if sent++; fault&state.FaultDrop != 0 || dropAfter > 0 && sent >= dropAfter {
					dropping = true
					break
				}
				if buf.Len() >= sseFlushBytes {
					if !sseWrite(x, rc, buf.Bytes()) {
						return
					}
					buf.Reset()
				}
			}
			if buf.Len() > 0 && !sseWrite(x, rc, buf.Bytes()) {
				return
			}
			if dropping {
				// Abort: net/http closes the connection without ending the
				// chunked body, which a client sees as a dropped stream.
				panic(http.ErrAbortHandler)
			}
		}
		if more {
			continue
		}
		select {
		case <-notify:
		case <-ping.C:
			if !sseWrite(x, rc, []byte(": ping\n\n")) {
				return
			}
		case <-r.Context().Done():
			return
		case <-e.Done():
			return
		case <-feed.Done():
			// A limit evicted the session: say so, and end the stream
			// cleanly; a client that reconnects gets a fresh session.
			sseWrite(x, rc, []byte(": session evicted\n\n"))
			return
		}
	}
}

// writeSSE frames one event: id, event and one line of JSON data.
func writeSSE(buf *bytes.Buffer, enc *json.Encoder, ev *state.Event, data any) {
	buf.WriteString("id: ")
	buf.WriteString(ev.ID)
	buf.WriteString("\nevent: ")
	buf.WriteString(ev.Type)
	buf.WriteString("\ndata: ")
	_ = enc.Encode(data) // ends with the newline that ends the data line
	buf.WriteByte('\n')
}

// writeMalformedSSE frames ev broken: its event line and the first half
// of its data line, without the id line.
func writeMalformedSSE(buf *bytes.Buffer, enc *json.Encoder, ev *state.Event, data any) {
	buf.WriteString("event: ")
	buf.WriteString(ev.Type)
	buf.WriteString("\ndata: ")
	mark := buf.Len()
	_ = enc.Encode(data)
	line := buf.Len() - mark - 1 // without its newline
	buf.Truncate(mark + line/2)
	buf.WriteString("\n\n")
}

func sseWrite(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// LastEventID is the Last-Event-ID header, or ?last_event_id= for clients
// that cannot set headers on their first connection.
func LastEventID(r *http.Request) string {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return strings.TrimSpace(v)
	}
	return r.URL.Query().Get("last_event_id")
}
