//go:build !unix

package scenarios_test

import "errors"

// mkfifo: no named pipes in a directory here; the FIFO cases skip.
func mkfifo(string) error { return errors.New("no named pipes on this system") }
