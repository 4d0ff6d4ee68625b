// Package wire is what every surface's handlers share on the HTTP side:
// the Exchange (the response writer that carries a request's configuration
// snapshot and what its journal entry records), problems (errors as values)
// with the Shape and Dialect each surface implements to render them, JSON
// writing, body reading, scripted answers and faults, pass-through
// forwarding and the Server-Sent Events loop.
//
// # Errors as values
//
// A check returns a *Problem — a status, the surface's own text for it or
// a given one, and what it is about — or nil; the surface that answered
// writes it once, in its shape (the Conversations API's envelope, FastAPI's
// detail, the admin API's {"error"}). Wire texts are data written beside
// their API, never built from Go errors.
//
// # One interface for what the APIs answer differently
//
// Dialect is the Conversations and the Workspace API's differences in one
// place: their error shape and default texts, the malformed fault's body,
// how a message, an event and a stream's data look, and their timestamps.
// The shared steps and the admin API call it; nothing outside an API's
// package asks which API it is talking to.
//
// # Rate-limit headers
//
// Limit sets X-RateLimit-Limit, -Remaining and -Reset (whole seconds until
// the window resets or the bucket is full, rounded up) for the most
// constrained window — the least left as a share of its limit, the later
// reset breaking a tie; on a refusal, the window that refused — and, for
// limits with headers: openai or anthropic, those services' names for the
// most constrained requests and characters ("tokens") windows of that
// style. A refusal is the API's own 429 with Retry-After in whole seconds,
// rounded up, and retry-after-ms where the limit asks for it; a
// Retry-After set before (a rate limit, a rule's headers) is never
// replaced by the dialects' default of 1. The names are written as the
// services spell them; every one is exposed to browsers by CORS. A message
// longer than a characters window's whole budget, which no wait would let
// through, is answered 413 in the API's shape ("Message too long for rate
// limit …"), with the rate-limit headers and no Retry-After: clients and
// SDKs retry a 429, not a 413.
//
// # API answers are data, never pages
//
// Every answer of the two APIs — their own, a rule's scripted body and
// headers, a fault's, a forwarded one — carries X-Content-Type-Options:
// nosniff and Content-Security-Policy: sandbox; default-src 'none';
// frame-ancestors 'none', set as the answer begins (Exchange.WriteHeader),
// after every other header. A scripted or imported answer may say
// Content-Type: text/html (respond.headers may set any type, a HAR keeps
// the recorded one), and without them it would be a page of the mock's
// origin, whose scripts pass the admin API's same-origin check. A rule's
// respond.headers cannot remove or weaken them: the two names are
// replaced, not refused at load, so that a HAR recorded from a service
// that sent its own CSP still imports and serves. The values are shared,
// pre-built slices: the default path allocates nothing more. The admin
// API and the inspector set their own.
//
// # Mid-stream faults
//
// StreamReplies, the APIs' SSE loop, applies the faults a streamed reply
// scripts on the chunks it delivers live; the admin API's stream (the
// inspector's) goes through Stream, which applies none.
package wire
