// Package expect answers what a CI suite asks of a session once its code
// has run: did it send what it should, as often and in the order it should
// (Verify, for POST /__mock/verify); which requests did no rule answer
// (UnmatchedReport, for GET /__mock/unmatched); which scripted rules were
// never used (UsageOf, for GET /__mock/scenarios/{name}/usage). It reads
// journal entries (package state) with patterns compiled by package
// scenarios — a rule's own matchers — and has no HTTP.
//
// # What a pattern matches
//
//   - A pattern reaches every request of the journal, reads and sends
//     alike: unlike a rule's when, one that names no method is not limited
//     to sends. Its keys all hold: api, method, path, headers, status, the
//     scenario the request ran, rule, and when's keys. A request with no
//     value for a field does not match a condition on it, except
//     {absent: true}.
//   - The fields come from the journal entry as the API read them: the API
//     is the Conversations API for paths whose first segment is v1, else the
//     Workspace API. A send's (POST /v1/messages, POST /api/v1/messages)
//     text, sender_id, sender_type / role, conversation_id and metadata are
//     read from its body — top-level in the Conversations API; content.content,
//     content.sender_id, content.role (user when not sent, as the API takes
//     it) and content.meta_data in the Workspace API. A read's
//     conversation_id is the one in its path or its ?conversation_id=.
//     workspace_id (Workspace API only) is X-Workspace-Id, else that of the
//     API key the settings list, else wsp_default. A body the journal cut
//     (16 KiB) is not JSON and has none of these fields.
//   - Credentials: the journal keeps Authorization, X-Api-Key and the like
//     masked ("Bearer sk_t…3456 (fp 38782e13)"). A pattern's equals on such
//     a header may give the value as sent — it is masked the same way and
//     compared masked, which the fingerprint makes exact — or the masked
//     form itself; other operators match the masked form, so
//     {"suffix": "(fp 38782e13)"} picks a key by its fingerprint. With
//     settings.security.mask_credentials: false, values are compared as
//     sent.
//   - rule holds when it holds for one of the rules that fired (continue:
//     true rules included); {absent: true} for a request no rule fired for.
//
// # Counts and sequences
//
//   - A count left out is at_least 1; never is exactly 0; at_least and
//     at_most may go together.
//   - A sequence holds when its patterns match requests in their order, not
//     necessarily adjacent: each step takes the first matching request after
//     the previous step's (the earliest choice, which finds an order whenever
//     one exists). A pattern given twice needs two requests. A sequence
//     reads one session: its patterns name the same session, or none.
//   - A pattern without session reads the verifying request's
//     (X-Mock-Session). Reading never creates a session (verify, unmatched
//     and usage alike): one that does not exist reads as empty, so that a
//     verification naming many sessions cannot evict those in use past
//     retention.sessions. (GET /__mock/requests and the APIs still create
//     theirs; so does a cross-site page opening /v1/events/stream?session=…,
//     a known limit.)
//
// # Bounds
//
//   - A verification stops when its Options.Context ends: the admin API's
//     is the request's (the client gone) with a budget of 5 s of work, past
//     which it answers 503. The loops over journal entries (count, sequence,
//     closest) check it before each entry, with an atomic load.
//   - A regex reads the first 16 KiB of a value (scenarios.MaxRegexInput),
//     which is what the journal keeps of a body anyway; with at most 500
//     instructions a regex costs milliseconds per entry.
//   - A failure lists the ids of the first 100 requests it matched
//     (ids_truncated past that; matched counts them all). Unmatched pages:
//     the first limit (default 100, at most 1000) after ?after=, total
//     counting them all; UnmatchedReport's first line tells both.
//   - Failures show a pattern's values for credential headers (any
//     operator) masked with secret.MaskHeader, in request, sequence, the
//     closest requests' expected and the report, unless
//     settings.security.mask_credentials is false: a report printed in a CI
//     log shows no key the pattern gave as sent.
//
// # Failures
//
//   - Every expectation is checked and every failure reported, each with
//     what was expected and what was found, as text for a person.
//   - closest lists, for a count that found too few or a sequence step that
//     found nothing, the MaxClosest requests (of the step's candidates: those
//     after the previous step) nearest to the pattern, ranked by the number
//     of its conditions they miss, the earlier request first on a tie, each
//     with every field that differed (expected as written, actual as sent,
//     null when missing). A count that found too many lists none: the
//     matching ids are the answer. A step whose pattern matches only requests
//     before the previous step's lists those, with the difference "order".
//   - Counting the conditions a request misses allocates nothing and
//     checks what the entry itself holds (API, method, path, status,
//     scenario, rule) before its body is decoded; only the closest few are
//     described. Each entry's body is decoded once per verification.
//   - Report writes the failures as one text — what the npm client,
//     mocktest and the inspector show as it is — so that every client tells
//     a failure the same way.
//
// # Unmatched and usage
//
//   - A request is unmatched when it reached its scenario's rules (auth,
//     validation and existence passed; Prefer: code=NNN answers before the
//     rules) and none ended the match: it got the default behaviour, or was
//     passed through. Its near misses are computed then (package engine).
//   - A rule is used when it fired; one with times, when it fired that
//     often. A state step counts as used when its rule fired. Usage reads
//     the session's counters of the scenario, which reset and a change of
//     the scenario's YAML clear.
package expect
