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
//   - A reload that would remove a scenario some session (or the server)
//     has active is refused, and the last good configuration keeps serving
//     (the engine's guard on the fixtures store, shown as a reload problem):
//     requests would otherwise fall back to the default scenario without a
//     word, and with pass-through on reach the real service. Switch scenario
//     first, or restore the file. If an active scenario disappears any other
//     way, requests get the default scenario's rules.
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
//     false) — what the request sent and what the rule wants, whatever the
//     condition (equals, contains, prefix, suffix, regex: a fragment of the
//     fixture's key is still the key); an actual value is kept to
//     scenarios.MaxShown bytes.
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
//   - A streamed reply's plan is its stream merged over its profile
//     (scenarios.Settings.StreamPlan). Its first delta comes first_token
//     after the reply's after, each next one a gap later — the interval,
//     or one second over tokens_per_second, varied by the jitter — and its
//     message.created a gap after the last delta. Chunk sizes, the first
//     token, every gap and every fault (its chance and, when it names no
//     chunk, which chunk) are drawn while the request is handled, after
//     the chunks' event ids, so a stream that draws nothing is paced as it
//     always was. A stall lengthens the gap after its chunk; drop,
//     malformed and repeat mark their chunk's event (state.DeliveryFault)
//     for the streams and webhooks that deliver it (see wire.StreamReplies
//     and package webhooks): the log holds every chunk once, whole.
//   - Options.Speed (serve --speed) divides every scripted wait — latency,
//     after, first token, gaps and stalls — as it is drawn; rate-limit
//     windows and webhook back-off keep their time.
//   - A template that breaks its budget when run (scenarios.ErrTemplateBudget)
//     makes no reply: the message is stored, the request is answered the
//     API's own 500, and the failure is logged and counted (/__mock/status
//     template_failures). A request whose client left stops its rendering.
//
// # Rate limits
//
// Limit counts a request against the limits of the settings and of the
// scenario it runs (X-Mock-Scenario, else the session's active one, else
// the server's; the default scenario's limits apply only when it runs —
// limits are not rules, there is no falling through). Decisions:
//
//   - Every window belongs to one session: a session is a world of its own,
//     as for every other state, so parallel suites never share a budget.
//     Within it a window is keyed by the limit (settings' or a scenario's,
//     by name) and the key: the API key the request authenticated with —
//     the Bearer token (a stream's ?access_token=), for the Workspace API
//     else x-api-key; limits are checked after auth, so a request without a
//     key is a 401 and counts nowhere — kept as its SHA-256, shown masked;
//     the session, or the workspace — the Workspace API's X-Workspace-Id,
//     else the key's workspace, else wsp_default; for the Conversations API,
//     which names none, the key's workspace, else wsp_default.
//   - A request counts one against every requests window of its API —
//     sends, reads and stream connects alike — and a send its message's
//     characters (Unicode code points) against the characters windows, in
//     a second check once the message is validated. A request refused by
//     any window counts against none of them (the requests already counted
//     when its characters are refused stay counted: it reached the
//     service).
//   - A fixed window starts with the first request counted in it and lasts
//     per; a token bucket starts full and refills continuously. Both run on
//     the engine's clock: a frozen clock never resets a window by itself,
//     a virtual one resets it when moved past. A window whose limit changed
//     in a reload starts afresh. Retry-After is until a fixed window ends,
//     or until the bucket holds the request again.
//   - A message longer than a characters window's whole budget (a fixed
//     window's characters, a bucket's burst) can never be accepted: the
//     decision says so (LimitDecision.Never), counts nothing, and the API
//     answers it 413 without Retry-After (see wire.Limit), not a 429 that
//     a client would retry forever.
//   - Windows are bounded per session and in all: a session holds at most
//     MaxSessionWindows (past it its own least recently used window goes);
//     at most retention.sessions + 1 sessions hold windows, as many as the
//     store keeps (a new one makes the least recently used one forget all
//     of its); and all sessions together hold at most MaxWindows (past it
//     the least recently used window of the session holding the most goes,
//     found by a loop over those sessions, run only at the bound). So a
//     session sending a new key with every request evicts its own windows,
//     never another's that holds fewer. Evictions are counted (status:
//     rate_limits.evicted). A reset of a session forgets its windows, the
//     default session's included; other sessions keep theirs.
//   - With no limit in the fixtures nor in a scenario added at run time,
//     the check is one flag read: the default path allocates nothing more.
package engine
