// Package mock is msgmock's HTTP server: the Conversations API, the
// Workspace Messages API, the in-memory store, events and the admin API.
//
// It reads its configuration from a *scenarios.Store, one immutable
// snapshot per request, and never touches the file system itself.
package mock

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Options are a Server's dependencies. Only Fixtures is required.
type Options struct {
	Fixtures   *scenarios.Store
	Clock      *Clock       // default: the wall clock
	Seed       uint64       // 0: a random seed
	Scenario   string       // active at start; default "default"
	AdminToken string       // if set, /__mock/* requires Authorization: Bearer <it>
	Logger     *slog.Logger // default: discard
	Version    string

	// MaxScheduled bounds the jobs (reply chunks and replies) waiting to be
	// delivered; default 100,000. Past it a reply is refused and counted.
	MaxScheduled int

	// AllowedHosts are Host header values accepted besides loopback names
	// and addresses and ListenAddr (--allowed-host; the settings'
	// security.allowed_hosts add to them): names or addresses, lower case,
	// each with an optional :port; "*" accepts any host.
	AllowedHosts []string
	// ListenAddr is the address the server really listens on (the port
	// chosen for :0 included), whose host a request may name.
	ListenAddr string
}

// Server serves both APIs and the admin API. It is an http.Handler.
type Server struct {
	passthrough atomic.Pointer[passthroughClient] // settings.passthrough's client
	fixtures    *scenarios.Store
	clock       *Clock
	seed        uint64
	adminToken  string
	log         *slog.Logger
	version     string
	handler     http.Handler

	state         *state.Store
	scenario      atomic.Pointer[string] // the server-wide active scenario
	added         addedScenarios         // scenarios added over the admin API for every session
	startScenario string                 // what reset restores
	jobs          *scheduler             // delayed replies, stream chunks, webhook retries
	hooks         *webhooks

	// ctx ends when Close is called; reply timers and streams watch it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewServer returns a Server reading its configuration from opts.Fixtures.
// Its background work (reply timers, stream pacing, webhook deliveries)
// lives until ctx ends or Close is called, whichever is first.
func NewServer(ctx context.Context, opts Options) *Server {
	if opts.Fixtures == nil {
		panic("mock.NewServer: Options.Fixtures is required")
	}
	s := &Server{
		fixtures:   opts.Fixtures,
		clock:      opts.Clock,
		seed:       opts.Seed,
		adminToken: opts.AdminToken,
		log:        opts.Logger,
		version:    opts.Version,
	}
	if s.clock == nil {
		s.clock = NewClock(nil)
	}
	if s.seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		s.seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.version == "" {
		s.version = "dev"
	}
	name := opts.Scenario
	if name == "" {
		name = "default"
	}
	s.scenario.Store(&name)
	s.startScenario = name
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.jobs = newScheduler(s.log, opts.MaxScheduled, s.clock)
	s.hooks = newWebhooks(s.jobs)
	s.hooks.start(s.ctx, &s.wg)
	s.state = state.New(state.Options{
		Seed:    s.seed,
		OnEvent: func(ev *state.Event) { s.hooks.publish(s.fixtures.Current(), ev) },
		Logger:  s.log,
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.jobs.run(s.ctx)
	}()
	s.handler = s.middleware(s.routes())
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops scheduled replies and ends open streams, then waits for them.
// Cancelling NewServer's context does the same without the wait.
// In-flight requests are the http.Server's to drain (Shutdown).
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Seed returns the seed in use (the drawn one when Options.Seed was 0).
func (s *Server) Seed() uint64 { return s.seed }

// session returns the request's session (unlocked).
func (s *Server) session(r *http.Request, set *scenarios.Set) *state.Session {
	return s.state.Session(sessionID(r), set)
}

// sessionID is the request's X-Mock-Session; an EventSource, which cannot
// send headers, names it with ?session= on the stream routes.
func sessionID(r *http.Request) string {
	if id := r.Header.Get("X-Mock-Session"); id != "" {
		return id
	}
	if strings.HasSuffix(r.URL.Path, "/events/stream") {
		return r.URL.Query().Get("session")
	}
	return ""
}

// lockSession returns the request's session, locked and up to date with set.
func (s *Server) lockSession(r *http.Request, set *scenarios.Set) *state.Session {
	return s.state.Lock(sessionID(r), set)
}

// timestampA renders a Conversations API timestamp: RFC 3339, UTC, whole
// seconds. The last second rendered is kept: under load most requests of a
// second share it instead of formatting it again.
func timestampA(t time.Time) string {
	sec := t.Unix()
	if c := lastStampA.Load(); c != nil && c.sec == sec {
		return c.text
	}
	text := t.UTC().Truncate(time.Second).Format(time.RFC3339)
	lastStampA.Store(&stampA{sec: sec, text: text})
	return text
}

type stampA struct {
	sec  int64
	text string
}

var lastStampA atomic.Pointer[stampA]

// GCPercent is the garbage collector's target msgmock sets (unless GOGC
// is set): the heap may grow by 75% of what is live between collections.
const GCPercent = 75

// MemoryLimit is the Go runtime's soft memory limit msgmock sets for a
// message budget (retention.message_bytes): the budget, what replies and
// webhook deliveries may hold while they wait (pendingLimit each), and 4 MiB
// for the runtime, the configuration and requests in flight. Near it the
// garbage collector works harder instead of letting the heap double, which
// keeps the process's RSS within about the budget plus 20 MiB.
func MemoryLimit(budget int64) int64 { return budget + 2*pendingLimit(budget) + 4<<20 }
