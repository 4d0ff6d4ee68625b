package mock

import (
	"net/http"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
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
func eventData(ev *state.Event) any {
	m := ev.Message
	if ev.Type == state.MessageDelta {
		return wireDelta{ConversationID: m.ConversationID, MessageID: m.ID, Delta: ev.Delta}
	}
	if m.API == scenarios.APIWorkspace {
		return messageB(m)
	}
	return wireCreatedA{ConversationID: m.ConversationID, Message: messageA(m)}
}

func renderEvent(ev *state.Event) wireEvent {
	created := timestampA(ev.CreatedAt)
	if ev.Message.API == scenarios.APIWorkspace {
		created = pydantic.Timestamp(ev.CreatedAt)
	}
	return wireEvent{ID: ev.ID, Type: ev.Type, CreatedAt: created, Data: eventData(ev)}
}

// eventFilter selects the events of one API, optionally of one conversation.
type eventFilter struct {
	api            scenarios.API
	conversationID string
}

func (f eventFilter) match(ev *state.Event) bool {
	return (f.api == apiAll || ev.Message.API == f.api) && (f.conversationID == "" || ev.Message.ConversationID == f.conversationID)
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
			seq, known := sess.EventSeq(cursor)
			if !known {
				sess.Unlock()
				writeEnvelopeError(w, http.StatusNotFound, "Event not found: "+cursor+".")
				return
			}
			start = sess.After(seq)
		}
		page := eventsPage{Events: make([]wireEvent, 0, min(limit, 16))}
		for _, ev := range sess.Events()[start:] {
			if !filter.match(ev) {
				continue
			}
			if len(page.Events) == limit {
				page.HasMore = true
				break
			}
			page.Events = append(page.Events, renderEvent(ev))
		}
		sess.Unlock()
		writeEnvelope(w, http.StatusOK, msgEventsRetrieved, page)
	})
}
