// Package mocktest starts msgmock inside a Go test process, the way
// net/http/httptest starts a server: on 127.0.0.1 with a free port, closed
// when the test ends.
//
//	func TestSignup(t *testing.T) {
//		mm := mocktest.New(t, mocktest.WithSeed(42))
//		app := myapp.New(mm.URL) // point the client under test at msgmock
//		app.SendWelcome("usr_1")
//
//		reqs := mm.Requests(t, "/v1/messages")
//		if len(reqs) != 1 || reqs[0].Status != 200 {
//			t.Fatalf("sent %+v", reqs)
//		}
//	}
//
// Without options it serves the built-in fixtures (the seed documents'
// conversation, keys and scenarios). The journal, reset and scenario
// helpers call msgmock's admin API, so a test sees what any client would.
//
// # Assertions
//
// Verify, VerifyInOrder, Unmatched and AssertAllUsed ask msgmock
// (POST /__mock/verify, GET /__mock/unmatched, GET
// /__mock/scenarios/{name}/usage) and fail the test with the report msgmock
// writes — what was expected, what was found, the closest requests with
// each field that differed — the same text the npm client and the
// inspector show:
//
//	mm.Verify(t, mocktest.Pattern{API: "conversations", When: map[string]any{
//		"sender_id": "usr_1", "text": mocktest.Contains("invoice"),
//	}}, mocktest.Exactly(2))
//	mm.VerifyInOrder(t, mocktest.Pattern{Rule: "login-fails"}, mocktest.Pattern{Rule: "login-ok"})
//	mm.Unmatched(t, "/v1/messages") // every send was answered by a rule
//	mm.AssertAllUsed(t, "billing")  // every rule fired, as often as its times
//
// They read the helper's session (Session). A check that does not hold
// reports with t.Error; a pattern msgmock refuses, or a call that fails,
// stops the test with t.Fatal.
package mocktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

// Server is a running msgmock.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234, to put in place
	// of the APIs' https://api.example… base.
	URL string

	mock    *mock.Server
	http    *http.Server
	session string
	client  *http.Client
}

type config struct {
	fsys     fs.FS
	source   string
	seed     uint64
	now      *time.Time
	scenario string
	logger   *slog.Logger
	virtual  bool
}

// An Option configures a Server.
type Option func(*config)

// WithFixturesDir serves the fixtures directory dir instead of the built-in set.
func WithFixturesDir(dir string) Option {
	return func(c *config) { c.fsys, c.source = os.DirFS(dir), dir }
}

// WithFixtures serves fixtures from fsys (for example an embed.FS or a
// fstest.MapFS) instead of the built-in set.
func WithFixtures(fsys fs.FS) Option {
	return func(c *config) { c.fsys, c.source = fsys, "fs" }
}

// WithSeed fixes the seed of ids, fake text, chance rolls and latency
// samples; with WithNow, the same requests give the same bytes every run.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithNow freezes the clock that stamps ids and timestamps at t.
func WithNow(t time.Time) Option { return func(c *config) { c.now = &t } }

// WithVirtualClock runs every wait — reply delays, stream pacing, response
// latency, webhook back-off — on a clock that only Advance moves, so a
// test of a reply due in an hour takes no time. It starts at WithNow's
// instant, else now.
func WithVirtualClock() Option { return func(c *config) { c.virtual = true } }

// WithScenario makes a scenario active from the start.
func WithScenario(name string) Option { return func(c *config) { c.scenario = name } }

// WithLogger receives msgmock's request log lines (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Start starts a Server; Close stops it.
func Start(opts ...Option) (*Server, error) {
	c := &config{fsys: fixtures.FS, source: "built-in", scenario: "default"}
	for _, o := range opts {
		o(c)
	}
	store, err := scenarios.NewFSStore(c.source, c.fsys, "", time.Now)
	if err != nil {
		return nil, fmt.Errorf("mocktest: fixtures: %w", err)
	}
	if c.scenario != "default" && store.Current().Scenario(c.scenario) == nil {
		return nil, fmt.Errorf("mocktest: no scenario %q in the fixtures", c.scenario)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mocktest: listen: %w", err)
	}
	clk := clock.New(c.now)
	if c.virtual {
		start := time.Now()
		if c.now != nil {
			start = *c.now
		}
		clk = clock.NewVirtual(start)
	}
	m := mock.NewServer(context.Background(), mock.Options{Fixtures: store, Clock: clk, Seed: c.seed, Scenario: c.scenario, Logger: c.logger, Version: "mocktest"})
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(m.Close)
	go func() { _ = srv.Serve(ln) }()
	return &Server{URL: "http://" + ln.Addr().String(), mock: m, http: srv, client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// New starts a Server for the test t and closes it when t ends; it fails t
// if msgmock cannot start.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down: scheduled replies and open streams end.
func (s *Server) Close() {
	s.client.CloseIdleConnections()
	_ = s.http.Close()
	s.mock.Close()
}

// Session returns a view of the same server scoped to session id: its
// admin calls (Requests, Reset, SetScenario) send X-Mock-Session: id, and
// so must the requests of the code under test. Parallel tests that each use
// their own session do not see each other's conversations, events, journal,
// rule counters or active scenario.
func (s *Server) Session(id string) *Server {
	c := *s
	c.session = id
	return &c
}

// Request is one journal entry: a request msgmock received and what it answered.
type Request struct {
	ID         string            `json:"id"`
	At         time.Time         `json:"at"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"` // JSON as sent; other bodies as a JSON string
	Status     int               `json:"status"`
	Scenario   string            `json:"scenario"`
	Rule       string            `json:"rule"`
	DurationMS float64           `json:"duration_ms"`
	// Unmatched: no rule of its scenario answered it; NearMisses are the
	// closest rules, with what differed.
	Unmatched  bool       `json:"unmatched"`
	NearMisses []NearMiss `json:"near_misses"`
}

// Journal returns the requests the server (or this session) received,
// oldest first; path, if given, keeps only those to that path.
func (s *Server) Journal(path string) ([]Request, error) {
	target := "/__mock/requests"
	if path != "" {
		target += "?path=" + url.QueryEscape(path)
	}
	var out struct {
		Requests []Request `json:"requests"`
	}
	if err := s.admin(http.MethodGet, target, nil, &out); err != nil {
		return nil, err
	}
	return out.Requests, nil
}

// Requests is Journal for tests: it fails t on error.
func (s *Server) Requests(t testing.TB, path string) []Request {
	t.Helper()
	reqs, err := s.Journal(path)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// Reset restores the fixtures' state: conversations, events, journal, rule
// counters and states, and the random stream, of this session.
func (s *Server) Reset() error { return s.admin(http.MethodPost, "/__mock/reset", nil, nil) }

// SetScenario makes a scenario active for this session (or the server).
func (s *Server) SetScenario(name string) error {
	return s.admin(http.MethodPut, "/__mock/scenario", map[string]string{"name": name}, nil)
}

// AddScenario adds a scenario for this test only, as YAML or JSON (the
// fixtures format's scenario, without a file): PUT /__mock/scenarios/name,
// scoped to the helper's session (Session), removed by Reset. Select it
// with SetScenario(name) or the X-Mock-Scenario header. A scenario with
// problems fails with each one as FILE:LINE:COL: message.
func (s *Server) AddScenario(name, yaml string) error {
	return s.admin(http.MethodPut, "/__mock/scenarios/"+url.PathEscape(name), []byte(yaml), nil)
}

// Advance moves the clock by d (POST /__mock/clock {"advance": d}). On a
// virtual clock (WithVirtualClock) everything that falls due is delivered,
// in time order, before it returns.
func (s *Server) Advance(d time.Duration) error {
	return s.admin(http.MethodPost, "/__mock/clock", map[string]string{"advance": d.String()}, nil)
}

// WaitIdle waits until every scheduled reply, stream chunk and webhook
// retry has been delivered (GET /__mock/status shows "scheduled": 0), or
// ctx ends. Waiting for it after each request makes a run's event order
// independent of timing, hence byte-identical with the same seed and clock.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		var st struct {
			Scheduled int `json:"scheduled"`
		}
		if err := s.admin(http.MethodGet, "/__mock/status", nil, &st); err != nil {
			return err
		}
		if st.Scheduled == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mocktest: %d deliveries still scheduled: %w", st.Scheduled, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (s *Server) admin(method, path string, in, out any) error {
	var body io.Reader
	switch in := in.(type) {
	case nil:
	case []byte: // sent as it is (a scenario's YAML)
		body = bytes.NewReader(in)
	default:
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		return err
	}
	if s.session != "" {
		req.Header.Set("X-Mock-Session", s.session)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("mocktest: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("mocktest: %s %s: %d %s", method, path, res.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
