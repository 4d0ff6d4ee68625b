//go:build unix

package scenarios_test

import "syscall"

// mkfifo makes a named pipe, a hazard a fixtures tree may hold.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
