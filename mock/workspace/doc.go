// Package workspace is the Workspace Messages API (seed 001), a FastAPI
// service: POST /api/v1/messages and its companions, answered as FastAPI,
// Starlette and Pydantic v2 answer them, byte for byte (package pydantic
// emulates CPython's json and Pydantic's validation; the goldens under
// mock/testdata/fastapi were recorded from the real stack). What it answers
// differently from the Conversations API is its Dialect.
//
// # The request models
//
// In field order: body content (object, required), conversation_id
// (str | None), enable_memories (bool | None, default false); content:
// content, sender_id (str, required), created_at (datetime | None), role
// (str, default user), message_type (str, default text), tool_calls
// (list[dict] | None), parent_message_id (str | None), tags
// (list[str] | None), meta_data (dict, default {}; null is a dict_type
// error), attachments (list[dict] | None).
//
// # Decisions where the documents are silent
//
//   - A non-JSON or missing Content-Type is reported with the other
//     validation errors, after auth: FastAPI hands such a body to validation
//     as raw bytes (strict_content_type, its default since 0.132). SPEC §3
//     reads a missing one as JSON; real FastAPI 0.141 does not, and real
//     FastAPI wins.
//   - A Bearer Authorization wins over x-api-key; an Authorization of another
//     scheme is ignored, as HTTPBearer(auto_error=False) ignores it. Both
//     401s carry WWW-Authenticate: Bearer.
//   - sent_at echoes the request's created_at as Pydantic serialises it:
//     naive stays naive, offsets are kept, UTC is Z, microseconds only when
//     non-zero. The store keeps the instant with its offset; this package
//     renders it. created_at and updated_at are the server's clock in UTC.
//     parent_message_id is stored as given, not checked; owner_id is the
//     key's owner in the settings, else null.
//   - The input of an error is re-serialised as Python's
//     json.dumps(ensure_ascii=False) would (1.50 becomes 1.5); an error
//     whose input holds NaN, an infinity or a lone surrogate cannot be
//     written by FastAPI, which answers Starlette's text/plain 500, and so
//     does msgmock. JSON errors follow CPython 3.11/3.12's C scanner.
//   - GET /api/v1/messages: conversation_id is required; order_by is one of
//     created_at, updated_at, sent_at and order_direction asc or desc
//     (literal_error otherwise); desc is the exact reverse of asc.
//     GET /api/v1/conversations lists the request's workspace, newest first.
//   - The workspace is X-Workspace-Id, else the key's, else wsp_default;
//     wsp_forbidden always answers 403 (QA's reproducible 403), and any
//     workspace the settings do not list when they list some.
//   - Rate limits run as a FastAPI dependency declared after the auth one
//     would: after the JSON parse (422 json_invalid) and auth (401), before
//     validation — FastAPI raises a dependency's HTTPException before the
//     validation errors it collected — so a 422 for a bad body is counted,
//     and a 429 comes before it once the window is spent. A send's
//     characters (content.content) are counted once it is validated, before
//     the workspace check. Reads and the stream check after auth too. A
//     window keyed by workspace uses the workspace asked for, allowed or not.
//   - With conversations.auto_create: false, a request without
//     conversation_id answers 422 missing at ["body","conversation_id"].
//   - Messages and conversations of one API are not visible through the
//     other. The stream lists the request's workspace only.
//
// # Routing as Starlette does
//
// GET does not serve HEAD (405); a 405's Allow lists the methods of the
// first route for the path; a path that matches once its trailing slash is
// toggled answers 307 to it, with the query and an empty body. The service
// serves its OpenAPI document at /openapi.json (GET and HEAD).
package workspace
