package mock

import (
	"net/http"

	"github.com/msgmock/msgmock/scenarios"
)

// routes lists msgmock's whole HTTP surface.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Conversations API (seed 000).
	mux.Handle("/v1/messages", s.dispatch(methods{http.MethodPost: s.handleSendA()}))
	mux.Handle("/v1/conversations/{id}/messages", s.dispatch(methods{http.MethodGet: s.handleConversationMessagesA()}))
	mux.Handle("/v1/events", s.dispatch(methods{http.MethodGet: s.handleEventsA()}))
	mux.Handle("/v1/events/stream", s.dispatch(methods{http.MethodGet: s.handleStream(scenarios.APIConversations)}))
	mux.Handle("/v1/", s.notFound())

	// Workspace Messages API (seed 001).
	mux.Handle("/api/v1/messages", s.dispatch(methods{http.MethodPost: s.handleCreateB(), http.MethodGet: s.handleListB()}))
	mux.Handle("/api/v1/messages/{message_id}", s.dispatch(methods{http.MethodGet: s.handleGetB()}))
	mux.Handle("/api/v1/conversations", s.dispatch(methods{http.MethodGet: s.handleConversationsB()}))
	mux.Handle("/api/v1/events/stream", s.dispatch(methods{http.MethodGet: s.handleStream(scenarios.APIWorkspace)}))
	mux.Handle("/api/", s.notFound())

	// Admin API.
	mux.Handle("/__mock/health", s.admin(methods{http.MethodGet: s.handleHealth()}))
	mux.Handle("/__mock/status", s.admin(methods{http.MethodGet: s.handleStatus()}))
	mux.Handle("/__mock/scenario", s.admin(methods{http.MethodPut: s.handleSetScenario()}))
	mux.Handle("/__mock/reset", s.admin(methods{http.MethodPost: s.handleReset()}))
	mux.Handle("/__mock/requests", s.admin(methods{http.MethodGet: s.handleRequests(), http.MethodDelete: s.handleClearRequests()}))
	mux.Handle("/__mock/webhooks/deliveries", s.admin(methods{http.MethodGet: s.handleDeliveries()}))
	mux.Handle("/__mock/clock", s.admin(methods{http.MethodGet: s.handleClock(), http.MethodPost: s.handleClock()}))
	mux.Handle("/__mock/", s.admin(nil))

	mux.Handle("/", s.notFound())
	return mux
}

// notFound answers an unknown route in the shape of the API its path belongs to.
func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch apiOf(r.URL.Path) {
		case "workspace":
			writeDetail(w, http.StatusNotFound, "Not Found")
		case "":
			writeAdminError(w, http.StatusNotFound, "no admin endpoint "+r.URL.Path)
		default:
			writeEnvelopeError(w, http.StatusNotFound, msgResourceNotFound)
		}
	})
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	switch apiOf(r.URL.Path) {
	case "workspace":
		writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	case "":
		writeAdminError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; allowed: "+w.Header().Get("Allow"))
	default:
		writeEnvelopeError(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
	}
}
