package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// `msgmock exec` is tested as users run it: the built binary wrapping a
// real command (sh, curl), its exit status read by the operating system.

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// afterAllTests are removed by TestMain once every test has run: what
// tests built once for the whole run.
var afterAllTests []string

// TestMain removes what tests built once for the whole run.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range afterAllTests {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// msgmockBinary builds cmd/msgmock once per test run, as the Dockerfile
// builds it.
func msgmockBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binaryOnce.Do(func() {
		var binaryDir string
		binaryDir, binaryErr = os.MkdirTemp("", "msgmock-bin-")
		if binaryErr != nil {
			return
		}
		afterAllTests = append(afterAllTests, binaryDir)
		binaryPath = filepath.Join(binaryDir, "msgmock")
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=exectest", "-o", binaryPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			binaryErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// execResult is how a `msgmock exec` process ended.
type execResult struct {
	code           int
	stdout, stderr string
}

// runExec runs `msgmock ARGS…` to its end (30 s at most) in dir.
func runExec(t *testing.T, dir string, args ...string) execResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, msgmockBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("msgmock %s: %v", strings.Join(args, " "), err)
	}
	return execResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

var execStartLine = regexp.MustCompile(`(?m)^msgmock exectest listening on http://127\.0\.0\.1:\d+ \(fixtures: built-in; `)

func TestExecExitStatus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the commands are POSIX shell")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "not-executable"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // exactly, when set
		stderr     string // a line stderr must hold
		notStarted bool   // msgmock must not have served at all
	}{
		{name: "success", args: []string{"--", "sh", "-c", "exit 0"}, code: 0},
		{name: "failure", args: []string{"--", "sh", "-c", "exit 3"}, code: 3},
		{name: "stdout is the command's", args: []string{"--", "sh", "-c", "echo hello"}, stdout: "hello\n"},
		{name: "flags before the command", args: []string{"--seed", "7", "--clock", "virtual", "--", "sh", "-c", "exit 4"}, code: 4},
		{name: "no -- before the command", args: []string{"sh", "-c", "exit 5"}, code: 5},
		{name: "killed by a signal", args: []string{"--", "sh", "-c", "kill -KILL $$"}, code: 128 + 9},
		{name: "not found", args: []string{"--", "msgmock-no-such-command"}, code: 127,
			stderr: "msgmock exec: msgmock-no-such-command: command not found", notStarted: true},
		{name: "not executable", args: []string{"--", "./not-executable"}, code: 126,
			stderr: "msgmock exec: ./not-executable: permission denied"},
		{name: "no command", args: []string{"--seed", "1"}, code: 2, notStarted: true,
			stderr: "msgmock: exec needs a command to run after -- (see 'msgmock exec [serve flags] [--journal-out FILE] [--log-out FILE] -- CMD [ARGS...]')"},
		{name: "bad flag", args: []string{"--bogus", "--", "true"}, code: 2, notStarted: true,
			stderr: "msgmock: flag provided but not defined: -bogus"},
		{name: "bad fixtures", args: []string{"--fixtures", "/does/not/exist", "--", "true"}, code: 2, notStarted: true,
			stderr: "msgmock: fixtures directory: stat /does/not/exist: no such file or directory"},
		{name: "the command's -h is its own", args: []string{"--", "sh", "-c", "echo $0", "-h"}, stdout: "-h\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runExec(t, dir, append([]string{"exec"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit status %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			if tt.stdout != "" && r.stdout != tt.stdout {
				t.Errorf("stdout %q, want %q (msgmock's own lines go to stderr)", r.stdout, tt.stdout)
			}
			if tt.stderr != "" && !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
			if started := execStartLine.MatchString(r.stderr); started == tt.notStarted {
				t.Errorf("served=%v, want %v\nstderr: %s", started, !tt.notStarted, r.stderr)
			}
		})
	}
}

// TestExecCommandReachesServer: MSGMOCK_URL (and MSGMOCK_ADMIN_TOKEN)
// in the command's environment name the msgmock serving it, with the serve
// flags given.
func TestExecCommandReachesServer(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const script = `echo "$MSGMOCK_URL"
curl -fsS -X POST "$MSGMOCK_URL/v1/messages" -H 'Authorization: Bearer k' -H 'Content-Type: application/json' \
  -d '{"sender_id":"usr_1","sender_type":"user","text":"from the command"}' >/dev/null
curl -fsS ${MSGMOCK_ADMIN_TOKEN:+-H "Authorization: Bearer $MSGMOCK_ADMIN_TOKEN"} "$MSGMOCK_URL/__mock/requests"`
	tests := []struct {
		name    string
		flags   []string
		url     string // a pattern
		logFile bool
	}{
		{name: "free port", url: `^http://127\.0\.0\.1:\d+$`},
		{name: "given address", flags: []string{"--addr", "127.0.0.1:" + strconv.Itoa(freePort)}, url: `^http://127\.0\.0\.1:` + strconv.Itoa(freePort) + `$`},
		{name: "every interface, asked on loopback", flags: []string{"--addr", "0.0.0.0:0"}, url: `^http://127\.0\.0\.1:\d+$`},
		{name: "admin token", flags: []string{"--admin-token", "s3cret", "--now", "2026-03-15T14:22:11Z"}, url: `^http://127\.0\.0\.1:\d+$`},
		{name: "log to a file", flags: []string{"--log-out", "msgmock.log"}, url: `^http://127\.0\.0\.1:\d+$`, logFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"exec"}, tt.flags...), "--", "sh", "-c", script)
			r := runExec(t, dir, args...)
			if r.code != 0 {
				t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			url, journal, _ := strings.Cut(r.stdout, "\n")
			if !regexp.MustCompile(tt.url).MatchString(url) {
				t.Errorf("MSGMOCK_URL=%q, want %s", url, tt.url)
			}
			var got struct {
				Requests []struct {
					Path string
					Body struct{ Text string }
				}
			}
			if err := json.Unmarshal([]byte(journal), &got); err != nil {
				t.Fatalf("the journal the command read: %v\n%s", err, journal)
			}
			if len(got.Requests) != 1 || got.Requests[0].Path != "/v1/messages" || got.Requests[0].Body.Text != "from the command" {
				t.Errorf("journal %s, want the command's one send", journal)
			}
			logged, _ := os.ReadFile(filepath.Join(dir, "msgmock.log"))
			requestLine := "msg=request method=POST path=/v1/messages status=200"
			if tt.logFile {
				if !strings.Contains(string(logged), requestLine) {
					t.Errorf("--log-out file lacks %q:\n%s", requestLine, logged)
				}
			}
			if strings.Contains(r.stderr, requestLine) {
				t.Errorf("request log lines on stderr, want them kept out of the command's output:\n%s", r.stderr)
			}
		})
	}
}

// TestExecLeavesNoProcessBehind: a signal to msgmock reaches the command;
// msgmock serves until the command has ended, exits with its status, and
// leaves neither the command nor the listener behind.
func TestExecLeavesNoProcessBehind(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX signals")
	}
	// The command says its pid and URL, then waits: for a signal (a trap
	// exits with a status of its own) or for its input to end.
	const script = `trap 'exit 5' INT; trap 'exit 7' TERM
echo "$$ $MSGMOCK_URL"
while read -r _; do :; done`
	tests := []struct {
		name   string
		script string
		signal os.Signal // nil: close the command's input
		again  bool      // send the signal a second time once the first has arrived
		code   int
	}{
		{name: "SIGINT passed on", script: script, signal: os.Interrupt, code: 5},
		{name: "SIGTERM passed on", script: script, signal: syscall.SIGTERM, code: 7},
		{name: "SIGTERM ends a command without a trap", script: `echo "$$ $MSGMOCK_URL"; exec sleep 60`, signal: syscall.SIGTERM, code: 128 + 15},
		{name: "the command ends on its own", script: script, code: 0},
		// The pid said is a background child's: the command's group goes
		// with it, on a signal or when the command ends on its own.
		{name: "SIGTERM ends what the command started", script: `sleep 300 >/dev/null 2>&1 & echo "$! $MSGMOCK_URL"; wait`, signal: syscall.SIGTERM, code: 128 + 15},
		{name: "what the command left running ends with it", script: `sleep 300 >/dev/null 2>&1 & echo "$! $MSGMOCK_URL"; while read -r _; do :; done`, code: 0},
		// A command that ignores SIGTERM is killed at a second signal.
		{name: "a second signal kills", script: `trap 'echo got-term >&2' TERM; echo "$$ $MSGMOCK_URL"; while :; do sleep 0.05; done`, signal: syscall.SIGTERM, again: true, code: 128 + 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(msgmockBinary(t), "exec", "--", "sh", "-c", tt.script)
			cmd.Dir = t.TempDir()
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			defer func() {
				select {
				case <-exited:
				default:
					cmd.Process.Kill()
					<-exited
				}
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("the command said nothing: %v\nstderr: %s", err, stderr.String())
			}
			pidText, url, _ := strings.Cut(strings.TrimSpace(line), " ")
			childPID, err := strconv.Atoi(pidText)
			if err != nil {
				t.Fatalf("first line %q", line)
			}
			res, err := http.Get(url + "/__mock/health")
			if err != nil {
				t.Fatalf("msgmock does not serve while the command runs: %v", err)
			}
			res.Body.Close()
			if !processAlive(childPID) {
				t.Fatal("the command is gone before it was told to end")
			}

			if tt.signal != nil {
				_ = cmd.Process.Signal(tt.signal)
				if tt.again {
					waitFor(t, "the command to get the first signal", func() bool { return strings.Contains(stderr.String(), "got-term") })
					_ = cmd.Process.Signal(tt.signal)
				}
			} else {
				stdin.Close()
			}
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				t.Fatalf("msgmock did not exit\nstderr: %s", stderr.String())
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit status %d, want %d\nstderr: %s", got, tt.code, stderr.String())
			}
			if liveProcess(childPID) {
				t.Errorf("the command or its child (pid %d) outlived msgmock", childPID)
			}
			http.DefaultClient.CloseIdleConnections()
			if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second); err == nil {
				conn.Close()
				t.Errorf("%s still accepts connections after msgmock exited", url)
			}
		})
	}
}

// processAlive reports whether pid names a process, a zombie included: a
// command msgmock waited for is gone altogether.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// liveProcess reports whether pid names a live process, not a zombie: a
// background child of the command is reaped by whoever adopted it, maybe
// later than msgmock exits.
func liveProcess(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return processAlive(pid) && runtime.GOOS != "linux"
	}
	// pid (comm) S …: the state follows the last ')'.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	return len(rest) > 1 && rest[1] != 'Z' && rest[1] != 'X'
}

// TestExecJournalOut: when the command fails, every session's journal is
// written to --journal-out and msgmock says where; when it succeeds,
// nothing is written.
func TestExecJournalOut(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	const send = `curl -fsS -X POST "$MSGMOCK_URL/v1/messages" -H 'Authorization: Bearer k' -H 'Content-Type: application/json' %s \
  -d '{"sender_id":"usr_1","sender_type":"user","text":"%s"}' >/dev/null
`
	script := func(code int) string {
		return fmt.Sprintf(send, "", "default session") +
			fmt.Sprintf(send, "-H 'X-Mock-Session: suite-a'", "in suite-a") +
			"exit " + strconv.Itoa(code)
	}
	tests := []struct {
		name  string
		code  int
		flags []string
	}{
		{name: "failed", code: 3},
		{name: "failed, behind an admin token", code: 1, flags: []string{"--admin-token", "s3cret"}},
		{name: "succeeded", code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(append([]string{"exec", "--journal-out", "journal.json"}, tt.flags...), "--", "sh", "-c", script(tt.code))
			r := runExec(t, dir, args...)
			if r.code != tt.code {
				t.Fatalf("exit status %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			data, err := os.ReadFile(filepath.Join(dir, "journal.json"))
			if tt.code == 0 {
				if err == nil {
					t.Errorf("journal written although the command succeeded:\n%s", data)
				}
				if strings.Contains(r.stderr, "journal") {
					t.Errorf("stderr speaks of a journal although the command succeeded:\n%s", r.stderr)
				}
				return
			}
			if err != nil {
				t.Fatalf("no journal after a failure: %v\nstderr: %s", err, r.stderr)
			}
			want := "msgmock exec: sh exited with " + strconv.Itoa(tt.code) + "; the journal (2 requests in 2 sessions) is in journal.json"
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
			var journal struct {
				Sessions []struct {
					Session  string
					Requests []struct {
						Path string
						Body struct{ Text string }
					}
				}
			}
			if err := json.Unmarshal(data, &journal); err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			got := map[string]string{}
			for _, s := range journal.Sessions {
				for _, req := range s.Requests {
					got[s.Session] += req.Path + " " + req.Body.Text
				}
			}
			want2 := map[string]string{"": "/v1/messages default session", "suite-a": "/v1/messages in suite-a"}
			if len(journal.Sessions) != 2 || got[""] != want2[""] || got["suite-a"] != want2["suite-a"] {
				t.Errorf("journal by session %q, want %q\n%s", got, want2, data)
			}
		})
	}
}

// TestExecStopsWhenItsCallerCancels: run's caller ending ctx with no
// signal (a test harness, an embedding program) asks the command to stop:
// it gets one SIGTERM, its trap decides the status, and nothing kills it.
func TestExecStopsWhenItsCallerCancels(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX signals")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"exec", "--", "sh", "-c", `trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done`},
			func(string) string { return "" }, &stdout, &stderr)
	}()
	waitFor(t, "the command to start", func() bool { return strings.Contains(stdout.String(), "ready") })
	cancel()
	select {
	case err := <-done:
		var code exitCode
		if !errors.As(err, &code) || code != 7 {
			t.Fatalf("run returned %v, want the command's status 7\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("msgmock exec did not end after its context did")
	}
	if n := strings.Count(stdout.String(), "got-term"); n != 1 {
		t.Errorf("the command got %d SIGTERMs, want 1", n)
	}
}
