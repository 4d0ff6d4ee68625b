package wire

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/upstream"
)

// Pass-through (settings.passthrough): what the fixtures do not cover goes
// to the real service. The API packages decide when (a send no rule
// matches, a conversation or message msgmock does not hold); everything
// else — a rule's answer, Prefer: code=NNN, validation, auth — msgmock
// answers itself. The upstream's answer goes back as it came; no answer is
// the API's own 502 (unreachable) or 504 (timeout), as Prefer would give
// them.

// PassThrough forwards the request when the configuration names an
// upstream, and reports whether it did. The journal shows it under the
// rule "passthrough".
func PassThrough(x *Exchange, r *http.Request, e *engine.Engine, d Dialect) bool {
	c := e.Upstream(x.Set)
	if c == nil {
		return false
	}
	x.Rule = "passthrough"
	if _, err := Forward(x, r, d, c, x.Body); err != nil {
		e.Logger().Warn("passthrough: no answer from the upstream", "upstream", c.Base(), "path", r.URL.Path, "error", err.Error())
	}
	return true
}

// Forward sends r, with body, to c and answers w with what came back, or
// with d's own 502 or 504 when nothing did. It returns what it wrote, and
// the failure if there was one.
func Forward(w http.ResponseWriter, r *http.Request, d Dialect, c *upstream.Client, body []byte) (*upstream.Response, error) {
	res, err := c.Do(r.Context(), r, body)
	if err != nil {
		res = UpstreamFailure(d, err)
	}
	res.Write(w)
	return res, err
}

// UpstreamFailure is d's own answer to an upstream that failed with err:
// 504 for upstream.ErrTimeout, else 502.
func UpstreamFailure(d Dialect, err error) *upstream.Response {
	status := http.StatusBadGateway
	if errors.Is(err, upstream.ErrTimeout) {
		status = http.StatusGatewayTimeout
	}
	cw := &captureWriter{h: http.Header{}}
	d.WriteProblem(cw, Status(status))
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
