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
//
// Reading a clock takes no lock (every request reads it, some several
// times): its kind is fixed when it is made, and its instant and offset are
// swapped whole.
//
// # The scheduler under load
//
// Replies are due every few microseconds on a busy server. The loop sleeps
// until the first job is due plus wakeSlack (1 ms) and runs everything due
// by then, so it wakes at most about a thousand times a second, and a send
// wakes it only for a job due before the time it sleeps until — normally
// none, the new reply being due after the ones already waiting. A reply is
// so delivered up to 1 ms late on the wall clock, and stamped when it is
// delivered; on a virtual clock every job runs at its own time. The jobs
// wait in a 4-ary heap, as the runtime's timers do.
package clock
