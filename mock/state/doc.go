// Package state is msgmock's in-memory state: sessions (what X-Mock-Session
// scopes), their conversations and messages, the event log, the request
// journal, rule counters and states, each session's random stream, and the
// memory accounting and eviction that keep all of it bounded.
//
// It knows nothing of HTTP. The invariants it keeps, tested over seeded
// random sequences of operations (invariants_test.go):
//
//   - the bytes counted are the bytes held — the arenas' chunks, their
//     slot tables, the indexes and the logs, recounted from scratch after
//     every operation — and after any write they are within the budget
//     less the collector's reserve (retention.message_bytes, which the
//     loader keeps at least twice the body limit);
//   - a session just created or used is never the one a limit evicts, and
//     a write never evicts what it writes: its conversation, its message,
//     its event or journal entry;
//   - fixture conversations are never evicted whole;
//   - what a write stored stays readable, as it was written, until a
//     documented limit evicts it, and every eviction is counted (Stats)
//     and, for sessions and budget shedding, logged.
//
// # Retention
//
// Defaults: 1,000 conversations per session, 1,000 messages per
// conversation, 1,000 journal entries and 10,000 events per session, 100
// sessions, and message_bytes 48MiB for what all sessions hold together:
// messages (each held once while a conversation or an event holds it),
// events and journal entries, with what indexes them. message_bytes must
// be at least twice body_limit, so that one message and its event always
// fit. Past a count limit the oldest goes first; past retention.sessions
// the least recently used named session is dropped — recency is the order
// of use, not the clock.
//
// Past the byte budget less the reserve (Reserve: a quarter of it), the
// write that crossed it sheds down to 90% of that: the least recently used
// other sessions (the default session too: it comes back empty, with its
// fixtures), then the writer's own oldest events, its oldest journal
// entries and the oldest messages of its largest conversations. The budget
// never removes a conversation whole, so a client writing to one never
// gets a 404 because of it.
//
// The journal keeps at most 16 KiB of each body and 8 KiB of headers (each
// value cut at 1 KiB and marked "…[N bytes]"), so a request with huge
// headers costs a few KiB. Every session has its own random stream, seeded
// from --seed and the session id, so parallel sessions do not perturb each
// other; a reset rewinds it. The store keeps instants (times with their
// offset); the API packages render them.
//
// # Memory the collector does not walk
//
// A suite that has sent 100,000 messages must not get slower requests than
// a fresh server. Kept as Go structs — a Message of some 360 bytes full of
// pointers and a string per field, an Event, a JournalEntry with its
// header block, maps of pointers — 100,000 messages were some 530,000 heap
// objects, every one of them walked by every collection; at the budget the
// live heap sat at the memory limit and the collector ran back to back
// (BenchmarkCurves budget-full: 0.27 of a fresh server). So a session keeps
// what it retains without pointers:
//
//   - records in arenas (arena.go): messages (with chunks' text) in one,
//     journal entries in another, as bytes in chunks of up to 64 KiB,
//     allocated as []byte (noscan: the collector marks a chunk and never
//     looks inside). A record is addressed by a handle, an index into a
//     pointer-free slot table that says where it lies and how many hold it:
//     a message is held by its conversation and by each of its events, and
//     an event keeps it after the conversation lets it go. Large records
//     (over 16 KiB, or half a chunk while a session's chunks still grow
//     from 4 KiB) get a chunk of their own, freed with them.
//   - compaction: a chunk found under half live (when a record in it dies,
//     or when it stops being filled) has its live records copied into the
//     chunk being filled and is freed; handles stay, only slots change. So
//     every chunk but one is at least half live and the chunks hold at most
//     twice the live bytes plus a chunk. Records are written in time order
//     and mostly die in it (logs and conversations turn over oldest first):
//     chunks mostly die whole, and full-size ones go to a pool that any
//     arena fills again, so that a server turning over allocates none. The
//     slot table hands out the lowest free slot and trims its end, so it
//     follows what is live too.
//   - indexes as open-addressing tables of two 64-bit words (table.go):
//     message id → handle keyed by the id's hash (two ids sharing a hash
//     are told apart by the record's id), event id → sequence number keyed
//     by the id itself (evt_ and eight characters: EventID, eight bytes).
//     They shrink as they empty, so their size is exact, which Go maps'
//     is not.
//   - the event log as fixed-size records (eventRec, 48 bytes) and the
//     journal and each conversation as rings of handles (ring.go).
//
// Only conversations (bounded by retention.conversations), sessions and
// rule states remain Go structs. At the budget the heap holds about as many
// objects with 400,000 messages sent as with none (some 35,000 with the
// curves' fixtures, against 530,000 for 100,000 messages before), and a
// message costs what it is: 100,000 of the curves' messages count 20 MiB
// where their approximate sizes counted 55.
//
// Readers get copies: Conversation.Messages and Tail, Session.Message,
// EventAt, Journal and JournalEntry decode records into the Message, Event
// and JournalEntry types, which the caller keeps after the session's lock.
// A filter of the event log (EventFilter) reads the records in place. Writes
// decode nothing: a send encodes its message straight into the arena and
// its journal entry is captured (Capture, outside the lock) into a pooled
// buffer that Record copies in — fewer allocations than before, none per
// request in the state itself. A streamed reply's chunks are logged before
// its message is stored: the chunks' events hold the message's record, and
// storing the message rewrites that record (the Message remembers its
// handle), so that the chunks' events show the message as stored, as they
// did when they shared its pointer.
//
// Replies waiting for their delay are not the session's yet, but under load
// tens of thousands wait (the engine's scheduler holds them), and as
// Messages with their strings and the closures that store them they were
// the bulk of what the collector marked. A plain reply (not streamed) waits
// packed: Pack encodes it as the record it will be (Packed, bytes), and
// StorePacked copies that record into the arena when it falls due, setting
// its times — decoded only if a webhook wants its event. Under wrk the live
// heap went from 17 to 11 MB and a collection's marking from about 12 to
// 5 ms; a streamed reply keeps its Message, whose chunks share its record.
//
// # The collector's reserve
//
// The bytes counted are the bytes held, so at budget-full the heap is the
// budget plus what the process holds besides (the configuration, requests
// in flight: some 5 MiB with the curves' fixtures) plus the runtime's own
// (span metadata, heap bitmaps, fragmentation: some 10 MiB at 48 MiB).
// The runtime's memory limit (mock.MemoryLimit: the budget and 8 MiB, so
// that the RSS, with the binary's own pages, stays within the budget and
// 20 MiB) would leave the collector no room: at the limit it collects back
// to back. So the state sheds at the budget less Reserve, a quarter of it,
// which leaves the collector some 4 MiB to work in at the default budget —
// a collection every few thousand requests, and with a pointer-free state
// a collection costs a few milliseconds however much is held. Replies and
// webhook deliveries waiting (PendingLimit each) come out of that room.
package state
