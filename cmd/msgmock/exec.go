package main

// # msgmock exec
//
// `msgmock exec [serve flags] -- CMD ARGS…` is msgmock for a test suite in
// any language: it serves as `msgmock serve` does (the same flags, the
// same start), runs CMD with MSGMOCK_URL in its environment, and ends when
// CMD ends, with CMD's exit status. Decisions where the issue was silent:
//
//   - The address defaults to 127.0.0.1:0, a free port, so that parallel
//     jobs on one machine never collide; --addr or MSGMOCK_ADDR still
//     choose one. MSGMOCK_URL names loopback when msgmock listens on every
//     interface, as `msgmock health` asks.
//   - CMD owns the terminal: its stdout is not mixed with msgmock's. The
//     start line goes to stderr, and the log keeps to warnings and errors
//     there unless --log-out FILE takes the whole log (Firebase's
//     `emulators:exec` keeps its emulators' logs out of the suite's output
//     too). The journal (--journal-out) is the record of what was sent.
//   - SIGINT and SIGTERM are passed on to CMD and msgmock keeps serving
//     until CMD has exited, so that CMD's own clean-up can still reach it;
//     10 s after the first signal, or at a second one, CMD is killed.
//   - Nothing is left behind. Without a terminal (CI), CMD leads a process
//     group of its own: signals reach all of it, and when CMD exits what
//     it left running there (a `server &`) gets SIGTERM, then SIGKILL 2 s
//     later. At a terminal CMD stays in msgmock's group, keeping the
//     terminal (a watch mode's keys, a debugger's prompt); the terminal
//     signals the whole group, so a Ctrl-C may reach CMD twice. On Linux
//     CMD gets SIGTERM if msgmock itself is killed (PR_SET_PDEATHSIG). On
//     Windows the console delivers Ctrl-C to both; nothing is forwarded.
//   - Exit status: CMD's; 128+N when signal N ended it, as shells report
//     it; 127 when CMD is not found and 126 when it cannot be started (the
//     shell's codes, checked before anything is served); 2 when msgmock
//     itself cannot start (flags, fixtures, address).
//   - --journal-out FILE is written only when CMD failed (non-zero), as
//     {"sessions":[{"session":"","requests":[…]},…]}: the default session
//     (requests without X-Mock-Session) is "", then every named session;
//     each requests list is what GET /__mock/requests answers for it. It is
//     read over the admin API before the server stops, so it holds exactly
//     what a test could have asked for. A file from an earlier run is left
//     alone when CMD succeeds.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func execCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newServeFlags(io.Discard)
	addr := f.fs.Lookup("addr")
	addr.DefValue, f.addr = "127.0.0.1:0", "127.0.0.1:0"
	journalOut := f.fs.String("journal-out", "", "when CMD fails, write every session's journal to this file as JSON")
	logOut := f.fs.String("log-out", "", "write msgmock's log here (default: only warnings and errors, to stderr)")
	if err := f.parseUpTo(args, getenv); err != nil {
		return usageError(stderr, err.Error(), commands["exec"])
	}
	argv := f.fs.Args()
	if len(argv) == 0 {
		return usageError(stderr, "exec needs a command to run after --", commands["exec"])
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if cmd.Err != nil { // not found on PATH, before anything is served
		fmt.Fprintf(stderr, "msgmock exec: %s: command not found\n", argv[0])
		return exitCode(127)
	}

	out := serveOutput{announce: stderr, problems: stderr, log: stderr, level: slog.LevelWarn}
	if *logOut != "" {
		file, err := os.Create(*logOut)
		if err != nil {
			return fmt.Errorf("--log-out: %w", err)
		}
		defer file.Close()
		out.log, out.level = file, slog.LevelInfo
	}
	// The server outlives a signal: it stops when CMD has exited.
	srv, err := startServing(context.WithoutCancel(ctx), f, getenv, out)
	if err != nil {
		return err
	}
	if err := awaitHealth(ctx, srv.url, f.adminToken); err != nil {
		srv.shutdown()
		return err
	}

	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "MSGMOCK_URL="+srv.url)
	if f.adminToken != "" {
		cmd.Env = append(cmd.Env, "MSGMOCK_ADMIN_TOKEN="+f.adminToken)
	}
	// Listen before the start: a signal that comes as CMD starts is
	// passed on, not lost.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	group := newCommandGroup(cmd)
	if err := cmd.Start(); err != nil {
		srv.shutdown()
		fmt.Fprintf(stderr, "msgmock exec: %s: %v\n", argv[0], unwrapPathError(err))
		return exitCode(126)
	}
	status := waitForCommand(ctx, group, signals)
	group.reap(2 * time.Second)

	if status != 0 && *journalOut != "" {
		if n, sessions, err := writeJournal(srv.url, f.adminToken, *journalOut); err != nil {
			fmt.Fprintf(stderr, "msgmock exec: the journal could not be written: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "msgmock exec: %s exited with %d; the journal (%s in %s) is in %s\n", argv[0], status,
				plural(n, "request"), plural(sessions, "session"), *journalOut)
		}
	}
	if err := srv.shutdown(); err != nil {
		fmt.Fprintf(stderr, "msgmock exec: %v\n", err)
	}
	if status != 0 {
		return exitCode(status)
	}
	return nil
}

// waitForCommand passes SIGINT and SIGTERM on to CMD (its group) until it
// exits, and returns its exit status as a shell reports it. A command that
// has not ended killGrace after the first signal, or that gets a second
// one, is killed.
func waitForCommand(ctx context.Context, g *commandGroup, signals <-chan os.Signal) int {
	cmd := g.cmd
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the status is in cmd.ProcessState
		close(exited)
	}()
	ctxDone := ctx.Done()
	var deadline <-chan time.Time
	signalled := false
	pass := func(sig os.Signal) {
		if signalled {
			g.kill() // a second signal: no more waiting
			return
		}
		signalled = true
		deadline = time.After(killGrace)
		g.signal(sig)
	}
	for {
		select {
		case <-exited:
			return exitStatus(cmd.ProcessState)
		case sig := <-signals:
			// On Windows, where only Kill can be sent, the console has
			// delivered Ctrl-C to cmd already.
			pass(sig)
		case <-deadline:
			g.kill()
		case <-ctxDone:
			ctxDone = nil
			// main ends ctx on SIGINT and SIGTERM (signal.NotifyContext:
			// its cause names the signal), which also arrive on signals and
			// are passed on as they are, however late. A caller that ends
			// ctx itself (the cause is context.Canceled itself: a signal's
			// cause only says it Is one) asks for a stop: SIGTERM (or Kill,
			// where there are no signals). Waiting a while for the signal
			// instead took a slow one for a second signal and killed the
			// command.
			if cause := context.Cause(ctx); cause == context.Canceled || cause == context.DeadlineExceeded {
				pass(syscall.SIGTERM)
			}
		}
	}
}

// killGrace is how long a command may take to end after a signal before
// it is killed.
const killGrace = 10 * time.Second

// exitStatus is a finished process's status as a shell reports it:
// 128+N for a death by signal N.
func exitStatus(state *os.ProcessState) int {
	type signaled interface {
		Signaled() bool
		Signal() syscall.Signal
	}
	if ws, ok := state.Sys().(signaled); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := state.ExitCode(); code >= 0 {
		return code
	}
	return 1
}

// unwrapPathError drops the "fork/exec PATH:" prefix the shell would not
// print: "permission denied", "exec format error".
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// awaitHealth asks url's /__mock/health until it answers 200, for up to
// 10 s. The listener is bound before startServing returns, so the first
// answer normally comes at once.
func awaitHealth(ctx context.Context, url, token string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/__mock/health", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s/__mock/health answered %d", url, res.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("msgmock did not become healthy: %w", last)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sessionJournal is one session's journal in a --journal-out file.
type sessionJournal struct {
	Session  string          `json:"session"`
	Requests json.RawMessage `json:"requests"`
}

// writeJournal reads every session's journal over the admin API and writes
// it to path; it returns how many requests and sessions it wrote.
func writeJournal(url, token, path string) (requests, sessions int, err error) {
	client := &http.Client{Timeout: 10 * time.Second}
	getJSON := func(p, session string, into any) error {
		req, _ := http.NewRequest(http.MethodGet, url+p, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if session != "" {
			req.Header.Set("X-Mock-Session", session)
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
			return fmt.Errorf("GET %s answered %d: %s", p, res.StatusCode, strings.TrimSpace(string(body)))
		}
		return json.NewDecoder(res.Body).Decode(into)
	}
	var list struct{ Sessions []string }
	if err := getJSON("/__mock/sessions", "", &list); err != nil {
		return 0, 0, err
	}
	var journal struct {
		Sessions []sessionJournal `json:"sessions"`
	}
	for _, id := range append([]string{""}, list.Sessions...) {
		var page struct{ Requests json.RawMessage }
		if err := getJSON("/__mock/requests", id, &page); err != nil {
			return 0, 0, err
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(page.Requests, &entries); err != nil {
			return 0, 0, fmt.Errorf("the journal of session %q: %w", id, err)
		}
		requests += len(entries)
		journal.Sessions = append(journal.Sessions, sessionJournal{Session: id, Requests: page.Requests})
	}
	data, err := json.MarshalIndent(journal, "", "  ")
	if err != nil {
		return 0, 0, err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return 0, 0, err
	}
	return requests, len(journal.Sessions), nil
}
