// Package upstream forwards a request to the real service msgmock stands
// in for: `msgmock record` (a recording proxy) and the passthrough setting
// use it. It knows nothing of either API: the callers turn its failures
// into the API's own 502 and 504.
//
// The base URL may carry credentials (https://user:password@host, or an
// api_key in its query): they are sent, never shown. Base and every error
// show the URL as secret.RedactURL does.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/secret"
)

// maxBody bounds what is read of an upstream's answer.
const maxBody = 64 << 20

// Failures a caller answers in the API's own shape.
var (
	// ErrUnreachable: no HTTP answer — the connection was refused or
	// reset, the name did not resolve (502 Bad Gateway).
	ErrUnreachable = errors.New("the upstream could not be reached")
	// ErrTimeout: no answer within the timeout (504 Gateway Timeout).
	ErrTimeout = errors.New("the upstream did not answer in time")
)

// Client forwards requests to one base URL.
type Client struct {
	base    *url.URL
	timeout time.Duration
	http    *http.Client
}

// New returns a Client for base (scheme, host and an optional path prefix)
// that gives each request up to timeout.
func New(base string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream %q: want an absolute http or https URL", secret.RedactURL(base))
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	return &Client{base: u, timeout: timeout, http: &http.Client{
		Transport: transport,
		// A redirect is an answer to pass on, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Base is the upstream's base URL, fit to print: its password and query
// credentials redacted.
func (c *Client) Base() string { return secret.RedactURL(c.base.String()) }

// Response is an upstream's answer, read whole.
type Response struct {
	Status int
	Header http.Header // end-to-end headers only
	Body   []byte      // decompressed
}

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 §7.6.1), plus Host and the framing net/http sets itself.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true, "Accept-Encoding": true, "Content-Encoding": true,
}

// forwarded reports whether a request header goes upstream: not the
// connection's own, and not msgmock's (X-Mock-*), which the real service
// does not know.
func forwarded(name string) bool {
	return !hopByHop[name] && !strings.HasPrefix(name, "X-Mock-")
}

// Do sends r (its method, path, query and end-to-end headers) with body to
// the upstream and reads the answer. A failure is ErrUnreachable or
// ErrTimeout, wrapping the cause.
func (c *Client) Do(ctx context.Context, r *http.Request, body []byte) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := *c.base
	target.Path = c.base.Path + r.URL.Path
	target.RawPath = ""
	if r.URL.RawPath != "" {
		target.RawPath = c.base.EscapedPath() + r.URL.RawPath
	}
	target.RawQuery = r.URL.RawQuery
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target.String(), rd)
	if err != nil {
		return nil, classify(ctx, err)
	}
	for k, vs := range r.Header {
		if forwarded(k) {
			req.Header[k] = vs
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, classify(ctx, err)
	}
	h := http.Header{}
	for k, vs := range res.Header {
		if !hopByHop[k] {
			h[k] = vs
		}
	}
	return &Response{Status: res.StatusCode, Header: h, Body: data}, nil
}

// Open sends r (a GET without a body, such as an event stream) to the
// upstream and returns its answer as soon as the headers are in, the body
// left to the caller to read and close: a stream lasts as long as the
// client or the upstream keeps it. The timeout applies to the headers only.
// Its headers are the end-to-end ones.
func (c *Client) Open(ctx context.Context, r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	target := *c.base
	target.Path = c.base.Path + r.URL.Path
	target.RawPath = ""
	target.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(ctx, r.Method, target.String(), nil)
	if err != nil {
		cancel()
		return nil, classify(ctx, err)
	}
	for k, vs := range r.Header {
		if forwarded(k) {
			req.Header[k] = vs
		}
	}
	timer := time.AfterFunc(c.timeout, cancel)
	res, err := c.http.Do(req)
	fired := !timer.Stop() // the headers came too late: the context is cancelled
	if err == nil && fired {
		res.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		if fired {
			return nil, fmt.Errorf("%w: %v", ErrTimeout, err)
		}
		return nil, classify(ctx, err)
	}
	for k := range res.Header {
		if hopByHop[k] {
			res.Header.Del(k)
		}
	}
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// cancelOnClose ends a stream's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// classify sorts a failure into ErrUnreachable or ErrTimeout; the URL it
// names (net/http's *url.Error holds the request's, query included) is
// redacted.
func classify(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = secret.RedactURL(ue.URL)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, err)
}

// Write answers w with res: its status, end-to-end headers and body.
func (res *Response) Write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range res.Header {
		h[k] = vs
	}
	h.Set("Content-Length", fmt.Sprint(len(res.Body)))
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}
