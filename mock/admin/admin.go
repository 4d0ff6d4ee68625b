package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// Options are the admin API's dependencies.
type Options struct {
	Engine  *engine.Engine
	Token   string // if set, the guarded routes require Authorization: Bearer <it>
	Version string
	// Dialects render each API's messages and events, for the views that
	// show both APIs (conversations, the event stream).
	Dialects []wire.Dialect
}

// API serves the admin API (/__mock/*) and the inspector.
type API struct {
	e        *engine.Engine
	token    string
	version  string
	dialects map[scenarios.API]wire.Dialect
}

// New returns the admin API.
func New(opts Options) *API {
	a := &API{e: opts.Engine, token: opts.Token, version: opts.Version, dialects: map[scenarios.API]wire.Dialect{}}
	for _, d := range opts.Dialects {
		a.dialects[d.API()] = d
	}
	return a
}

// Shape is the admin API's error shape: {"error": "…"} (and "errors", a
// list, when a scenario sent over the API has problems).
type Shape struct{}

// WriteProblem answers p as the admin API does.
func (Shape) WriteProblem(w http.ResponseWriter, p *wire.Problem) {
	message := p.Message
	switch p.Kind {
	case wire.NoRoute:
		message = "no admin endpoint " + p.Subject
	case wire.NoMethod:
		message = "method " + p.Subject + " not allowed; allowed: " + w.Header().Get("Allow")
	case wire.Internal:
		message = "internal error; see the server log"
	}
	if list, ok := p.Detail.([]string); ok {
		wire.WriteJSON(w, p.Status, map[string]any{"error": message, "errors": list})
		return
	}
	wire.WriteJSON(w, p.Status, map[string]string{"error": message})
}

func problem(status int, message string) *wire.Problem {
	return &wire.Problem{Status: status, Message: message}
}

// Guard requires the admin token, when one is set, on h: as a Bearer
// token, or for an EventSource (which cannot send headers) on the stream
// as ?access_token=.
func (a *API) Guard(h wire.HandlerFunc) wire.HandlerFunc {
	if a.token == "" {
		return h
	}
	return func(x *wire.Exchange, r *http.Request) *wire.Problem {
		tok, _ := wire.Bearer(r.Header)
		if tok == "" && strings.HasSuffix(r.URL.Path, "/events/stream") {
			tok = r.URL.Query().Get("access_token")
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(a.token)) != 1 {
			x.Header().Set("WWW-Authenticate", "Bearer")
			return problem(http.StatusUnauthorized, "the admin API requires Authorization: Bearer <admin token>")
		}
		return h(x, r)
	}
}

// Health serves GET /__mock/health.
func (a *API) Health(x *wire.Exchange, r *http.Request) *wire.Problem {
	wire.WriteJSON(x, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

type reload struct {
	OK     bool     `json:"ok"`
	At     string   `json:"at"`
	Errors []string `json:"errors"`
}

type status struct {
	Version        string               `json:"version"`
	Fixtures       string               `json:"fixtures"`
	ActiveScenario string               `json:"active_scenario"` // of the request's session (X-Mock-Session)
	ServerScenario string               `json:"server_scenario"` // of the server: sessions that chose none run it
	Auth           auth                 `json:"auth"`
	Scenarios      []string             `json:"scenarios"`
	Reload         reload               `json:"reload"`
	Generation     int                  `json:"generation"`
	Scheduled      int                  `json:"scheduled"` // replies, stream chunks and webhook retries not yet delivered
	Waiting        int                  `json:"waiting"`   // responses waiting out their latency on a virtual clock
	Memory         memory               `json:"memory"`
	Scheduler      schedulerStats       `json:"scheduler"`
	Streams        int                  `json:"streams"`           // event streams open
	TemplateFails  int64                `json:"template_failures"` // reply templates that broke their budget
	Warnings       []string             `json:"warnings"`          // what loads but cannot be meant (rules no request reaches)
	Evicted        state.EvictionCounts `json:"evicted"`           // what retention limits and the memory budget evicted since start
	Runtime        runtimeStats         `json:"runtime"`
	Loaded         loaded               `json:"loaded"` // what the fixtures in use hold
	RateLimits     rateLimits           `json:"rate_limits"`
}

// rateLimits are the request's session's rate-limit windows, and the
// counts of every session's.
type rateLimits struct {
	Windows []engine.WindowView `json:"windows"`
	engine.LimiterStats
}

type schedulerStats struct {
	Pending int   `json:"pending"`
	Bytes   int64 `json:"bytes"`
	Refused int64 `json:"refused"`
	Panics  int64 `json:"panics"`
}

// auth tells a client which API keys work.
type auth struct {
	Mode string   `json:"mode"` // any | listed
	Keys []string `json:"keys"` // the listed keys that are not expired, masked
}

// authOf lists the settings' keys masked as the journal masks them
// ("sk_t…3456 (fp 38782e13)": the fingerprint tells them apart), unless
// settings.security.mask_credentials is false.
func authOf(set *scenarios.Set) auth {
	a := auth{Mode: string(set.Settings.Auth.Mode), Keys: []string{}}
	for k, t := range set.Settings.Auth.Tokens {
		if t.Expired {
			continue
		}
		if set.Settings.Security.MaskCredentials {
			k = secret.MaskHeader("X-Api-Key", k)
		}
		a.Keys = append(a.Keys, k)
	}
	sort.Strings(a.Keys)
	return a
}

type loaded struct {
	Files         int `json:"files"`
	Scenarios     int `json:"scenarios"`
	Conversations int `json:"conversations"`
}

// runtimeStats is the process as the Go runtime sees it: for soak tests and
// for users who wonder where the memory went.
type runtimeStats struct {
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heap_bytes"` // live and unswept heap objects
}

type memory struct {
	Bytes    int64 `json:"bytes"`    // messages, events and journal entries held, all sessions
	Budget   int64 `json:"budget"`   // retention.message_bytes
	Sessions int   `json:"sessions"` // named sessions besides the default one
}

// Status serves GET /__mock/status.
func (a *API) Status(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	store := a.e.Fixtures()
	st := store.Status()
	errs := st.Errors
	if errs == nil {
		errs = []string{}
	}
	session := r.Header.Get("X-Mock-Session")
	names := append([]string{}, set.Names...)
	server, own := a.e.AddedScenarios(set, session)
	added := append(server, own...)
	sort.Strings(added)
	for _, n := range added {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	stats := a.e.Stats()
	sched, mem := stats.Scheduler, stats.Store
	wire.WriteJSON(x, http.StatusOK, status{
		Version:        a.version,
		Fixtures:       store.Source(),
		ActiveScenario: a.e.ActiveScenario(set, wire.SessionID(r)),
		ServerScenario: a.e.ServerScenario(),
		Auth:           authOf(set),
		Scenarios:      names,
		Reload:         reload{OK: st.OK, At: st.At.Format(time.RFC3339Nano), Errors: errs},
		Generation:     st.Generation,
		Scheduled:      sched.Pending,
		Waiting:        stats.Waiting,
		Memory:         memory{Bytes: mem.Bytes, Budget: set.Settings.Retention.MessageBytes, Sessions: mem.Sessions},
		Scheduler:      schedulerStats{Pending: sched.Pending, Bytes: sched.Bytes, Refused: sched.Refused, Panics: sched.Panics},
		Streams:        stats.Streams,
		TemplateFails:  stats.TemplateFailures,
		Warnings:       set.Warnings(),
		Evicted:        mem.Evicted,
		Runtime:        readRuntime(),
		Loaded:         loaded{Files: len(set.Files), Scenarios: len(set.Names), Conversations: len(set.Conversations)},
		RateLimits:     limitsOf(a.e, wire.SessionID(r)),
	})
	return nil
}

func limitsOf(e *engine.Engine, session string) rateLimits {
	windows, stats := e.Windows(session, func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) })
	return rateLimits{Windows: windows, LimiterStats: stats}
}

// Reset serves POST /__mock/reset.
func (a *API) Reset(x *wire.Exchange, r *http.Request) *wire.Problem {
	a.e.Reset(x.Set, wire.SessionID(r))
	wire.WriteJSON(x, http.StatusOK, map[string]string{"status": "reset"})
	return nil
}

// readJSON reads a small JSON request body into v; a problem when it is
// too large or not the JSON wanted.
func readJSON(x *wire.Exchange, r *http.Request, v any, want string) *wire.Problem {
	body, res := x.ReadBody(r, 64<<10)
	if p := bodyProblem(res); p != nil {
		return p
	}
	if res == wire.BodyTooLarge || json.Unmarshal(body, v) != nil {
		return problem(http.StatusBadRequest, want)
	}
	return nil
}

// bodyProblem answers a body the server could not take: the client gone
// (nothing to answer, but nothing done either) or the body budget spent.
func bodyProblem(res wire.BodyResult) *wire.Problem {
	switch res {
	case wire.BodyGone:
		return &wire.Problem{Status: wire.StatusClientClosed, Message: "the request body did not arrive"}
	case wire.BodyBusy:
		return problem(http.StatusServiceUnavailable, "too many request bodies are being read; retry")
	}
	return nil
}

// Clock reads (GET) or moves (POST {"now"} or {"advance"}) the clock.
func (a *API) Clock(x *wire.Exchange, r *http.Request) *wire.Problem {
	clk := a.e.Clock()
	if r.Method == http.MethodPost {
		var req struct {
			Now     *string `json:"now"`
			Advance *string `json:"advance"`
		}
		const want = `send {"now":"<RFC 3339>"} or {"advance":"<duration such as 90s>"}`
		if p := readJSON(x, r, &req, want); p != nil {
			return p
		}
		if (req.Now == nil) == (req.Advance == nil) {
			return problem(http.StatusBadRequest, want)
		}
		var t time.Time
		if req.Now != nil {
			var err error
			if t, err = time.Parse(time.RFC3339Nano, *req.Now); err != nil {
				return problem(http.StatusBadRequest, "now must be an RFC 3339 time such as 2026-03-15T14:22:11Z")
			}
		} else {
			d, err := time.ParseDuration(*req.Advance)
			if err != nil {
				return problem(http.StatusBadRequest, "advance must be a duration such as 90s, 15m or -1h")
			}
			t = clk.Now().Add(d)
		}
		// A running clock keeps an offset from the wall clock, a Duration:
		// past about 292 years it would saturate and land elsewhere.
		if t.Before(clockMin) || !t.Before(clockMax) {
			return problem(http.StatusBadRequest, "the clock must stay between 1970-01-01T00:00:00Z and 2199-12-31T23:59:59Z; got "+t.UTC().Format(time.RFC3339Nano))
		}
		a.e.MoveClock(t)
	}
	mode := "wall"
	if clk.Virtual() {
		mode = "virtual"
	}
	wire.WriteJSON(x, http.StatusOK, map[string]any{"now": clk.Now().Format(time.RFC3339Nano), "frozen": clk.Frozen(), "mode": mode})
	return nil
}

// The clock's range: what every kind of clock can hold exactly.
var (
	clockMin = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	clockMax = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// SetScenario serves PUT /__mock/scenario {"name": "…"}: the active
// scenario of the request's session (X-Mock-Session), or of the server.
func (a *API) SetScenario(x *wire.Exchange, r *http.Request) *wire.Problem {
	var req struct {
		Name string `json:"name"`
	}
	const want = `send {"name":"<scenario>"}`
	if p := readJSON(x, r, &req, want); p != nil {
		return p
	}
	if req.Name == "" {
		return problem(http.StatusBadRequest, want)
	}
	if !a.e.SetScenario(x.Set, r.Header.Get("X-Mock-Session"), req.Name) {
		return problem(http.StatusNotFound, "no scenario "+strconv.Quote(req.Name)+"; see GET /__mock/status for the names")
	}
	wire.WriteJSON(x, http.StatusOK, map[string]string{"active_scenario": req.Name})
	return nil
}

type addedScenario struct {
	Name    string `json:"name"`
	Session string `json:"session,omitempty"`
	Rules   int    `json:"rules"`
	Body    string `json:"body,omitempty"`
}

// PutScenario serves PUT /__mock/scenarios/{name}: the body, YAML or JSON,
// validated as a fixtures file is; problems answer 400 with each one as
// FILE:LINE:COL: message.
func (a *API) PutScenario(x *wire.Exchange, r *http.Request) *wire.Problem {
	name := x.PathVar("name")
	body, res := x.ReadBody(r, 256<<10)
	if p := bodyProblem(res); p != nil {
		return p
	}
	if res == wire.BodyTooLarge {
		return problem(http.StatusRequestEntityTooLarge, "a scenario is at most 256 KiB")
	}
	sc, err := scenarios.ParseScenario(name, body)
	if err == nil {
		if probs := x.Set.UnknownProfiles(sc); len(probs) > 0 {
			err = probs // a stream profile the settings in use do not define
		}
	}
	if err != nil {
		var probs scenarios.Problems
		msgs := []string{err.Error()}
		if errors.As(err, &probs) {
			msgs = probs.Strings()
		}
		return &wire.Problem{Status: http.StatusBadRequest, Message: "scenario " + strconv.Quote(name) + " has problems", Detail: msgs}
	}
	session := r.Header.Get("X-Mock-Session")
	if err := a.e.AddScenario(x.Set, session, state.AddedScenario{Scenario: sc, Body: body}); err != nil {
		return problem(http.StatusConflict, "at most "+strconv.Itoa(engine.MaxAddedScenarios)+" added scenarios, and 4 MiB of them for every session, are kept; delete one first")
	}
	wire.WriteJSON(x, http.StatusOK, addedScenario{Name: name, Session: session, Rules: len(sc.Rules)})
	return nil
}

// GetScenario serves GET /__mock/scenarios/{name}: the scenario as it was sent.
func (a *API) GetScenario(x *wire.Exchange, r *http.Request) *wire.Problem {
	name := x.PathVar("name")
	session := r.Header.Get("X-Mock-Session")
	added, ok := a.e.AddedScenario(x.Set, session, name)
	if !ok {
		return problem(http.StatusNotFound, "no scenario "+strconv.Quote(name)+" was added over the API")
	}
	wire.WriteJSON(x, http.StatusOK, addedScenario{Name: name, Session: session, Rules: len(added.Scenario.Rules), Body: string(added.Body)})
	return nil
}

// DeleteScenario serves DELETE /__mock/scenarios/{name}.
func (a *API) DeleteScenario(x *wire.Exchange, r *http.Request) *wire.Problem {
	name := x.PathVar("name")
	if !a.e.RemoveScenario(x.Set, r.Header.Get("X-Mock-Session"), name) {
		return problem(http.StatusNotFound, "no scenario "+strconv.Quote(name)+" was added over the API")
	}
	x.WriteHeader(http.StatusNoContent)
	return nil
}

// ListScenarios serves GET /__mock/scenarios: the names added over the
// API, for the request's session and for every session.
func (a *API) ListScenarios(x *wire.Exchange, r *http.Request) *wire.Problem {
	server, own := a.e.AddedScenarios(x.Set, r.Header.Get("X-Mock-Session"))
	// Empty lists, not null, as the admin document has them.
	if server == nil {
		server = []string{}
	}
	if own == nil {
		own = []string{}
	}
	wire.WriteJSON(x, http.StatusOK, map[string][]string{"server": server, "session": own})
	return nil
}

// Deliveries serves GET /__mock/webhooks/deliveries: every attempt, oldest first.
func (a *API) Deliveries(x *wire.Exchange, r *http.Request) *wire.Problem {
	wire.WriteJSON(x, http.StatusOK, map[string]any{"deliveries": a.e.Deliveries()})
	return nil
}

func readRuntime() runtimeStats {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	rt := runtimeStats{Goroutines: runtime.NumGoroutine()}
	if sample[0].Value.Kind() == metrics.KindUint64 {
		rt.HeapBytes = sample[0].Value.Uint64()
	}
	return rt
}
