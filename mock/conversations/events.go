package conversations

import (
	"net/http"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// An event is rendered the same way wherever it goes — GET /v1/events, the
// SSE stream and webhooks.

type delta struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Delta          string `json:"delta"`
}

type created struct {
	ConversationID string  `json:"conversation_id"`
	Message        message `json:"message"`
}

type event struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Data      any    `json:"data"`
}

// Event is ev as the API's feed shows it: for message.created, the message
// wrapped with its conversation id; for message.delta, the chunk.
func (Dialect) Event(ev *state.Event) any { return eventOf(ev) }

// StreamData is ev on the SSE stream: the event itself.
func (Dialect) StreamData(ev *state.Event) any { return eventOf(ev) }

func eventOf(ev *state.Event) event {
	m := ev.Message
	var data any
	if ev.Type == state.MessageDelta {
		data = delta{ConversationID: m.ConversationID, MessageID: m.ID, Delta: ev.Delta}
	} else {
		data = created{ConversationID: m.ConversationID, Message: messageOf(m)}
	}
	return event{ID: ev.ID, Type: ev.Type, CreatedAt: Timestamp(ev.CreatedAt), Data: data}
}

type eventsPage struct {
	Events  []event `json:"events"`
	HasMore bool    `json:"has_more"`
}

// ofConversation selects the events of this API, and of one conversation
// when id is not "".
func ofConversation(id string) state.EventFilter {
	return state.EventFilter{API: scenarios.APIConversations, ConversationID: id}
}

// Events serves GET /v1/events[?conversation_id=…][&after=evt_…][&limit=N]:
// the Conversations API's events, oldest first, after the cursor.
func (a *API) Events(x *wire.Exchange, r *http.Request) *wire.Problem {
	if p := a.admitRead(x, r, false); p != nil {
		return p
	}
	limit, p := queryLimit(r, 100)
	if p != nil {
		return p
	}
	q := r.URL.Query()
	convID, cursor := q.Get("conversation_id"), q.Get("after")
	keep := ofConversation(convID)
	if cursor != "" && !a.knowsEvent(x, r, cursor) {
		return problem(http.StatusNotFound, "Event not found: "+cursor+".")
	}
	facts := wire.ReadFacts(scenarios.APIConversations, r, convID, "")
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, convID)
	if done {
		return p
	}
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	sess := tx.Session()
	start := 0
	if cursor != "" {
		seq, known := sess.EventSeq(cursor)
		if !known { // gone while the rules' latency ran
			return problem(http.StatusNotFound, "Event not found: "+cursor+".")
		}
		start = sess.After(seq)
	}
	page := eventsPage{Events: make([]event, 0, min(limit, 16))}
	for i := start; i < sess.EventCount(); i++ {
		if !sess.EventMatches(i, keep) {
			continue
		}
		if len(page.Events) == limit {
			page.HasMore = true
			break
		}
		page.Events = append(page.Events, eventOf(sess.EventAt(i)))
	}
	tx.End()
	writeEnvelope(x, wire.RespondStatus(resp, http.StatusOK), msgEventsRetrieved, page)
	return nil
}

// knowsEvent reports whether the session's event log holds event id.
func (a *API) knowsEvent(x *wire.Exchange, r *http.Request, id string) bool {
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	_, ok := tx.Session().EventSeq(id)
	return ok
}

// Stream serves GET /v1/events/stream: Server-Sent Events of the
// Conversations API's events, the data being each event.
func (a *API) Stream(x *wire.Exchange, r *http.Request) *wire.Problem {
	if p := a.admitRead(x, r, true); p != nil {
		return p
	}
	convID := r.URL.Query().Get("conversation_id")
	facts := wire.ReadFacts(scenarios.APIConversations, r, convID, "")
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, convID)
	if done {
		return p
	}
	feed, err := a.e.Follow(x.Set, wire.SessionID(r), wire.LastEventID(r), convID)
	if err != nil {
		return wire.Status(http.StatusServiceUnavailable)
	}
	defer feed.Close()
	wire.StreamReplies(x, r, a.e, feed, ofConversation(convID), Dialect{}.StreamData, resp)
	return nil
}
