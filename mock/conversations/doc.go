// Package conversations is the Conversations API (seed 000): POST
// /v1/messages and its companions, their wire types, decoding and
// validation, and the envelope every answer is written in. What it answers
// differently from the Workspace API is its Dialect.
//
// # Order of checks
//
// POST /v1/messages checks auth, the rate limits' request windows,
// Content-Type, size, JSON, the fields in the document's table order, the
// characters windows, existence (conversation, reply_to message,
// auto-create), then Prefer: code=NNN and the scenario's rules; the first
// failure answers. Rate limits refuse right after auth, before the body
// is read, as the gateway in front of a real service does (an unknown key
// has no budget to spend, so 401 comes first); the reads and the stream
// check them after auth too. Prefer and rules apply after validation and existence,
// so an invalid request still gets its real error; Prefer codes outside
// 400–599 are ignored and Prefer may carry other preferences
// ("respond-async, code=500").
//
// # Decisions where the documents are silent
//
//   - Optional fields sent as null are absent; an empty conversation_id or
//     reply_to_message_id is absent too (a new conversation is created).
//   - Object keys match case-sensitively ("Text" is not text), and a key
//     given twice takes its last value, as Python's json does.
//   - The Bearer scheme is matched case-insensitively (RFC 9110); the token
//     is trimmed.
//   - GET /v1/conversations/{id}/messages: limit is 1–1000, default 100, and
//     keeps the newest N messages, oldest first — what a chat view renders.
//     A bad limit answers 400 "Query parameter 'limit' must be an integer
//     from 1 to 1000."
//   - GET /v1/events: an unknown after cursor answers 404 "Event not found:
//     <id>."; limit as above. The feed and the stream list only this API's
//     events; deltas are in the feed too; preloaded fixture messages make no
//     events. A message.delta's data is {conversation_id, message_id, delta}.
//   - An oversized body is read and discarded (up to 32 MiB) before the 413
//     is written, so a client still uploading gets the answer rather than a
//     reset connection.
//   - An unknown X-Mock-Scenario answers 400 "Unknown scenario: NAME."
//   - Timestamps are RFC 3339, UTC, whole seconds; the last second rendered
//     is cached, as most requests of a second share it.
package conversations
