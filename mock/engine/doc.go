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
package engine
