package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/admin/inspector"
	"github.com/msgmock/msgmock/mock/openapi"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// What the inspector (GET /__mock/) reads besides the rest of the admin
// API: the sessions, a session's conversations of both APIs, and one SSE
// stream of every event of a session.

// Inspector serves the inspector's page (GET /__mock/) and its files.
func (a *API) Inspector(x *wire.Exchange, r *http.Request) *wire.Problem {
	inspector.Serve(x, r, x.Vars["file"])
	return nil
}

// InspectorRedirect sends /__mock to the page at /__mock/.
func (a *API) InspectorRedirect(x *wire.Exchange, r *http.Request) *wire.Problem {
	http.Redirect(x, r, "/__mock/", http.StatusFound)
	return nil
}

// Sessions serves GET /__mock/sessions: the named sessions, most recently
// used first (the default session, "", always exists).
func (a *API) Sessions(x *wire.Exchange, r *http.Request) *wire.Problem {
	wire.WriteJSON(x, http.StatusOK, map[string][]string{"sessions": a.e.Sessions()})
	return nil
}

type conversation struct {
	API         string `json:"api"` // conversations | workspace
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	CreatedAt   string `json:"created_at"`
	Fixture     bool   `json:"fixture"`
	Messages    []any  `json:"messages"` // oldest first, each as its API shows it
}

// Conversations serves GET /__mock/conversations: the session's
// conversations of both APIs with their messages, each as its API shows it.
func (a *API) Conversations(x *wire.Exchange, r *http.Request) *wire.Problem {
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	out := []conversation{}
	for _, api := range []scenarios.API{scenarios.APIConversations, scenarios.APIWorkspace} {
		d := a.dialects[api]
		for _, c := range tx.Session().Conversations(api) {
			wc := conversation{API: string(api), ID: c.ID, WorkspaceID: c.WorkspaceID, Fixture: c.Fixture, CreatedAt: d.Timestamp(c.CreatedAt)}
			msgs := c.Messages()
			wc.Messages = make([]any, len(msgs))
			for i, m := range msgs {
				wc.Messages[i] = d.Message(m)
			}
			out = append(out, wc)
		}
	}
	tx.End()
	wire.WriteJSON(x, http.StatusOK, map[string]any{"conversations": out})
	return nil
}

// journalEntry finds the request {id} of the request's session. Entries
// never change once recorded: the caller renders it unlocked.
func (a *API) journalEntry(x *wire.Exchange, r *http.Request) (*state.JournalEntry, *wire.Problem) {
	id := x.Vars["id"]
	if seq, ok := parseJournalID(id); ok {
		tx := a.e.Begin(x.Set, wire.SessionID(r))
		defer tx.End()
		if e := tx.Session().JournalEntry(seq); e != nil {
			return e, nil
		}
	}
	return nil, problem(http.StatusNotFound, "no request "+strconv.Quote(id)+" in this session's journal")
}

// Request serves GET /__mock/requests/{id}: one journal entry.
func (a *API) Request(x *wire.Exchange, r *http.Request) *wire.Problem {
	e, p := a.journalEntry(x, r)
	if p != nil {
		return p
	}
	wire.WriteJSON(x, http.StatusOK, journalEntryOf(e))
	return nil
}

// RequestBody serves GET /__mock/requests/{id}/body: the request's body
// as it arrived (up to the journal's 16 KiB), for an exact replay.
func (a *API) RequestBody(x *wire.Exchange, r *http.Request) *wire.Problem {
	e, p := a.journalEntry(x, r)
	if p != nil {
		return p
	}
	x.Header().Set("Content-Type", "application/octet-stream")
	x.Header().Set("X-Content-Type-Options", "nosniff")
	x.Header().Set("Content-Length", strconv.Itoa(len(e.Body)))
	_, _ = x.Write(e.Body)
	return nil
}

// OpenAPI serves GET /__mock/openapi/{name}.json.
func (a *API) OpenAPI(x *wire.Exchange, r *http.Request) *wire.Problem {
	name := x.Vars["name"]
	doc, ok := openapi.Document(name)
	if !ok {
		return problem(http.StatusNotFound, "no OpenAPI document "+strconv.Quote(name)+"; there are "+strings.Join(openapi.Names, ", "))
	}
	WriteDocument(x, "application/json", doc)
	return nil
}

// FixturesSchema serves GET /__mock/schema/fixtures.json.
func (a *API) FixturesSchema(x *wire.Exchange, r *http.Request) *wire.Problem {
	WriteDocument(x, "application/schema+json", scenarios.Schema())
	return nil
}

// WriteDocument answers a served document as it is.
func WriteDocument(w http.ResponseWriter, contentType string, doc []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}

// Stream serves GET /__mock/events/stream: the events of both APIs and
// every workspace of the request's session, each the API's own event with
// the name of the API it belongs to first ({"api": …, "id": …}).
func (a *API) Stream(x *wire.Exchange, r *http.Request) *wire.Problem {
	feed, err := a.e.Follow(x.Set, wire.SessionID(r), wire.LastEventID(r), "")
	if err != nil {
		x.Header().Set("Retry-After", "1")
		return problem(http.StatusServiceUnavailable, "too many open event streams; close one and retry")
	}
	defer feed.Close()
	id := r.URL.Query().Get("conversation_id")
	keep := state.EventFilter{ConversationID: id}
	wire.Stream(x, r, a.e, feed, keep, a.streamData, nil)
	return nil
}

func (a *API) streamData(ev *state.Event) any {
	api := ev.Message.API
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a.dialects[api].Event(ev)); err != nil {
		return nil
	}
	event := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(event) < 2 || event[0] != '{' {
		return nil
	}
	head := `{"api":` + strconv.Quote(string(api))
	if len(event) > 2 {
		head += ","
	}
	return json.RawMessage(append([]byte(head), event[1:]...))
}
