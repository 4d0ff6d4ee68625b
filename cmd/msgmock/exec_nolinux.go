//go:build unix && !linux

package main

import "syscall"

// setDeathSignal: only Linux can signal a child when its parent dies.
func setDeathSignal(*syscall.SysProcAttr) {}

// groupRunning reports whether a process of group pgid is still there.
func groupRunning(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
