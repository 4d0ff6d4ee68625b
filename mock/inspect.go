package mock

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/inspector"
	"github.com/msgmock/msgmock/mock/openapi"
	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// What the inspector (GET /__mock/) reads besides the rest of the admin
// API: the sessions, a session's conversations of both APIs, and one SSE
// stream of every event of a session.

func (s *Server) handleInspector() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inspector.Serve(w, r, exchangeOf(w).vars["file"])
	})
}

// handleInspectorRedirect sends /__mock to the page at /__mock/.
func (s *Server) handleInspectorRedirect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/__mock/", http.StatusFound)
	})
}

// handleSessions serves GET /__mock/sessions: the named sessions, most
// recently used first (the default session, "", always exists).
func (s *Server) handleSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]string{"sessions": s.state.SessionIDs()})
	})
}

type wireConversation struct {
	API         string `json:"api"` // conversations | workspace
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	CreatedAt   string `json:"created_at"`
	Fixture     bool   `json:"fixture"`
	Messages    []any  `json:"messages"` // oldest first, each as its API shows it
}

// handleConversations serves GET /__mock/conversations: the session's
// conversations of both APIs with their messages.
func (s *Server) handleConversations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		sess := s.lockSession(r, set)
		out := []wireConversation{}
		for _, api := range []scenarios.API{scenarios.APIConversations, scenarios.APIWorkspace} {
			for _, c := range sess.Conversations(api) {
				wc := wireConversation{API: string(api), ID: c.ID, WorkspaceID: c.WorkspaceID, Fixture: c.Fixture}
				if api == scenarios.APIWorkspace {
					wc.CreatedAt = pydantic.Timestamp(c.CreatedAt)
				} else {
					wc.CreatedAt = timestampA(c.CreatedAt)
				}
				msgs := c.Messages()
				wc.Messages = make([]any, len(msgs))
				for i, m := range msgs {
					wc.Messages[i] = wireMessage(m)
				}
				out = append(out, wc)
			}
		}
		sess.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
	})
}

// wireMessage is a message as its own API shows it.
func wireMessage(m *state.Message) any {
	if m.API == scenarios.APIWorkspace {
		return messageB(m)
	}
	return messageA(m)
}

// adminEvent is an event on the admin stream: the API's own event with
// the name of the API it belongs to.
type adminEvent struct {
	API string `json:"api"`
	wireEvent
}

// journalEntry finds the request {id} of the request's session.
func (s *Server) journalEntry(w http.ResponseWriter, r *http.Request) (wireJournalEntry, []byte, bool) {
	id := exchangeOf(w).vars["id"]
	if seq, ok := parseJournalID(id); ok {
		var found *state.JournalEntry
		sess := s.lockSession(r, s.config(w))
		for _, e := range sess.Journal() {
			if e.Seq == seq {
				found = e
				break
			}
		}
		sess.Unlock()
		if found != nil { // entries never change once recorded: rendered unlocked
			return wireJournal(found), found.Body, true
		}
	}
	writeAdminError(w, http.StatusNotFound, "no request "+strconv.Quote(id)+" in this session's journal")
	return wireJournalEntry{}, nil, false
}

// handleRequest serves GET /__mock/requests/{id}: one journal entry.
func (s *Server) handleRequest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e, _, ok := s.journalEntry(w, r); ok {
			writeJSON(w, http.StatusOK, e)
		}
	})
}

// handleRequestBody serves GET /__mock/requests/{id}/body: the request's
// body as it arrived (up to the journal's 16 KiB), for an exact replay.
func (s *Server) handleRequestBody() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, body, ok := s.journalEntry(w, r); ok {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	})
}

// handleOpenAPI serves GET /__mock/openapi/{name}.json.
func (s *Server) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := exchangeOf(w).vars["name"]
		doc, ok := openapi.Document(name)
		if !ok {
			writeAdminError(w, http.StatusNotFound, "no OpenAPI document "+strconv.Quote(name)+"; there are "+strings.Join(openapi.Names, ", "))
			return
		}
		writeDocument(w, "application/json", doc)
	})
}

// handleWorkspaceOpenAPI serves GET /openapi.json as the Workspace API's
// FastAPI service does: its document byte for byte; GET and HEAD only.
func (s *Server) handleWorkspaceOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		doc, _ := openapi.Document("workspace")
		writeDocument(w, "application/json", doc)
	})
}

// handleFixturesSchema serves GET /__mock/schema/fixtures.json.
func (s *Server) handleFixturesSchema() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeDocument(w, "application/schema+json", scenarios.Schema())
	})
}

func writeDocument(w http.ResponseWriter, contentType string, doc []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}
