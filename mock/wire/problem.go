package wire

import (
	"net/http"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// Problem is an error answer as a value: a check returns one (or nil) and
// the surface that answered renders it once, in its own shape.
type Problem struct {
	Status int
	Kind   Kind
	// Message is the text to answer; "" means the surface's own text for
	// Status (SPEC §5's table for the two APIs).
	Message string
	// Subject is what the problem is about: the conversation a request
	// names (the Conversations API's default 404 names it), the unknown
	// scenario's name.
	Subject string
	// Detail is a body only its own surface renders (the Workspace API's
	// list of validation errors); nil for the others.
	Detail any
}

// Kind says which of the problems every surface answers in its own words
// a Problem is.
type Kind uint8

const (
	// StatusProblem is Status, answered with Message or the surface's text
	// for that status (Prefer: code=NNN, a scripted rule, a failed check).
	StatusProblem Kind = iota
	// NoRoute: no route has the request's path.
	NoRoute
	// NoMethod: the path has no route for the request's method (the Allow
	// header is set before the problem is written).
	NoMethod
	// Internal: a handler panicked.
	Internal
	// UnknownScenario: X-Mock-Scenario names no scenario (Subject).
	UnknownScenario
)

// Status returns a problem answering status with the surface's own text.
func Status(status int) *Problem { return &Problem{Status: status} }

// Shape writes problems in one surface's error shape.
type Shape interface {
	WriteProblem(w http.ResponseWriter, p *Problem)
}

// Dialect is what the two APIs answer differently. Each API package
// implements it once; the shared steps (scripted errors and faults,
// pass-through failures, the admin API's views, webhooks) call it.
type Dialect interface {
	Shape
	API() scenarios.API
	// MalformedBody is the truncated 200 of the malformed fault.
	MalformedBody() []byte
	// Message is a stored message as the API shows it.
	Message(m *state.Message) any
	// Event is an event as the API's feed shows it (GET /v1/events, webhooks).
	Event(ev *state.Event) any
	// StreamData is an event's data line on the API's SSE stream.
	StreamData(ev *state.Event) any
	// Timestamp renders an instant as the API writes its timestamps.
	Timestamp(t time.Time) string
}

// HandlerFunc serves one route. It writes a success itself; a problem it
// returns is written by the surface that routed it, in its shape. It
// returns nil, having written nothing, when the client went away.
type HandlerFunc func(x *Exchange, r *http.Request) *Problem
