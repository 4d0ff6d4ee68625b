package mock

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
	"time"
)

// The admin API (/__mock/*) speaks plain JSON; its errors are {"error": "…"}.

func writeAdminError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// requireAdminToken guards an admin route with --admin-token.
func (s *Server) requireAdminToken(next http.Handler) http.Handler {
	if s.adminToken == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := bearer(r.Header)
		if tok == "" && strings.HasSuffix(r.URL.Path, "/events/stream") {
			tok = r.URL.Query().Get("access_token") // an EventSource cannot send headers
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeAdminError(w, http.StatusUnauthorized, "the admin API requires Authorization: Bearer <admin token>")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

type wireReload struct {
	OK     bool     `json:"ok"`
	At     string   `json:"at"`
	Errors []string `json:"errors"`
}

type wireStatus struct {
	Version        string               `json:"version"`
	Fixtures       string               `json:"fixtures"`
	ActiveScenario string               `json:"active_scenario"` // of the request's session (X-Mock-Session)
	ServerScenario string               `json:"server_scenario"` // of the server: sessions that chose none run it
	Auth           wireAuth             `json:"auth"`
	Scenarios      []string             `json:"scenarios"`
	Reload         wireReload           `json:"reload"`
	Generation     int                  `json:"generation"`
	Scheduled      int                  `json:"scheduled"` // replies, stream chunks and webhook retries not yet delivered
	Waiting        int                  `json:"waiting"`   // responses waiting out their latency on a virtual clock
	Memory         wireMemory           `json:"memory"`
	Scheduler      schedulerStats       `json:"scheduler"`
	Evicted        state.EvictionCounts `json:"evicted"` // what retention limits and the memory budget evicted since start
	Runtime        wireRuntime          `json:"runtime"`
	Loaded         wireLoaded           `json:"loaded"` // what the fixtures in use hold
}

// wireAuth tells a client (the inspector's composer) which API keys work.
type wireAuth struct {
	Mode string   `json:"mode"` // any | listed
	Keys []string `json:"keys"` // the listed keys that are not expired
}

func authOf(set *scenarios.Set) wireAuth {
	a := wireAuth{Mode: string(set.Settings.Auth.Mode), Keys: []string{}}
	for k, t := range set.Settings.Auth.Tokens {
		if !t.Expired {
			a.Keys = append(a.Keys, k)
		}
	}
	sort.Strings(a.Keys)
	return a
}

type wireLoaded struct {
	Files         int `json:"files"`
	Scenarios     int `json:"scenarios"`
	Conversations int `json:"conversations"`
}

// wireRuntime is the process as the Go runtime sees it: for soak tests and
// for users who wonder where the memory went.
type wireRuntime struct {
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heap_bytes"` // live and unswept heap objects
}

type wireMemory struct {
	Bytes    int64 `json:"bytes"`    // messages, events and journal entries held, all sessions
	Budget   int64 `json:"budget"`   // retention.message_bytes
	Sessions int   `json:"sessions"` // named sessions besides the default one
}

func (s *Server) handleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		st := s.fixtures.Status()
		errs := st.Errors
		if errs == nil {
			errs = []string{}
		}
		names := append([]string{}, set.Names...)
		added := s.added.names()
		if r.Header.Get("X-Mock-Session") != "" {
			sess := s.lockSession(r, set)
			added = append(added, sess.AddedScenarios()...)
			sess.Unlock()
		}
		sort.Strings(added)
		for _, n := range added {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		sched, mem := s.jobs.stats(), s.state.Stats()
		writeJSON(w, http.StatusOK, wireStatus{
			Version:        s.version,
			Fixtures:       s.fixtures.Source(),
			ActiveScenario: s.activeScenario(r, set),
			ServerScenario: *s.scenario.Load(),
			Auth:           authOf(set),
			Scenarios:      names,
			Reload:         wireReload{OK: st.OK, At: st.At.Format(time.RFC3339Nano), Errors: errs},
			Generation:     st.Generation,
			Scheduled:      sched.Pending,
			Waiting:        s.clock.Waiting(),
			Memory:         wireMemory{Bytes: mem.Bytes, Budget: set.Settings.Retention.MessageBytes, Sessions: mem.Sessions},
			Scheduler:      sched,
			Evicted:        mem.Evicted,
			Runtime:        readRuntime(),
			Loaded:         wireLoaded{Files: len(set.Files), Scenarios: len(set.Names), Conversations: len(set.Conversations)},
		})
	})
}

// activeScenario is the scenario a request without X-Mock-Scenario runs:
// its session's, else the server's.
func (s *Server) activeScenario(r *http.Request, set *scenarios.Set) string {
	sess := s.session(r, set)
	sess.Lock()
	name := sess.ActiveScenario()
	sess.Unlock()
	if name == "" {
		name = *s.scenario.Load()
	}
	return name
}

func (s *Server) handleReset() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		sess := s.lockSession(r, set)
		sess.Reset(set)
		sess.Unlock()
		if sess.ID() == "" {
			// The default session follows the server-wide scenario: it
			// goes back to the one active at start too, and the scenarios
			// added for every session go.
			name := s.startScenario
			s.scenario.Store(&name)
			s.added.update(func(m map[string]state.AddedScenario) bool { clear(m); return true })
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	})
}

type wireRequests struct {
	Requests []wireJournalEntry `json:"requests"`
}

func (s *Server) handleRequests() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 0
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeAdminError(w, http.StatusBadRequest, "limit must be a positive whole number")
				return
			}
			limit = n
		}
		var after uint64
		if v := q.Get("after"); v != "" {
			n, ok := parseJournalID(v)
			if !ok {
				writeAdminError(w, http.StatusBadRequest, "after must be a request id such as req_000012")
				return
			}
			after = n
		}
		path := q.Get("path")
		set := s.config(w)
		sess := s.session(r, set)
		sess.Lock()
		var picked []*state.JournalEntry
		for _, e := range sess.Journal() {
			if e.Seq > after && (path == "" || e.Path == path) {
				picked = append(picked, e)
			}
		}
		sess.Unlock()
		if limit > 0 && len(picked) > limit {
			picked = picked[len(picked)-limit:]
		}
		out := wireRequests{Requests: make([]wireJournalEntry, len(picked))}
		for i, e := range picked {
			out.Requests[i] = wireJournal(e)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) handleClearRequests() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		sess := s.session(r, set)
		sess.Lock()
		sess.ClearJournal()
		sess.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleClock reads (GET) or moves (POST {"now"} or {"advance"}) the clock.
func (s *Server) handleClock() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var req struct {
				Now     *string `json:"now"`
				Advance *string `json:"advance"`
			}
			body, tooLarge, ok := readBody(r, 64<<10)
			if !ok {
				return
			}
			if tooLarge || json.Unmarshal(body, &req) != nil || (req.Now == nil) == (req.Advance == nil) {
				writeAdminError(w, http.StatusBadRequest, `send {"now":"<RFC 3339>"} or {"advance":"<duration such as 90s>"}`)
				return
			}
			if req.Now != nil {
				t, err := time.Parse(time.RFC3339Nano, *req.Now)
				if err != nil {
					writeAdminError(w, http.StatusBadRequest, "now must be an RFC 3339 time such as 2026-03-15T14:22:11Z")
					return
				}
				s.moveClock(t)
			} else {
				d, err := time.ParseDuration(*req.Advance)
				if err != nil {
					writeAdminError(w, http.StatusBadRequest, "advance must be a duration such as 90s, 15m or -1h")
					return
				}
				s.moveClock(s.clock.Now().Add(d))
			}
		}
		mode := "wall"
		if s.clock.Virtual() {
			mode = "virtual"
		}
		writeJSON(w, http.StatusOK, map[string]any{"now": s.clock.Now().Format(time.RFC3339Nano), "frozen": s.clock.Frozen(), "mode": mode})
	})
}

// moveClock sets the clock to t. A virtual clock moving forward delivers
// everything that falls due on the way — replies, stream chunks, webhook
// retries, responses waiting out their latency — in time order, before it
// returns.
func (s *Server) moveClock(t time.Time) {
	if s.clock.Virtual() && t.After(s.clock.Now()) {
		s.jobs.advanceTo(t)
		return
	}
	s.clock.Set(t)
}

// handleSetScenario serves PUT /__mock/scenario {"name": "…"}: the active
// scenario of the request's session (X-Mock-Session), or of the server.
func (s *Server) handleSetScenario() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name string `json:"name"`
		}
		body, tooLarge, ok := readBody(r, 64<<10)
		if !ok {
			return
		}
		if tooLarge || json.Unmarshal(body, &req) != nil || req.Name == "" {
			writeAdminError(w, http.StatusBadRequest, `send {"name":"<scenario>"}`)
			return
		}
		set := s.config(w)
		sess := s.lockSession(r, set)
		known := s.lookupScenario(sess, set, req.Name) != nil
		sess.Unlock()
		if !known && req.Name != "default" {
			writeAdminError(w, http.StatusNotFound, "no scenario "+strconv.Quote(req.Name)+"; see GET /__mock/status for the names")
			return
		}
		if id := r.Header.Get("X-Mock-Session"); id != "" {
			sess := s.session(r, set)
			sess.Lock()
			sess.SetActiveScenario(req.Name)
			sess.Unlock()
		} else {
			name := req.Name
			s.scenario.Store(&name)
		}
		writeJSON(w, http.StatusOK, map[string]string{"active_scenario": req.Name})
	})
}

func readRuntime() wireRuntime {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	rt := wireRuntime{Goroutines: runtime.NumGoroutine()}
	if sample[0].Value.Kind() == metrics.KindUint64 {
		rt.HeapBytes = sample[0].Value.Uint64()
	}
	return rt
}
