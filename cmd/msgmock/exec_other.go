//go:build !unix

package main

import (
	"os"
	"os/exec"
	"time"
)

// commandGroup on systems without POSIX process groups: CMD alone.
type commandGroup struct{ cmd *exec.Cmd }

func newCommandGroup(cmd *exec.Cmd) *commandGroup { return &commandGroup{cmd: cmd} }
func (g *commandGroup) signal(sig os.Signal)      { _ = g.cmd.Process.Signal(sig) }
func (g *commandGroup) kill()                     { _ = g.cmd.Process.Kill() }
func (g *commandGroup) reap(grace time.Duration)  {}
