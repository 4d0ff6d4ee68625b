// Package mock wires msgmock's HTTP server: the options, NewServer, the
// route table (routes.go, where every endpoint is listed) and the
// middleware every request passes through (middleware.go). The surfaces
// live in their own packages — conversations, workspace and admin — and
// work on the engine, which holds the behaviour without HTTP. mock reads
// its configuration from a *scenarios.Store, one immutable snapshot per
// request taken by the middleware, and never touches the file system.
//
// # Routing
//
// Routing is gorilla/mux, one subrouter per surface: /v1 (Conversations
// API), /api/v1 (Workspace API), /__mock (admin). Each answers its 404 and
// 405 in its own shape; a 405's Allow lists exactly the methods the path
// serves. No path is cleaned: /api, /api/ and //api/v1/messages answer the
// Workspace API's {"detail":"Not Found"}, //v1/messages the envelope's
// "Resource not found.".
//
// Outside the three prefixes, a path whose first segment is v1 is the
// Conversations API's (its base URL ends in /v1) and one whose first
// segment is __mock the admin API's. The rest of the host — /, /API/v1/…,
// /V1/…, /v1abc, /openapi.JSON — belongs to the Workspace API's FastAPI
// service, whose paths start at the root: it answers FastAPI's 404, and
// Starlette's 307 for a path that matches once its trailing slash is
// toggled (/openapi.json/). Real FastAPI's answers to such paths are
// recorded in testdata/fastapi/golden_outside.jsonl.
//
// Path variables are matched escaped and then unescaped, so an id holding
// %2F is one id. In the Conversations API and the admin API HEAD is served
// wherever GET is and listed in Allow; the Workspace API routes as
// Starlette does (see package workspace). A plain OPTIONS that is not a
// CORS preflight answers 405 like any other unlisted method.
//
// Routes without variables are also looked up in a table built from the
// router at start, so the default path pays no regexp; the router decides
// everything else. gorilla/mux is pinned at v1.8.0: v1.8.1 answers 404
// instead of a subrouter's 405 (gorilla/mux#751); a routes test fails if
// an upgrade brings that back.
//
// # The middleware
//
// Every request gets, in order: CORS (a preflight is answered here), a
// pooled wire.Exchange carrying the configuration snapshot, the handler,
// and then — whatever happened, a panic included — one journal entry (for
// the two APIs' routes; admin requests and preflights are not journaled)
// and one log line (method, path, status, duration, scenario, rule). A
// panic becomes the surface's own 500 and a log line with the stack; a
// fault's deliberate abort goes on to net/http, which drops the
// connection.
//
// # CORS
//
// An allowed origin (settings.cors.origins, "*" by default) is echoed,
// not answered with "*", together with Access-Control-Allow-Credentials,
// so fetch(…, {credentials: 'include'}) works; Vary: Origin is set.
// Responses expose Retry-After, WWW-Authenticate, Allow, Location,
// Content-Length and the rate limits' headers (wire.RateLimitHeaders) to
// scripts, plus settings.cors.expose. A preflight (204)
// is granted the request headers it asks for — whatever the app sends —
// unless settings.cors.headers fixes the list; only header names are
// echoed back. The policy comes from the settings and so changes on every
// hot reload, which is why no CORS library is used: rs/cors and
// gorilla/handlers fix their policy when the handler is built.
//
// # Limits
//
// Headers over 1 MiB in all are refused by net/http itself (431, plain
// text) before msgmock sees them. JSON is written compactly, without HTML
// escaping and without a trailing newline.
package mock
