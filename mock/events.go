package mock

import (
	"net/http"
	"sort"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/scenarios"
)

// An event is rendered the same way wherever it goes — GET /v1/events, the
// SSE streams and webhooks — by the API its message belongs to.

type wireDelta struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Delta          string `json:"delta"`
}

type wireCreatedA struct {
	ConversationID string       `json:"conversation_id"`
	Message        wireMessageA `json:"message"`
}

type wireEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Data      any    `json:"data"`
}

// eventData is an event's data: for message.created, the message as its
// API shows it (wrapped with its conversation id in the Conversations API);
// for message.delta, the chunk.
func eventData(ev *Event) any {
	m := ev.Message
	if ev.Type == "message.delta" {
		return wireDelta{ConversationID: m.ConversationID, MessageID: m.ID, Delta: ev.Delta}
	}
	if m.API == scenarios.APIWorkspace {
		return messageB(m)
	}
	return wireCreatedA{ConversationID: m.ConversationID, Message: messageA(m)}
}

func renderEvent(ev *Event) wireEvent {
	created := timestampA(ev.CreatedAt)
	if ev.Message.API == scenarios.APIWorkspace {
		created = pydantic.Timestamp(ev.CreatedAt)
	}
	return wireEvent{ID: ev.ID, Type: ev.Type, CreatedAt: created, Data: eventData(ev)}
}

// after returns the index of the first event with a sequence number above seq.
func (s *session) after(seq uint64) int {
	return sort.Search(len(s.events), func(i int) bool { return s.events[i].Seq > seq })
}

// eventFilter selects the events of one API, optionally of one conversation.
type eventFilter struct {
	api            scenarios.API
	conversationID string
}

func (f eventFilter) match(ev *Event) bool {
	return ev.Message.API == f.api && (f.conversationID == "" || ev.Message.ConversationID == f.conversationID)
}

type eventsPage struct {
	Events  []wireEvent `json:"events"`
	HasMore bool        `json:"has_more"`
}

// handleEventsA serves GET /v1/events[?conversation_id=…][&after=evt_…][&limit=N]:
// the Conversations API's events, oldest first, after the cursor.
func (s *Server) handleEventsA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		if !authorizeA(r, set, false) {
			writeEnvelopeError(w, http.StatusUnauthorized, msgInvalidToken)
			return
		}
		limit, ok := queryLimitA(w, r, 100)
		if !ok {
			return
		}
		q := r.URL.Query()
		filter := eventFilter{api: scenarios.APIConversations, conversationID: q.Get("conversation_id")}
		sess := s.lockSession(r, set)
		start := 0
		if cursor := q.Get("after"); cursor != "" {
			seq, known := sess.eventSeq[cursor]
			if !known {
				sess.mu.Unlock()
				writeEnvelopeError(w, http.StatusNotFound, "Event not found: "+cursor+".")
				return
			}
			start = sess.after(seq)
		}
		page := eventsPage{Events: make([]wireEvent, 0, min(limit, 16))}
		for _, ev := range sess.events[start:] {
			if !filter.match(ev) {
				continue
			}
			if len(page.Events) == limit {
				page.HasMore = true
				break
			}
			page.Events = append(page.Events, renderEvent(ev))
		}
		sess.mu.Unlock()
		writeEnvelope(w, http.StatusOK, msgEventsRetrieved, page)
	})
}
