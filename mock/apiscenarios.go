package mock

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Scenarios added over the admin API (PUT /__mock/scenarios/{name}) live
// beside the fixtures, not in them: a reload of the files keeps them, and
// a reset removes them. With X-Mock-Session they belong to that session;
// without, to every session.

// maxAddedScenarios bounds how many one session (or the server) may hold.
const maxAddedScenarios = 100

// addedScenarios are the server-wide ones. Requests read them on every
// rule evaluation, so the map is immutable and read through an atomic
// pointer; writers (admin requests) copy it under mu.
type addedScenarios struct {
	mu  sync.Mutex
	all atomic.Pointer[map[string]state.AddedScenario]
}

func (a *addedScenarios) get(name string) (state.AddedScenario, bool) {
	m := a.all.Load()
	if m == nil {
		return state.AddedScenario{}, false
	}
	sc, ok := (*m)[name]
	return sc, ok
}

func (a *addedScenarios) names() []string {
	m := a.all.Load()
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(*m))
	for n := range *m {
		out = append(out, n)
	}
	return out
}

// update replaces the map with change applied to a copy of it; change
// reports whether to publish the copy.
func (a *addedScenarios) update(change func(m map[string]state.AddedScenario) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := map[string]state.AddedScenario{}
	if cur := a.all.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	if change(next) {
		a.all.Store(&next)
	}
}

// lookupScenario finds the scenario a request names: one its session
// added, then one added for every session, then the fixtures'. Called with
// sess locked.
func (s *Server) lookupScenario(sess *state.Session, set *scenarios.Set, name string) *scenarios.Scenario {
	if a, ok := sess.AddedScenario(name); ok {
		return a.Scenario
	}
	if a, ok := s.added.get(name); ok {
		return a.Scenario
	}
	return set.Scenario(name)
}

type wireAddedScenario struct {
	Name    string   `json:"name"`
	Session string   `json:"session,omitempty"`
	Rules   int      `json:"rules"`
	Body    string   `json:"body,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// handlePutScenario serves PUT /__mock/scenarios/{name}: the body, YAML or
// JSON, validated as a fixtures file is; problems answer 400 with each one
// as FILE:LINE:COL: message.
func (s *Server) handlePutScenario() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := pathVar(w, "name")
		body, tooLarge, ok := readBody(r, 256<<10)
		if !ok {
			return
		}
		if tooLarge {
			writeAdminError(w, http.StatusRequestEntityTooLarge, "a scenario is at most 256 KiB")
			return
		}
		sc, err := scenarios.ParseScenario(name, body)
		if err != nil {
			var probs scenarios.Problems
			msgs := []string{err.Error()}
			if errors.As(err, &probs) {
				msgs = probs.Strings()
			}
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "scenario " + strconv.Quote(name) + " has problems", "errors": msgs})
			return
		}
		added := state.AddedScenario{Scenario: sc, Body: body}
		session := r.Header.Get("X-Mock-Session")
		full := false
		if session != "" {
			sess := s.lockSession(r, s.config(w))
			_, replacing := sess.AddedScenario(name)
			if full = !replacing && len(sess.AddedScenarios()) >= maxAddedScenarios; !full {
				sess.AddScenario(added)
			}
			sess.Unlock()
		} else {
			s.added.update(func(m map[string]state.AddedScenario) bool {
				_, replacing := m[name]
				if full = !replacing && len(m) >= maxAddedScenarios; !full {
					m[name] = added
				}
				return !full
			})
		}
		if full {
			writeAdminError(w, http.StatusConflict, "at most "+strconv.Itoa(maxAddedScenarios)+" added scenarios are kept; delete one first")
			return
		}
		writeJSON(w, http.StatusOK, wireAddedScenario{Name: name, Session: session, Rules: len(sc.Rules)})
	})
}

// added returns the scenario the request's session (or, without
// X-Mock-Session, the server) added as name.
func (s *Server) addedFor(w http.ResponseWriter, r *http.Request, name string) (state.AddedScenario, bool) {
	if r.Header.Get("X-Mock-Session") == "" {
		return s.added.get(name)
	}
	sess := s.lockSession(r, s.config(w))
	defer sess.Unlock()
	return sess.AddedScenario(name)
}

// handleGetScenario serves GET /__mock/scenarios/{name}: the scenario as it was sent.
func (s *Server) handleGetScenario() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := pathVar(w, "name")
		a, ok := s.addedFor(w, r, name)
		if !ok {
			writeAdminError(w, http.StatusNotFound, "no scenario "+strconv.Quote(name)+" was added over the API")
			return
		}
		writeJSON(w, http.StatusOK, wireAddedScenario{Name: name, Session: r.Header.Get("X-Mock-Session"), Rules: len(a.Scenario.Rules), Body: string(a.Body)})
	})
}

// handleDeleteScenario serves DELETE /__mock/scenarios/{name}.
func (s *Server) handleDeleteScenario() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := pathVar(w, "name")
		removed := false
		if r.Header.Get("X-Mock-Session") == "" {
			s.added.update(func(m map[string]state.AddedScenario) bool {
				_, removed = m[name]
				delete(m, name)
				return removed
			})
		} else {
			sess := s.lockSession(r, s.config(w))
			removed = sess.RemoveScenario(name)
			sess.Unlock()
		}
		if !removed {
			writeAdminError(w, http.StatusNotFound, "no scenario "+strconv.Quote(name)+" was added over the API")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleListScenarios serves GET /__mock/scenarios: the names added over
// the API, for the request's session and for every session.
func (s *Server) handleListScenarios() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server := s.added.names()
		var session []string
		if r.Header.Get("X-Mock-Session") != "" {
			sess := s.lockSession(r, s.config(w))
			session = sess.AddedScenarios()
			sess.Unlock()
		}
		sort.Strings(server)
		sort.Strings(session)
		// Empty lists, not null, as the admin document has them.
		if server == nil {
			server = []string{}
		}
		if session == nil {
			session = []string{}
		}
		writeJSON(w, http.StatusOK, map[string][]string{"server": server, "session": session})
	})
}
