package workspace

import (
	"net/http"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

type delta struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Delta          string `json:"delta"`
}

type event struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Data      any    `json:"data"`
}

// StreamData is ev's data on the SSE stream: the Message, or for
// message.delta the chunk.
func (Dialect) StreamData(ev *state.Event) any {
	m := ev.Message
	if ev.Type == state.MessageDelta {
		return delta{ConversationID: m.ConversationID, MessageID: m.ID, Delta: ev.Delta}
	}
	return messageOf(m)
}

// Event is ev as a webhook delivers it: the event envelope (SPEC §4) with
// the stream's data.
func (d Dialect) Event(ev *state.Event) any {
	return event{ID: ev.ID, Type: ev.Type, CreatedAt: Timestamp(ev.CreatedAt), Data: d.StreamData(ev)}
}

// Stream serves GET /api/v1/events/stream: Server-Sent Events of the
// workspace's messages, the data being each Message (or delta).
func (a *API) Stream(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	tok, p := a.admitRead(x, r, true)
	if p != nil {
		return p
	}
	ws, p := workspaceOf(r, set, tok)
	if p != nil {
		return p
	}
	id := r.URL.Query().Get("conversation_id")
	keep := state.EventFilter{API: scenarios.APIWorkspace, ConversationID: id, WorkspaceID: ws}
	facts := wire.ReadFacts(scenarios.APIWorkspace, r, id, ws)
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, id)
	if done {
		return p
	}
	feed, err := a.e.Follow(set, wire.SessionID(r), wire.LastEventID(r), id)
	if err != nil {
		return wire.Status(http.StatusServiceUnavailable)
	}
	defer feed.Close()
	wire.StreamReplies(x, r, a.e, feed, keep, Dialect{}.StreamData, resp)
	return nil
}
