// Package engine is msgmock's behaviour without HTTP: the in-memory store
// (package state), the clock and scheduler, webhook dispatch, the
// scenarios added at run time, the server-wide active scenario and the
// pass-through upstream. The API packages decode a request, then work on
// the engine through one transaction and get its decisions back as values;
// they write the response. The engine never sees an http.Request and
// never writes a response.
//
// # One transaction per request
//
// Begin locks the request's session and End releases it: the lock has one
// owner, and a handler defers End instead of unlocking on every early
// return. The configuration snapshot (*scenarios.Set) a request runs on is
// taken once, by the server's middleware, and passed to Begin; nothing in
// a request reads the fixtures store again. Work that runs later (a reply
// falling due, a webhook retry) reads the configuration in use then.
//
// # Decisions as values
//
// Tx.Decide runs the scenario step both APIs share and returns an Outcome:
// proceed (with the rule's status, headers, body and latency), a scripted
// error or fault, an unknown X-Mock-Scenario, or pass-through. Tx.Commit
// stores a message and its replies and ends the transaction; it draws every
// random part of the replies while the request is handled, so that --seed
// gives byte-identical runs whatever the timing.
//
// # Determinism
//
// Every draw of a request — ids, fake text, chance rolls, latency samples,
// the ids and text of the replies it schedules — comes from its session's
// random stream, in the order the request makes them, with the session
// locked; replies' text is rendered from a seed drawn then. Nothing draws
// later from a timer.
//
// # Rules at run time
//
//   - A scenario's rules are tried in order and the first that matches and
//     is enabled fires; the default scenario's rules are tried after another
//     scenario's. times counts the times a rule fired; chance is rolled only
//     for a rule that matches and is otherwise enabled. Counters and states
//     belong to the session and restart on reset and when the scenario's
//     YAML changes (its digest).
//   - A rule whose respond is an error (400–599) or a fault stores nothing
//     and schedules no reply. A respond with a 2xx status, headers, a body or
//     only a latency still stores the message and schedules replies; its body
//     replaces what the client sees.
//   - latency is waited before any answer, faults included, raced against the
//     request's context (a client that hangs up frees it at once); a
//     log-normal sample is capped at ten times its p99.
//   - If the active scenario disappears in a reload, requests get the default
//     scenario's rules.
//
// # Near misses
//
//   - When no rule ends a request's match (it gets the default behaviour,
//     or is passed through), Decide lists in Outcome.NearMisses the
//     state.MaxNearMisses rules closest to matching, from the scenario it
//     ran and the default scenario, each with every condition that failed:
//     the when's keys that differ (expected as written, actual as sent),
//     times used up, a required state not reached, and — only when all else
//     held — a chance roll that missed. Ranked by how many failed, ties in
//     the order the rules were tried.
//   - Only rules that can reach the request are candidates: of its API (or
//     none) and, for a request that is not a send, naming a method or path.
//     A rule that fired with continue: true is not a miss. So the common
//     case — a rule answers — computes nothing, and a request no rule could
//     reach costs one loop over the rules with no allocation.
//   - Credential headers' values in a near miss are masked as the journal
//     masks the request's (unless settings.security.mask_credentials is
//     false); an actual value is kept to scenarios.MaxShown bytes.
//
// # Replies
//
//   - Replies answer the message that triggered them (reply_to_message_id or
//     parent_message_id is set to it); their created_at is the clock when
//     they are stored. A reply due after a reset of its session, or whose
//     conversation was evicted, is dropped.
//   - Inline replies (Workspace API) are stored with the request and returned
//     in its 201.
//   - Replies wait in one scheduler, bounded at 100,000 jobs (a streamed
//     reply is one per chunk, plus one) and state.PendingLimit of the budget
//     in reply bytes. Past either a reply is refused: the message is stored
//     and answered as usual, auto_reply_enqueued is false, and the refusal is
//     counted (a log line for the 1st, 2nd, 4th, 8th… one). A full scheduler
//     refuses plain replies before they are rendered.
//   - A template that breaks its budget when run (scenarios.ErrTemplateBudget)
//     makes no reply: the message is stored, the request is answered the
//     API's own 500, and the failure is logged and counted (/__mock/status
//     template_failures). A request whose client left stops its rendering.
package engine
