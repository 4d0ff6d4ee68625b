package mock

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/msgmock/msgmock/mock/upstream"
	"github.com/msgmock/msgmock/scenarios"
)

// Pass-through (settings.passthrough): what the fixtures do not cover goes
// to the real service. A send (POST /v1/messages, POST /api/v1/messages)
// is forwarded when no rule of its scenario matches it, or when it names a
// conversation msgmock does not hold; a read of a conversation or message
// msgmock does not hold is forwarded instead of answering 404. Everything
// else — a rule's answer, Prefer: code=NNN, validation, auth — msgmock
// answers itself. The upstream's answer goes back as it came; no answer
// is the API's own 502 (unreachable) or 504 (timeout), as Prefer would
// give them.

// Forward sends r, with body, to c and answers w with what came back, or
// with api's own 502 or 504 when nothing did. It returns what it wrote,
// and the failure if there was one.
func Forward(w http.ResponseWriter, r *http.Request, api scenarios.API, c *upstream.Client, body []byte) (*upstream.Response, error) {
	res, err := c.Do(r.Context(), r, body)
	if err != nil {
		res = UpstreamFailure(api, err)
	}
	res.Write(w)
	return res, err
}

// UpstreamFailure is api's own answer to an upstream that failed with err:
// 504 for ErrTimeout, else 502, in the API's error shape.
func UpstreamFailure(api scenarios.API, err error) *upstream.Response {
	status := http.StatusBadGateway
	if errors.Is(err, upstream.ErrTimeout) {
		status = http.StatusGatewayTimeout
	}
	cw := &captureWriter{h: http.Header{}}
	if api == scenarios.APIWorkspace {
		workspaceError(cw, status, "")
	} else {
		conversationsError(cw, status, "", "")
	}
	return &upstream.Response{Status: cw.status, Header: cw.h, Body: cw.body.Bytes()}
}

// captureWriter keeps what a handler writes.
type captureWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.h }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

// passthroughClient is the client of the current settings' upstream,
// made once per URL and timeout so that its connections are reused.
type passthroughClient struct {
	settings scenarios.Passthrough
	client   *upstream.Client
}

func (s *Server) upstreamFor(set *scenarios.Set) *upstream.Client {
	want := set.Settings.Passthrough
	if want.URL == "" {
		return nil
	}
	if pc := s.passthrough.Load(); pc != nil && pc.settings == want {
		return pc.client
	}
	c, err := upstream.New(want.URL, want.Timeout)
	if err != nil {
		return nil // the loader checked the URL
	}
	s.passthrough.Store(&passthroughClient{settings: want, client: c})
	return c
}

// passThrough forwards the request when the settings name an upstream,
// and reports whether it did. The journal shows it under the rule
// "passthrough".
func (s *Server) passThrough(w http.ResponseWriter, r *http.Request, set *scenarios.Set, api scenarios.API) bool {
	c := s.upstreamFor(set)
	if c == nil {
		return false
	}
	ex := exchangeOf(w)
	ex.rule = "passthrough"
	_, err := Forward(w, r, api, c, ex.body)
	if err != nil {
		s.log.Warn("passthrough: no answer from the upstream", "upstream", c.Base(), "path", r.URL.Path, "error", err.Error())
	}
	return true
}
