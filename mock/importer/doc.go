// Package importer is `msgmock import`: it turns a browser's recording of
// a failure (a HAR) into fixtures and a scenario that reproduce it, and a
// copied curl command into one rule. It works on bytes and returns files
// (name → bytes) with a summary, so that the command line and, later, the
// admin API (a HAR dropped on the inspector) share it; it imports neither
// net/http's server side nor the mock package. What answers show and how
// the files are written (with credentials redacted) is package capture's,
// shared with `msgmock record`.
//
// # What is read
//
// HAR 1.2 as Chromium's DevTools and Firefox export it: log.entries[] with
// request {method, url, headers, queryString, cookies, postData {mimeType,
// text, params, encoding}}, response {status, headers, cookies, content
// {size, mimeType, text, encoding}, _error}, timings.wait. Exporters' own
// keys are ignored; HTTP/2 pseudo headers (":authority") are dropped; a
// base64 body is decoded. Each entry is decoded on its own: a malformed
// one is skipped with its reason, not the whole file. A file that is not
// a HAR — empty, not JSON, truncated JSON, JSON without log.entries — is
// refused with one line saying which (ErrNotHAR), before anything is
// made. Entries are taken in the order the HAR lists them (browsers list
// them by start time).
//
// # Which entries are used
//
// An entry belongs to an API by its method and path, whatever the host:
// POST /v1/messages, GET /v1/conversations/{id}/messages, GET /v1/events,
// GET /v1/events/stream; POST and GET /api/v1/messages, GET
// /api/v1/messages/{id}, GET /api/v1/conversations, GET
// /api/v1/events/stream. Every other entry is skipped, saying why: another
// site's request (a host no API entry has), a path of neither API on the
// API's host, a CORS preflight, msgmock's own admin API, not HTTP (data:,
// blob:), no answer recorded (status 0 without a network error msgmock can
// give). An API entry whose body cannot be used is skipped too when the
// body is all it offers (a read whose body the HAR truncated — content.size
// longer than the text — or left out, a stream whose events it did not
// record, binary or undecodable base64).
//
// # Fixtures: the conversations before the recorded steps
//
// Every successful answer feeds the conversations and messages, with the
// ids, texts and times the service gave, as `msgmock record` reads them.
// Then what replaying the HAR's own sends creates again is left out: the
// message each successful send stored, the replies to it, and a
// conversation a send created (one that named none). Otherwise a replay
// would list those messages twice — once preloaded, once stored again
// with an id msgmock mints (the engine cannot store a message under a
// given id). So reads before the first send answer exactly as in the
// HAR; reads after it hold the same messages in the same order, those
// the replay created having new ids and times.
//
// # Scenario: each request's answers, in order
//
// A request is identified as rules can match it: a send by its API and
// body fields (text, sender_id, sender_type or role, and conversation_id —
// "" when it named none, left out when the replay creates that
// conversation anew, since its id will differ); a read by its method and
// path (a path holding an id the replay mints is matched by a regex of
// its shape). For each distinct request, the answers the HAR shows become
// rules in order, each with `times` (consecutive identical answers share
// one rule): an error (status ≥ 300) answers the same status, the headers
// that matter (Content-Type, Retry-After, WWW-Authenticate, Location for a
// redirect, RateLimit-* and X-RateLimit-*), the exact body when it is JSON
// (else msgmock's own body for the status) and timings.wait as `latency`;
// a network failure Chromium recorded (net::ERR_CONNECTION_RESET,
// ERR_EMPTY_RESPONSE, ERR_TIMED_OUT) becomes `fault: reset|empty|timeout`.
// A successful answer is unusual when its status is not the API's (200;
// 201 for a Workspace send: then `status`), its body is not the API's shape
// (then the exact body), or it took a second or more (then `latency`). A
// successful send's replies — messages replying to it (reply_to_message_id,
// parent_message_id), or a Workspace 201's inline ones — are scripted on
// its rule as `reply` with the same text, sender, metadata and, from the
// times shown, `after`. A usual answer that comes before an unusual one of
// the same request gets a rule too (a pass: the usual status, counted),
// keeping the order; after the last unusual answer there are no rules, so
// msgmock answers as usual. Rules are listed in the HAR's order, each with
// a comment naming its entries.
//
// Why `times` and not a `state` chain: the requests' conditions never
// overlap (they are equalities on the same fields, conversation_id ""
// included), so each request's answers come back in its own order however
// the others interleave. A state chain across requests would demand the
// HAR's exact interleaving, which concurrent requests (a poll beside a
// send) do not keep from one run to the next, and would stall silently at
// the first difference. POST /__mock/reset (or a new X-Mock-Session)
// starts the sequence again.
//
// Requests msgmock answers by its own checks, before any rule (SPEC §2/§3:
// no credentials, a Content-Type or body it refuses, an unknown
// conversation or message, Prefer: code=NNN), get no rule — it would never
// be tried — and are noted as such; when msgmock's status would differ
// from the HAR's, the summary warns.
//
// Reads: msgmock's rules match sends only until when.method and when.path
// exist. ReadRulesSupported asks the scenarios package whether they load;
// until they do, an error or unusual answer to a read is skipped with that
// reason, and the day they do, the same import writes them.
//
// # Credentials
//
// Every credential any entry carries, used or not — Authorization (and
// its token, and a Basic one's user and password), cookies (Cookie,
// Set-Cookie and the cookies lists: a value whose name says so, or that
// is token-long), any header, query or form parameter or JSON field whose
// name says auth, token, key, secret, password, session, csrf, signature
// or credential, a URL's user information — is replaced by <redacted>
// wherever the output would hold it: an error body that echoes the key, a
// message's text or metadata, a header (package capture says exactly
// what is noted), in any letter case and URL-escaped too. A redirect's
// Location is read as a URL: its token and OAuth code values go. And
// strings shaped like the keys services issue (sk_live_…, sk-…, JSON Web
// Tokens, GitHub, Slack, AWS and Google keys) go whether noted or not, for
// a HAR exported without the headers that would teach them. Request
// headers are never written.
//
// Chromium's default export ("sanitized") leaves Authorization and
// cookies out. A request without credentials that the service did not
// answer 401 is taken as authorized, so its rules are made as for the
// full HAR, and the summary says the replay must send a key (any: the
// imported directory has no settings, so msgmock accepts every key).
//
// # Output
//
// Two files named after the scenario (the HAR's file name, or
// --scenario): NAME-conversations.yaml and NAME.yaml. They are loaded as
// msgmock loads fixtures before they are returned; Write then puts them in
// place all or nothing: a new (or empty) directory is made in a hidden
// directory beside it and renamed; into a directory holding files, each
// file is written whole (temporary file, rename), only after checking that
// none exists (unless force) and that the directory's fixtures still load
// with them.
//
// A scenario is one file, which the loader reads up to 4 MiB and 200,000
// YAML nodes, and each of its rules is tried against the requests it
// answers: an import keeps the HAR's first MaxRules (1,000) rules, fewer
// if they do not fit one file (halved until it loads), and notes every
// entry left out, with a warning. A message of an answer that a fixtures
// file cannot hold (no sender_id, a field of another type) is left out of
// NAME-conversations.yaml, as the loader would refuse it. The work grows
// with the HAR's size, not its square: each conversation is sorted and
// indexed once.
//
// # curl
//
// A curl command is a request without its response. `msgmock import curl`
// makes one rule that matches the request as the HAR import would (a send
// by its fields — any conversation when it names none —, a read by method
// and path) and answers what --status, --body, --header, --latency or
// --fault say; without them, the status of the request's own `Prefer:
// code=NNN` (what the inspector's copy of a request scripted that way
// carries), so the rule makes it happen without the header. The rule,
// named curl-N, is added to the scenario's file in the fixtures directory
// (a new NAME.yaml when no file holds the scenario), keeping the rest of
// the file, and only if the directory still loads. ParseCurlCommand reads
// what Chromium's "Copy as cURL (bash)", Firefox's "Copy as cURL (POSIX)"
// and the inspector's "copy as curl" write: '…', "…" and $'…' quoting,
// backslash-newline, -H, -X, -d/--data/--data-raw/--data-binary/
// --data-urlencode/--json, --url, -b, -u, -G, --compressed and the other
// options that change nothing of the request. A command with expansions,
// pipes or several commands, a body read from a file (@file) or an option
// it does not know is refused, naming it.
package importer
