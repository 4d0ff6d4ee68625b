//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// commandGroup is how exec reaches CMD and what CMD started. Without a
// terminal (CI, a script), CMD leads a process group of its own: signals
// go to the whole group, and when CMD has exited, what it left running
// there (a `sleep &`, a server it started) is ended too. At a terminal CMD
// stays in msgmock's group, which the terminal signals as a whole, so that
// it keeps the terminal (a watch mode's keys, a debugger's prompt).
type commandGroup struct {
	cmd *exec.Cmd
	own bool // CMD leads its own process group
}

func newCommandGroup(cmd *exec.Cmd) *commandGroup {
	g := &commandGroup{cmd: cmd, own: !stdinIsTerminal()}
	attr := &syscall.SysProcAttr{Setpgid: g.own}
	setDeathSignal(attr) // Linux: CMD gets SIGTERM if msgmock dies
	cmd.SysProcAttr = attr
	return g
}

// signal sends sig to CMD, or to its whole group.
func (g *commandGroup) signal(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if g.own && ok {
		_ = syscall.Kill(-g.cmd.Process.Pid, s)
		return
	}
	_ = g.cmd.Process.Signal(sig)
}

// kill ends CMD and its group at once.
func (g *commandGroup) kill() { g.signal(syscall.SIGKILL) }

// reap ends what CMD left running in its group once CMD has exited:
// SIGTERM, then SIGKILL for what is still there after grace.
func (g *commandGroup) reap(grace time.Duration) {
	if !g.own {
		return
	}
	pgid := g.cmd.Process.Pid
	if syscall.Kill(-pgid, syscall.SIGTERM) != nil {
		return // nothing left
	}
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !groupRunning(pgid) {
			return
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// stdinIsTerminal reports whether msgmock's input is a terminal: a
// character device other than /dev/null.
func stdinIsTerminal() bool {
	in, err := os.Stdin.Stat()
	if err != nil || in.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(in, null)
}
