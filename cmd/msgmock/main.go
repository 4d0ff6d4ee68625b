// Command msgmock is a local mock and sandbox server for the Conversations
// API and the Workspace Messages API. Run it with no arguments to serve the
// built-in fixtures on 127.0.0.1:8080; see the README for the rest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var exit exitCode
	switch {
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case err != nil:
		fmt.Fprintln(os.Stderr, "msgmock:", err)
		os.Exit(2)
	}
}

// exitCode is an error that only sets the exit status; what there was to
// say has been printed already.
type exitCode int

func (e exitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }

const usage = `msgmock — a mock server for the Conversations and Workspace Messages APIs

Usage:
  msgmock [serve] [flags]      serve (the default)
  msgmock validate [DIR]       check a fixtures directory (default ./fixtures)
  msgmock init [DIR]           write the built-in fixtures into DIR (default ./fixtures), never overwriting
  msgmock health [--addr A]    exit 0 if a msgmock answers at A (default $MSGMOCK_ADDR or 127.0.0.1:8080)
  msgmock openapi NAME         print an OpenAPI 3.1 document: conversations | workspace | admin
  msgmock schema               print the JSON Schema (2020-12) of a fixtures file
  msgmock record --upstream URL --out DIR [--force] [--addr A]
                               proxy to the real service; write what it saw as fixtures in DIR
                               (--force replaces a recording DIR already holds)
  msgmock verify --upstream URL [--fixtures DIR | --mock URL] SCRIPT
                               replay SCRIPT against the upstream and msgmock; exit 1 on drift
  msgmock import har FILE.har --out DIR [--scenario NAME] [--force]
                               turn a browser's HAR into fixtures and a scenario that replays its answers
  msgmock import curl [--out DIR] [--scenario NAME] --status N [--body JSON] -- 'curl …'
                               add a rule for a copied curl command to a scenario of DIR (./fixtures)
  msgmock exec [flags] -- CMD [ARGS...]
                               serve on a free port, run CMD with MSGMOCK_URL set, stop,
                               exit with CMD's status (--journal-out FILE: the journal if it failed)
  msgmock version              print the version (also --version)

Every command takes -h or --help. Every serve flag can also be set as
MSGMOCK_<FLAG> (upper case, dashes as underscores); the flag wins.

Exit codes: 0 done; 1 the check failed (validate found problems, health got
no answer, a HAR held nothing of either API); 2 the command line, the
fixtures or the file to import could not be used. exec exits with its
command's status (128+N if a signal N ended it; 127: not found).

Serve flags:
`

// commands are msgmock's subcommands and their one-line usage.
var commands = map[string]string{
	"serve":    "msgmock [serve] [flags]",
	"validate": "msgmock validate [DIR]",
	"init":     "msgmock init [DIR]",
	"health":   "msgmock health [--addr HOST:PORT]",
	"openapi":  "msgmock openapi conversations|workspace|admin",
	"schema":   "msgmock schema",
	"record":   "msgmock record --upstream URL --out DIR [--force] [--addr HOST:PORT] [--timeout 30s]",
	"verify":   "msgmock verify --upstream URL [--fixtures DIR | --mock URL] [--scenario NAME] SCRIPT",
	"exec":     "msgmock exec [serve flags] [--journal-out FILE] [--log-out FILE] -- CMD [ARGS...]",
	"version":  "msgmock version",
	"import": "msgmock import har FILE.har --out DIR [--scenario NAME] [--force] [--json]\n" +
		"       msgmock import curl [--out DIR] [--scenario NAME] [--status N] [--body JSON] [--header 'K: V']\n" +
		"                           [--latency D] [--times N] [--fault F] -- 'curl …'   (or the command on stdin)",
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") && cmd == "serve" {
		cmd, args = "version", nil
	}
	if cmd != "serve" && wantsHelp(args) {
		if _, known := commands[cmd]; known {
			fmt.Fprintln(stdout, "usage: "+commands[cmd])
			return nil
		}
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "validate":
		return validate(args, stdout, stderr)
	case "init":
		return initFixtures(args, stdout, stderr)
	case "health":
		return health(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return printOpenAPI(args, stdout, stderr)
	case "record":
		return recordCmd(ctx, args, getenv, stdout, stderr)
	case "verify":
		return verifyCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(args, os.Stdin, stdout, stderr)
	case "exec":
		return execCmd(ctx, args, getenv, stdout, stderr)
	case "schema":
		if len(args) > 0 {
			return usageError(stderr, "schema takes no arguments", commands["schema"])
		}
		_, err := stdout.Write(scenarios.Schema())
		return err
	case "version":
		fmt.Fprintln(stdout, "msgmock", versionString())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		newServeFlags(stdout).fs.PrintDefaults()
		return nil
	}
	return usageError(stderr, fmt.Sprintf("unknown command %q", cmd), "msgmock --help")
}

// wantsHelp reports whether args ask for a command's usage. What follows
// "--" is not msgmock's (exec's command has flags of its own).
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// usageError prints one line saying what is wrong and where to look, and
// returns exit status 2.
func usageError(stderr io.Writer, problem, hint string) error {
	fmt.Fprintf(stderr, "msgmock: %s (see '%s')\n", problem, hint)
	return exitCode(2)
}

func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

type serveFlags struct {
	fs             *flag.FlagSet
	given          map[string]bool // flags given on the command line
	addr           string
	fixtures       string
	scenario       string
	seed           uint64
	now            string
	watch          bool
	logFormat      string
	adminToken     string
	clock          string
	speed          float64
	allowedHosts   []string
	maxConnections int
}

func newServeFlags(out io.Writer) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("serve", flag.ContinueOnError)}
	f.fs.SetOutput(out)
	f.fs.Usage = func() {}
	f.fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address (:0 picks a free port)")
	f.fs.StringVar(&f.fixtures, "fixtures", "", "fixtures directory (default ./fixtures if it exists, else the built-in fixtures)")
	f.fs.StringVar(&f.scenario, "scenario", "default", "scenario active at start")
	f.fs.Uint64Var(&f.seed, "seed", 0, "seed for ids, fake text, chance and latency samples (0: random)")
	f.fs.StringVar(&f.now, "now", "", "freeze the clock at this RFC 3339 instant")
	f.fs.BoolVar(&f.watch, "watch", true, "hot-reload the fixtures directory")
	f.fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	f.fs.StringVar(&f.adminToken, "admin-token", "", "if set, /__mock/* requires Authorization: Bearer <it>")
	f.fs.StringVar(&f.clock, "clock", "", "wall, or virtual: every wait runs on a clock only POST /__mock/clock moves (default: settings.clock, else wall)")
	f.fs.Float64Var(&f.speed, "speed", 1, "replay scripted waits (latency, reply after, stream pacing) this many times faster: 2 halves them, 0.5 doubles them")
	f.fs.Func("allowed-host", "a Host accepted besides loopback and the listen address (repeatable, or comma-separated; * accepts any)", func(v string) error {
		for _, h := range strings.Split(v, ",") {
			host, err := scenarios.AllowedHost(strings.TrimSpace(h))
			if err != nil {
				return err
			}
			f.allowedHosts = append(f.allowedHosts, host)
		}
		return nil
	})
	f.fs.IntVar(&f.maxConnections, "max-connections", defaultMaxConnections, "connections open at once; past it the longest idle one is closed, or the new one refused")
	return f
}

// defaultMaxConnections is --max-connections' default: far more than a
// test suite or a browser opens, far fewer than the file-descriptor limit.
const defaultMaxConnections = 1024

// parse reads the flags, then fills each one not given from its
// MSGMOCK_<FLAG> environment variable.
func (f *serveFlags) parse(args []string, getenv func(string) string) error {
	if err := f.parseUpTo(args, getenv); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", f.fs.Arg(0))
	}
	return nil
}

// parseUpTo is parse for a command line that goes on after the flags (at
// "--" or the first argument that is not a flag): f.fs.Args() is the rest.
func (f *serveFlags) parseUpTo(args []string, getenv func(string) string) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	f.given = given
	var err error
	f.fs.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] || err != nil {
			return
		}
		env := "MSGMOCK_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if e := f.fs.Set(fl.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", env, v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, got %q", f.logFormat)
	}
	if f.clock != "" && f.clock != "wall" && f.clock != "virtual" {
		return fmt.Errorf("--clock must be wall or virtual, got %q", f.clock)
	}
	if !(f.speed >= 0.01 && f.speed <= 1000) {
		return fmt.Errorf("--speed must be between 0.01 and 1000, got %g", f.speed)
	}
	if f.maxConnections < 1 {
		return fmt.Errorf("--max-connections must be at least 1, got %d", f.maxConnections)
	}
	return nil
}

// fixturesSource picks the fixtures: the named directory, else ./fixtures
// if there is one, else the built-in set embedded in the binary.
func fixturesSource(dir string) (source string, fsys fs.FS, prefix string, err error) {
	if dir == "" {
		if info, statErr := os.Stat("fixtures"); statErr == nil && info.IsDir() {
			dir = "fixtures"
		}
	}
	if dir == "" {
		return "built-in", fixtures.FS, "built-in", nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", nil, "", fmt.Errorf("fixtures directory: %w", err)
	}
	if !info.IsDir() {
		return "", nil, "", fmt.Errorf("fixtures: %s is not a directory", dir)
	}
	return dir, os.DirFS(dir), dir, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newServeFlags(io.Discard) // errors are printed once, below
	if err := f.parse(args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			f.fs.SetOutput(stdout)
			f.fs.PrintDefaults()
			return nil
		}
		return usageError(stderr, err.Error(), "msgmock --help")
	}
	s, err := startServing(ctx, f, getenv, serveOutput{announce: stdout, problems: stderr, log: stderr, level: slog.LevelInfo})
	if err != nil {
		return err
	}
	select {
	case err := <-s.served:
		s.close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return s.shutdown()
}

// serveOutput is where a serving msgmock writes: its start line, the
// problems that keep it from starting, and its log from level on.
type serveOutput struct {
	announce, problems, log io.Writer
	level                   slog.Leveler
}

// serving is a msgmock listening and serving on its own goroutine, as
// started by startServing for serve and exec alike.
type serving struct {
	url    string     // http://HOST:PORT with the real port; loopback when listening on every interface
	served chan error // what http.Server.Serve returned, if it stops on its own

	httpSrv *http.Server
	mock    *mock.Server
	logger  *slog.Logger
	stop    func() // ends the watcher and flushes the log; once, last
	closed  sync.Once
}

// startServing loads the fixtures, binds the listener (synchronously, so
// that a busy address is an error here) and serves until shutdown. The
// start line is written before it returns.
func startServing(ctx context.Context, f *serveFlags, getenv func(string) string, out serveOutput) (*serving, error) {
	var frozen *time.Time
	if f.now != "" {
		t, err := time.Parse(time.RFC3339Nano, f.now)
		if err != nil {
			return nil, fmt.Errorf("--now must be an RFC 3339 time such as 2026-03-15T14:22:11Z: %q", f.now)
		}
		frozen = &t
	}
	source, fsys, prefix, err := fixturesSource(f.fixtures)
	if err != nil {
		return nil, err
	}
	store, err := scenarios.NewFSStore(source, fsys, prefix, time.Now)
	if err != nil {
		var probs scenarios.Problems
		if errors.As(err, &probs) {
			for _, line := range probs.Strings() {
				fmt.Fprintln(out.problems, line)
			}
			return nil, fmt.Errorf("fixtures %s: %d problem(s); nothing served", source, len(probs))
		}
		return nil, fmt.Errorf("fixtures %s: %w", source, err)
	}
	if f.fixtures == "" && source != "built-in" && isBuiltin(store.Current()) {
		// Run from a checkout of msgmock: ./fixtures is the built-in set's
		// source, served from disk so that edits to it are picked up.
		source = "built-in (./" + source + ")"
		store, err = scenarios.NewFSStore(source, fsys, prefix, time.Now)
		if err != nil {
			return nil, err
		}
	}
	if f.scenario != "default" && store.Current().Scenario(f.scenario) == nil {
		return nil, fmt.Errorf("--scenario %q: no such scenario in %s (have: %s)", f.scenario, source, strings.Join(store.Current().Names, ", "))
	}
	if getenv("GOMEMLIMIT") == "" {
		// Keep the heap near what the budget allows instead of letting the
		// garbage collector double it (mock.MemoryLimit; mock/state's package documentation).
		debug.SetMemoryLimit(mock.MemoryLimit(store.Current().Settings.Retention.MessageBytes))
	}
	if getenv("GOGC") == "" {
		// What is live is small and bounded (mock.GCPercent; README:
		// Performance).
		debug.SetGCPercent(mock.GCPercent)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	// Log lines go out through a buffer (logwriter.go): no request waits
	// on a write to the terminal.
	logOut := newLogWriter(out.log)
	handlerOpts := &slog.HandlerOptions{Level: out.level}
	var logger *slog.Logger
	if f.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(logOut, handlerOpts))
	} else {
		logger = slog.New(slog.NewTextHandler(logOut, handlerOpts))
	}
	guard := decideProtections(f, getenv, ln.Addr(), store.Current().Settings.Security)
	if guard.generated {
		token, err := generateToken()
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("admin token: %w", err)
		}
		f.adminToken = token
	}
	clk := clock.New(frozen)
	mode := f.clock
	if mode == "" {
		mode = store.Current().Settings.Clock // read at start: a clock cannot change kind while it runs
	}
	if mode == "virtual" {
		start := time.Now()
		if frozen != nil {
			start = *frozen
		}
		clk = clock.NewVirtual(start)
	}
	m := mock.NewServer(ctx, mock.Options{
		Fixtures:     store,
		Clock:        clk,
		Seed:         f.seed,
		Scenario:     f.scenario,
		AdminToken:   f.adminToken,
		Logger:       logger,
		Version:      versionString(),
		AllowedHosts: f.allowedHosts,
		// The line every request logs, written in the handler's format
		// without slog's cost (mock.RequestLog).
		RequestLog: &mock.RequestLog{W: logOut, JSON: f.logFormat == "json"},
		Speed:      f.speed,
	})
	limited := newConnLimiter(ln, f.maxConnections, logger)
	httpSrv := &http.Server{
		Handler: m,
		// Time limits, so that slow and idle clients cannot hold memory
		// and connections (README: Security): headers must arrive in 10s,
		// an idle keep-alive connection closes after idleTimeout. A body's
		// read and an answer's write are timed per request by the server
		// itself (package wire), because a server-wide read deadline would
		// end the context of a request held on purpose (latency, fault:
		// timeout) when it passed.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ConnState:         limited.ConnState,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Streams and reply timers end as soon as shutdown starts; in-flight
	// requests are then drained by Shutdown.
	httpSrv.RegisterOnShutdown(m.Close)
	// The watcher ends with the server: watchCtx is cancelled before the
	// log is flushed. The start line waits until the tree is watched, so
	// that a change made as soon as msgmock says it listens is picked up.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone, watching := make(chan struct{}), make(chan struct{})
	if f.watch && source != "built-in" {
		var once sync.Once
		ready := func() { once.Do(func() { close(watching) }) }
		go func() {
			defer close(watchDone)
			defer ready()
			err := scenarios.Watch(watchCtx, store, prefix, scenarios.WatchOptions{Logger: logger, Ready: ready})
			if err != nil {
				logger.Error("hot reload is off: cannot watch the fixtures", "dir", prefix, "error", err.Error())
			}
		}()
	} else {
		close(watchDone)
		close(watching)
	}
	<-watching
	fmt.Fprintf(out.announce, "msgmock %s listening on http://%s (fixtures: %s; %s%s)\n", versionString(), ln.Addr(), source,
		counts(store.Current()), builtinNote(source))
	guard.print(out.announce, f.adminToken)

	s := &serving{
		url:     "http://" + loopbackAddr(ln.Addr().String()),
		served:  make(chan error, 1),
		httpSrv: httpSrv,
		mock:    m,
		logger:  logger,
		stop: func() {
			stopWatch()
			<-watchDone
			logOut.Close()
		},
	}
	go func() { s.served <- httpSrv.Serve(limited) }()
	return s, nil
}

// shutdown stops serving gracefully: in-flight requests finish (for up to
// 10 s), open streams end, then the watcher stops and the log is flushed.
func (s *serving) shutdown() error {
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.httpSrv.Shutdown(shutdownCtx)
	s.close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// close releases what serving holds once Serve has returned.
func (s *serving) close() {
	s.closed.Do(func() {
		s.mock.Close()
		s.stop()
	})
}

// loopbackAddr is addr as a client on this machine dials it: an address on
// every interface (0.0.0.0, ::) is asked on loopback.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// isBuiltin reports whether set was loaded from files identical to the
// embedded built-in fixtures.
func isBuiltin(set *scenarios.Set) bool {
	builtin, err := scenarios.Load(fixtures.FS, "built-in")
	return err == nil && builtin.Digest == set.Digest
}

// validate loads a fixtures directory as the server would and prints every
// problem; it exits 1 when there is any.
func validate(args []string, stdout, stderr io.Writer) error {
	dir, err := dirArg("validate", args, stderr)
	if err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		fmt.Fprintf(stderr, "msgmock validate: %s is not a readable directory\n", dir)
		return exitCode(1)
	}
	set, err := scenarios.Load(os.DirFS(dir), dir)
	if err != nil {
		var probs scenarios.Problems
		if errors.As(err, &probs) {
			for _, line := range probs.Strings() {
				fmt.Fprintln(stdout, line)
			}
		} else {
			fmt.Fprintln(stdout, err)
		}
		return exitCode(1)
	}
	// Warnings (a rule no request can reach) do not fail the check: the
	// directory loads and serves as it is.
	for _, w := range set.Warnings() {
		fmt.Fprintln(stdout, "warning: "+w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d files, %d conversations, %d scenarios)\n", dir, len(set.Files), len(set.Conversations), len(set.Names))
	return nil
}

// counts says how much a fixtures set holds, for the start line.
func counts(set *scenarios.Set) string {
	return plural(len(set.Files), "file") + ", " + plural(len(set.Names), "scenario") + ", " + plural(len(set.Conversations), "conversation")
}

// plural is "1 file", "2 files".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// builtinNote tells a user serving their own ./fixtures that the built-in
// set (the seed's conversation, the QA scenarios) is not loaded beside it.
func builtinNote(source string) string {
	if strings.HasPrefix(source, "built-in") {
		return ""
	}
	return "; the built-in fixtures are not loaded: 'msgmock init DIR' copies them"
}
