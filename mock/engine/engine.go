package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/upstream"
	"github.com/msgmock/msgmock/mock/webhooks"
	"github.com/msgmock/msgmock/scenarios"
)

// Options are an Engine's dependencies. Only Fixtures is required.
type Options struct {
	Fixtures *scenarios.Store
	Clock    *clock.Clock // default: the wall clock
	Seed     uint64       // 0: a random seed
	Scenario string       // active at start; default "default"
	Logger   *slog.Logger // default: discard

	// MaxScheduled bounds the jobs (reply chunks and replies) waiting to be
	// delivered; default clock.MaxJobs. Past it a reply is refused and counted.
	MaxScheduled int

	// RenderEvent is an event as its API's feed shows it: the body of its
	// webhook deliveries. Required when the fixtures list webhooks.
	RenderEvent func(*state.Event) []byte

	// Speed divides every scripted wait — latency, a reply's after, a
	// stream's first token, pace and stalls — so that a recorded pace
	// replays faster (2) or slower (0.5); 0 means 1. Rate-limit windows and
	// webhook back-off keep their time.
	Speed float64
}

// Engine is msgmock's behaviour without HTTP. See the package documentation.
type Engine struct {
	fixtures *scenarios.Store
	clock    *clock.Clock
	jobs     *clock.Scheduler
	hooks    *webhooks.Dispatcher
	store    *state.Store
	seed     uint64
	log      *slog.Logger
	speed    float64 // Options.Speed; 1: scripted waits as written

	scenario      atomic.Pointer[string] // the server-wide active scenario
	startScenario string                 // what a reset of the default session restores
	added         addedScenarios         // scenarios added at run time for every session
	passthrough   atomic.Pointer[passthroughClient]
	streams       atomic.Int32 // open event streams, all sessions together
	// templateFailures counts reply templates that broke their budget.
	templateFailures atomic.Int64
	limits           limiter     // rate-limit windows, all sessions
	addedLimits      atomic.Bool // a scenario added at run time has rate limits

	ctx    context.Context // ends with Close: held requests and streams watch it
	cancel context.CancelFunc
}

// New returns an Engine whose background work (reply timers, stream
// pacing, webhook deliveries) lives until ctx ends or Close is called.
func New(ctx context.Context, opts Options) *Engine {
	if opts.Fixtures == nil {
		panic("engine.New: Options.Fixtures is required")
	}
	e := &Engine{fixtures: opts.Fixtures, clock: opts.Clock, seed: opts.Seed, log: opts.Logger, speed: opts.Speed}
	if e.speed <= 0 {
		e.speed = 1
	}
	if e.clock == nil {
		e.clock = clock.New(nil)
	}
	if e.seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		e.seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	name := opts.Scenario
	if name == "" {
		name = "default"
	}
	e.scenario.Store(&name)
	e.startScenario = name
	render := opts.RenderEvent
	if render == nil {
		render = func(*state.Event) []byte { return []byte("{}") }
	}
	e.jobs = clock.NewScheduler(e.log, opts.MaxScheduled, e.clock)
	e.hooks = webhooks.New(e.jobs, render)
	e.store = state.New(state.Options{
		Seed:        e.seed,
		OnEvent:     func(ev *state.Event, set *scenarios.Set) { e.hooks.Publish(set, ev) },
		WantsEvents: func(set *scenarios.Set) bool { return e.hooks.Wants(set) },
		Logger:      e.log,
	})
	e.fixtures.SetGuard(e.keepActiveScenarios)
	e.ctx, e.cancel = context.WithCancel(ctx)
	e.hooks.Start(e.ctx)
	e.jobs.Start(e.ctx)
	return e
}

// Close stops scheduled replies and webhook deliveries and waits for them.
func (e *Engine) Close() {
	e.cancel()
	e.jobs.Close()
	e.hooks.Close()
}

// Done is closed when the engine is closed (or its context ends): streams
// and requests held by a fault end then.
func (e *Engine) Done() <-chan struct{} { return e.ctx.Done() }

// Logger is where the engine logs; handlers log there too.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Fixtures is the store of configurations the engine reads.
func (e *Engine) Fixtures() *scenarios.Store { return e.fixtures }

// Seed is the seed in use (the drawn one when Options.Seed was 0).
func (e *Engine) Seed() uint64 { return e.seed }

// Clock is the clock every id, timestamp and wait is read from.
func (e *Engine) Clock() *clock.Clock { return e.clock }

// scale is a scripted wait at the engine's speed.
func (e *Engine) scale(d time.Duration) time.Duration {
	if e.speed == 1 || d <= 0 {
		return d
	}
	return time.Duration(float64(d) / e.speed)
}

// Sleep waits d on the engine's clock, or until ctx ends; it reports
// whether the whole delay passed.
func (e *Engine) Sleep(ctx context.Context, d time.Duration) bool { return e.clock.Sleep(ctx, d) }

// MoveClock sets the clock to t; a virtual clock moving forward delivers,
// in time order, everything that falls due on the way before it returns.
func (e *Engine) MoveClock(t time.Time) { e.jobs.Move(t) }

// Deliveries lists the last webhook attempts, oldest first.
func (e *Engine) Deliveries() []webhooks.Attempt { return e.hooks.Attempts() }

// Sessions are the named sessions, most recently used first.
func (e *Engine) Sessions() []string { return e.store.SessionIDs() }

// Stats is what /__mock/status shows of the engine.
type Stats struct {
	Scheduler        clock.Stats
	Store            state.Stats
	Waiting          int   // responses waiting out their latency on a virtual clock
	TemplateFailures int64 // reply templates that broke their budget (each answered 500)
	Streams          int   // event streams open
}

// Stats returns the engine's counts.
func (e *Engine) Stats() Stats {
	return Stats{Scheduler: e.jobs.Stats(), Store: e.store.Stats(), Waiting: e.clock.Waiting(),
		TemplateFailures: e.templateFailures.Load(), Streams: int(e.streams.Load())}
}

// Record appends a captured journal entry to session's journal.
func (e *Engine) Record(set *scenarios.Set, session string, entry *state.JournalEntry) {
	entry.Capture() // the copying, before the session is locked
	tx := e.Begin(set, session)
	defer tx.End()
	tx.sess.Record(entry)
}

// ServerScenario is the server-wide active scenario: what sessions that
// chose none run.
func (e *Engine) ServerScenario() string { return *e.scenario.Load() }

// ActiveScenario is the scenario session's requests run without
// X-Mock-Scenario: the session's own, else the server's.
func (e *Engine) ActiveScenario(set *scenarios.Set, session string) string {
	tx := e.Begin(set, session)
	name := tx.sess.ActiveScenario()
	tx.End()
	if name == "" {
		name = e.ServerScenario()
	}
	return name
}

// SetScenario makes name the active scenario of session, or of the server
// when session is ""; it reports false, changing nothing, when no scenario
// has that name ("default" always exists).
func (e *Engine) SetScenario(set *scenarios.Set, session, name string) bool {
	tx := e.Begin(set, session)
	defer tx.End()
	if name != "default" && e.lookup(tx.sess, set, name) == nil {
		return false
	}
	if session != "" {
		tx.sess.SetActiveScenario(name)
	} else {
		e.scenario.Store(&name)
	}
	return true
}

// Reset restores session to the fixtures' state: its conversations,
// events, journal, counters and states, its rate-limit windows, and its
// scenarios. Resetting the
// default session also restores the server-wide scenario active at start
// and removes the scenarios added for every session.
func (e *Engine) Reset(set *scenarios.Set, session string) {
	tx := e.Begin(set, session)
	tx.sess.Reset(set)
	tx.End()
	e.resetLimits(session)
	if session == "" {
		name := e.startScenario
		e.scenario.Store(&name)
		e.added.update(func(m map[string]state.AddedScenario) bool { clear(m); return true })
	}
}

// passthroughClient is the client of the current settings' upstream, made
// once per URL and timeout so that its connections are reused.
type passthroughClient struct {
	settings scenarios.Passthrough
	client   *upstream.Client
}

// Upstream is the client of set's pass-through upstream, or nil when the
// settings name none.
func (e *Engine) Upstream(set *scenarios.Set) *upstream.Client {
	want := set.Settings.Passthrough
	if want.URL == "" {
		return nil
	}
	if pc := e.passthrough.Load(); pc != nil && pc.settings == want {
		return pc.client
	}
	c, err := upstream.New(want.URL, want.Timeout)
	if err != nil {
		return nil // the loader checked the URL
	}
	e.passthrough.Store(&passthroughClient{settings: want, client: c})
	return c
}

// keepActiveScenarios refuses a reload that would make a scenario some
// session (or the server) has active vanish without a word: requests would
// silently fall back to the default scenario, and with pass-through on,
// even go to the real service. Switch scenario first, or restore the file.
func (e *Engine) keepActiveScenarios(cur, next *scenarios.Set) scenarios.Problems {
	active := map[string]bool{}
	if name := e.ServerScenario(); name != "" {
		active[name] = true
	}
	e.store.Each(func(s *state.Session) {
		if name := s.ActiveScenario(); name != "" {
			if _, added := s.AddedScenario(name); !added {
				active[name] = true
			}
		}
	})
	var probs scenarios.Problems
	for name := range active {
		if name == "default" || next.Scenario(name) != nil {
			continue
		}
		if _, added := e.added.get(name); added {
			continue
		}
		file := "fixtures"
		if sc := cur.Scenario(name); sc != nil {
			file = sc.File
		}
		probs = append(probs, scenarios.Problem{File: file, Line: 1, Col: 1,
			Msg: fmt.Sprintf("scenario %q is active (PUT /__mock/scenario or --scenario) and this change removes it; the last good configuration keeps serving — switch to another scenario first, or restore it", name)})
	}
	sort.Slice(probs, func(i, j int) bool { return probs[i].Msg < probs[j].Msg })
	return probs
}
