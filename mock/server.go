package mock

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/msgmock/msgmock/mock/admin"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/conversations"
	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/mock/workspace"
	"github.com/msgmock/msgmock/scenarios"
)

// Options are a Server's dependencies. Only Fixtures is required.
type Options struct {
	Fixtures   *scenarios.Store
	Clock      *clock.Clock // default: the wall clock
	Seed       uint64       // 0: a random seed
	Scenario   string       // active at start; default "default"
	AdminToken string       // if set, /__mock/* requires Authorization: Bearer <it>
	Logger     *slog.Logger // default: discard
	Version    string

	// MaxScheduled bounds the jobs (reply chunks and replies) waiting to be
	// delivered; default 100,000. Past it a reply is refused and counted.
	MaxScheduled int

	// RequestLog, when set, writes each request's log line by hand, in the
	// format of Logger's handler (see RequestLog); Logger still decides
	// whether Info lines are written and carries every other line.
	RequestLog *RequestLog

	// Speed divides every scripted wait (latency, a reply's after, a
	// stream's first token, pace and stalls): 2 replays a recording twice
	// as fast. 0 means 1.
	Speed float64

	// AllowedHosts are Host header names accepted besides loopback names and
	// IP addresses (--allowed-host; the settings' security.allowed_hosts add
	// to them), as scenarios.AllowedHost normalises them: lower case, each
	// with an optional :port; "*" accepts any host.
	AllowedHosts []string
}

// Server serves both APIs and the admin API. It is an http.Handler.
type Server struct {
	engine        *engine.Engine
	log           *slog.Logger
	handler       http.Handler
	conversations *conversations.API
	workspace     *workspace.API
	admin         *admin.API
	bodies        wire.BodyBudget // request bodies being read, all requests together
	allowedHosts  []string        // Options.AllowedHosts
	requestLog    *RequestLog     // Options.RequestLog
}

// dialects are the two APIs' ways of answering, by API.
var dialects = map[scenarios.API]wire.Dialect{
	scenarios.APIConversations: conversations.Dialect{},
	scenarios.APIWorkspace:     workspace.Dialect{},
}

// NewServer returns a Server reading its configuration from opts.Fixtures.
// Its background work (reply timers, stream pacing, webhook deliveries)
// lives until ctx ends or Close is called, whichever is first.
func NewServer(ctx context.Context, opts Options) *Server {
	if opts.Fixtures == nil {
		panic("mock.NewServer: Options.Fixtures is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	e := engine.New(ctx, engine.Options{
		Fixtures:     opts.Fixtures,
		Clock:        opts.Clock,
		Seed:         opts.Seed,
		Scenario:     opts.Scenario,
		Logger:       log,
		MaxScheduled: opts.MaxScheduled,
		RenderEvent:  webhookBody,
		Speed:        opts.Speed,
	})
	s := &Server{
		engine:        e,
		log:           log,
		conversations: conversations.New(e),
		workspace:     workspace.New(e),
		admin: admin.New(admin.Options{Engine: e, Token: opts.AdminToken, Version: version,
			Dialects: []wire.Dialect{dialects[scenarios.APIConversations], dialects[scenarios.APIWorkspace]}}),
	}
	s.allowedHosts, s.requestLog = opts.AllowedHosts, opts.RequestLog
	s.handler = s.middleware(s.routes())
	return s
}

// webhookBody is an event as its API's feed shows it, for webhooks.
func webhookBody(ev *state.Event) []byte {
	body, _ := json.Marshal(dialects[ev.Message.API].Event(ev))
	return body
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops scheduled replies and ends open streams, then waits for them.
// Cancelling NewServer's context does the same without the wait.
// In-flight requests are the http.Server's to drain (Shutdown).
func (s *Server) Close() { s.engine.Close() }

// Seed returns the seed in use (the drawn one when Options.Seed was 0).
func (s *Server) Seed() uint64 { return s.engine.Seed() }

// GCPercent is the garbage collector's target msgmock sets (unless GOGC
// is set): the heap may grow by as much as is live between collections,
// Go's default. With replies waiting packed the live heap under wrk is
// about 11 MB, and 75 made the collector run twice as often as before for
// the same peak; 150 halved that again but let the connection soak's heap
// (a thousand connections' buffers live) reach the soft memory limit:
// 65 MiB of RSS where 75 gave 53 and 100 gives 55. The soft memory limit
// (MemoryLimit) bounds the heap whatever this is.
const GCPercent = 100

// MemoryLimit is the Go runtime's soft memory limit msgmock sets for a
// message budget (retention.message_bytes): the budget and 8 MiB, so that
// the RSS (the limit, and some 11 MiB of the binary's own pages) stays
// within the budget plus 20 MiB. The state holds at most the budget less
// state.Reserve (a quarter of it): at budget-full that is the collector's
// room under the limit, besides what the configuration and the runtime
// take, and replies and webhook deliveries waiting (state.PendingLimit
// each, when there are any) share it. The state being pointer-free, a
// collection costs little however much it holds.
func MemoryLimit(budget int64) int64 { return budget + 8<<20 }
