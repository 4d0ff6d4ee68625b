// Package clock is msgmock's time: the Clock every id, timestamp and wait
// is read from, and the Scheduler that runs delayed work (replies, stream
// chunks, webhook retries) on it.
//
// # Three kinds of clock
//
// A wall clock follows the machine's time plus an offset POST /__mock/clock
// can shift; a frozen one (--now) stands still but its waits run in real
// time; a virtual one (--clock virtual) stands still and every wait runs on
// it, so a test moves it and what falls due is delivered, in time order,
// before the move returns.
package clock
