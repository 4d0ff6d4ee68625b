package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// apiAll names both APIs: the admin stream's filter.
const apiAll scenarios.API = ""

const (
	ssePingEvery    = 15 * time.Second
	sseWriteTimeout = 10 * time.Second
	sseBatch        = 256
)

// handleStream serves the Server-Sent Events stream of one API:
// GET /v1/events/stream and GET /api/v1/events/stream; with apiAll, the
// admin stream of both (GET /__mock/events/stream), each event's data
// being the API's own event with an "api" key.
//
// A stream keeps no queue of its own: it reads the session's event log
// from its cursor and sleeps on the log's notify channel, so a client costs
// the same memory however slow it is. A client that falls so far behind
// that events it has not had leave the log (retention) is disconnected with
// a log line; a write that cannot finish in 10s ends the stream too.
func (s *Server) handleStream(api scenarios.API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		filter := eventFilter{api: api, conversationID: r.URL.Query().Get("conversation_id")}
		workspace := ""
		if api == apiAll {
			// The admin stream: its route is guarded by the admin token.
		} else if api == scenarios.APIWorkspace {
			tok, ok := authorizeB(w, r, set, true)
			if !ok {
				return
			}
			if workspace, ok = workspaceOf(w, r, set, tok); !ok {
				return
			}
		} else if !authorizeA(r, set, true) {
			writeEnvelopeError(w, http.StatusUnauthorized, msgInvalidToken)
			return
		}
		sess := s.lockSession(r, set)
		cursor := sess.NextSeq() // only what happens from now on…
		if last := lastEventID(r); last != "" {
			// …unless the client says what it saw last: replay what followed.
			if seq, ok := sess.EventSeq(last); ok {
				cursor = seq
			} else if evs := sess.Events(); len(evs) > 0 {
				cursor = evs[0].Seq - 1 // unknown or expired: all that is kept
			}
		}
		sess.Unlock()

		// The session and the start position are taken before the first
		// byte goes out: a client that sends a message as soon as it sees
		// the headers cannot have it happen before its stream began.
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		// retry: a client that loses the stream reconnects after a second
		// (with Last-Event-ID) instead of its own default of three.
		if !s.sseWrite(w, rc, []byte("retry: 1000\n\n")) {
			return
		}

		ping := time.NewTicker(ssePingEvery)
		defer ping.Stop()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for {
			sess.Lock()
			events := sess.Events()
			i := sess.After(cursor)
			lost := len(events) > 0 && events[0].Seq > cursor+1
			var batch []*state.Event
			for ; i < len(events) && len(batch) < sseBatch; i++ {
				ev := events[i]
				cursor = ev.Seq
				if filter.match(ev) && (workspace == "" || ev.Message.WorkspaceID == workspace) {
					batch = append(batch, ev)
				}
			}
			more := i < len(events)
			notify := sess.Notify()
			sess.Unlock()
			if lost {
				s.log.Warn("SSE client too slow: events it had not read were dropped by retention; closing its stream", "path", r.URL.Path)
				return
			}
			if len(batch) > 0 {
				buf.Reset()
				for _, ev := range batch {
					writeSSE(&buf, enc, ev, api)
				}
				if !s.sseWrite(w, rc, buf.Bytes()) {
					return
				}
			}
			if more {
				continue
			}
			select {
			case <-notify:
			case <-ping.C:
				if !s.sseWrite(w, rc, []byte(": ping\n\n")) {
					return
				}
			case <-r.Context().Done():
				return
			case <-s.ctx.Done():
				return
			case <-sess.Done():
				// A limit evicted the session: say so, and end the stream
				// cleanly; a client that reconnects gets a fresh session.
				s.sseWrite(w, rc, []byte(": session evicted\n\n"))
				return
			}
		}
	})
}

// writeSSE frames one event: id, event and one line of JSON data — the
// event for the Conversations API, the Message for the Workspace API.
func writeSSE(buf *bytes.Buffer, enc *json.Encoder, ev *state.Event, api scenarios.API) {
	buf.WriteString("id: ")
	buf.WriteString(ev.ID)
	buf.WriteString("\nevent: ")
	buf.WriteString(ev.Type)
	buf.WriteString("\ndata: ")
	var data any = renderEvent(ev)
	switch api {
	case scenarios.APIWorkspace:
		data = eventData(ev)
	case apiAll:
		data = adminEvent{API: string(ev.Message.API), wireEvent: renderEvent(ev)}
	}
	_ = enc.Encode(data) // ends with the newline that ends the data line
	buf.WriteByte('\n')
}

func (s *Server) sseWrite(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// lastEventID is the Last-Event-ID header, or ?last_event_id= for clients
// that cannot set headers on their first connection.
func lastEventID(r *http.Request) string {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return strings.TrimSpace(v)
	}
	return r.URL.Query().Get("last_event_id")
}
