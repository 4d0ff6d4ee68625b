package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// setDeathSignal asks Linux to send CMD SIGTERM when msgmock dies, even by
// SIGKILL, so that a killed msgmock leaves no command behind. (Linux sends
// it when the thread that started CMD ends; Go's threads outlive it.)
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGTERM }

// groupRunning reports whether a process of group pgid still runs: zombies
// (dead, waiting for whoever adopted them to reap them) do not count, as
// kill(-pgid, 0) would count them.
func groupRunning(pgid int) bool {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …: the fields after the last ')'.
		fields := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
		if len(fields) < 3 || fields[0][0] == 'Z' || fields[0][0] == 'X' {
			continue
		}
		if g, err := strconv.Atoi(string(fields[2])); err == nil && g == pgid {
			return true
		}
	}
	return false
}
