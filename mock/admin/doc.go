// Package admin is the admin API (/__mock/*, plain JSON, errors as
// {"error": "…"}) and what it serves: the inspector page and the OpenAPI
// documents and fixtures schema. It works on the engine like the APIs do,
// and shows each API's messages and events through that API's Dialect.
//
// # Decisions
//
//   - With --admin-token every guarded route needs Authorization: Bearer
//     <token> (compared in constant time), or ?access_token= on the event
//     stream, which an EventSource opens; the two APIs stay open. The
//     inspector's files, the OpenAPI documents and the fixtures schema need
//     no token (they hold no data); /__mock redirects to /__mock/.
//   - The inspector is plain HTML, CSS and JavaScript embedded in the binary
//     (package inspector): no build step, nothing fetched from elsewhere, a
//     Content-Security-Policy of 'self' and frame-ancestors 'none'. It uses
//     the admin API alone: messages arrive over GET /__mock/events/stream
//     (both APIs, every workspace of a session, each event as its API's feed
//     shows it with "api" first); the journal, status, deliveries and clock
//     are polled once a second while the tab is visible, the journal with
//     ?after=.
//   - The journal keeps each response beside its request (headers msgmock
//     set, body up to 16 KiB); ids are sequential (req_000001) so they draw
//     nothing from the random stream. A body that is JSON is shown as JSON,
//     otherwise as text; GET /__mock/requests/{id}/body gives its bytes for
//     an exact replay.
//   - POST /__mock/reset also rewinds the session's random stream (the same
//     requests after a reset give the same ids as after start); it does not
//     move the clock. POST /__mock/clock on a running clock shifts it; it
//     keeps ticking from the new time.
//   - POST /__mock/verify answers 200 when every expectation holds and 422
//     with every failure when one does not (400, with each problem located
//     in the body, when it is not a verification; package expect holds what
//     a pattern matches). Both carry matched, ids (every match) and entries
//     (the first 100 in full); a failure's closest is repeated at the top
//     for a client that checks one expectation; report is the text every
//     client prints. GET /__mock/unmatched and
//     GET /__mock/scenarios/{name}/usage (any scenario the session can run:
//     added for it, added for all, the fixtures') carry one too.
//   - A verification works at most 5 s (verifyBudget), then answers 503
//     {"error": "…budget of 5s…"}: not 422 (nothing was found wanting), not
//     504 (msgmock is no gateway); retrying the same verification will not
//     help, so there is no Retry-After. A client that hangs up stops it
//     (logged as 499). A failure lists at most 100 ids (ids_truncated;
//     matched counts them all). GET /__mock/unmatched pages forward:
//     ?limit= (default 100, at most 1000; 400 past that) takes the first
//     after ?after=req_…, unlike /__mock/requests' limit (the last N, for
//     the inspector's tail); total counts them all, truncated tells more
//     remain. Verify, unmatched and usage create no session (package expect).
//   - GET /__mock/status lists auth.keys masked as the journal masks keys
//     ("sk_t…3456 (fp 38782e13)"; the fingerprint tells keys apart) unless
//     settings.security.mask_credentials is false; the inspector's composer
//     then starts with a key only when one is shown unmasked.
//   - A request no rule answered shows "unmatched": true and its
//     near_misses in the journal; X-Mock-Explain: 1 on the request adds them
//     to its answer as X-Mock-Near-Miss, one line of ASCII (wire.Decided),
//     so that answers stay byte for byte the same for every other client.
//   - Scenarios added over the API (PUT /__mock/scenarios/{name}, YAML or
//     JSON, validated as a file is) belong to the X-Mock-Session session, or
//     to every session without it; a reload of the files keeps them, a reset
//     removes them; at most 100 each.
package admin
