// Command msgmock-load drives a running msgmock (or any HTTP server) with
// N connections for T seconds and prints the throughput and latency
// percentiles. It needs nothing outside Go:
//
//	go run ./cmd/msgmock-load -c 16 -d 10s http://127.0.0.1:8080
//	go run ./cmd/msgmock-load -path /api/v1/messages -body '{"content":{"content":"hi","sender_id":"u"}}' http://127.0.0.1:8080
//
// `msgmock-load bare [-addr A]` serves the bare net/http handler msgmock is
// measured against (bare.Handler), for wrk and the like (.ci/perf).
// For `.ci/perf curves`, `msgmock-load curve-fixtures [-journal N] DIR`
// writes the curves' fixtures (package curves) and `msgmock-load fill -n N
// [-session S] BASE_URL` sends the messages that fill a server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/cmd/msgmock-load/bare"
	"github.com/msgmock/msgmock/cmd/msgmock-load/curves"
)

const defaultBody = `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web","locale":"en-US"},"auto_reply":true}`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "msgmock-load:", err)
		os.Exit(2)
	}
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// Result is what one run measured.
type Result struct {
	Requests int
	Errors   int
	Statuses map[int]int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "bare":
			return serveBare(ctx, args[1:], out)
		case "curve-fixtures":
			return writeCurveFixtures(args[1:], out)
		case "fill":
			return fill(ctx, args[1:], out)
		}
	}
	fs := flag.NewFlagSet("msgmock-load", flag.ContinueOnError)
	conns := fs.Int("c", 8, "concurrent connections")
	dur := fs.Duration("d", 10*time.Second, "how long to run")
	method := fs.String("method", "POST", "HTTP method")
	path := fs.String("path", "/v1/messages", "request path (and query)")
	body := fs.String("body", defaultBody, "request body (empty for none)")
	var headers headerFlags
	fs.Var(&headers, "H", `request header "Name: value" (repeatable; default: the seed's key and JSON content type)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: msgmock-load [flags] BASE_URL")
	}
	if len(headers) == 0 {
		headers = headerFlags{"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json"}
	}
	if *conns < 1 || *dur <= 0 {
		return errors.New("-c must be at least 1 and -d positive")
	}
	url := strings.TrimSuffix(fs.Arg(0), "/") + *path
	res, err := load(ctx, url, *method, *body, headers, *conns, *dur)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s: %d connections, %s\n", *method, url, *conns, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "requests %d, errors %d, %.0f req/s\n", res.Requests, res.Errors, float64(res.Requests)/res.Elapsed.Seconds())
	fmt.Fprintf(out, "latency p50 %s, p99 %s\n", res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond))
	var codes []int
	for c := range res.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(out, "status %d: %d\n", c, res.Statuses[c])
	}
	return nil
}

func load(ctx context.Context, url, method, body string, headers []string, conns int, dur time.Duration) (Result, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()

	type worker struct {
		lat      []time.Duration
		errors   int
		statuses map[int]int
	}
	workers := make([]worker, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &workers[i]
		w.statuses = map[int]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, err := http.NewRequestWithContext(ctx, method, url, rd)
				if err != nil {
					w.errors++
					return
				}
				for _, h := range headers {
					k, v, _ := strings.Cut(h, ":")
					req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						w.errors++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				w.lat = append(w.lat, time.Since(t0))
				w.statuses[res.StatusCode]++
			}
		}()
	}
	wg.Wait()
	r := Result{Elapsed: time.Since(start), Statuses: map[int]int{}}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Errors += w.errors
		for c, n := range w.statuses {
			r.Statuses[c] += n
		}
	}
	r.Requests = len(all)
	if len(all) == 0 {
		return r, fmt.Errorf("no request completed against %s (%d errors)", url, r.Errors)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r.P50, r.P99 = all[len(all)/2], all[(len(all)*99)/100]
	return r, nil
}

// serveBare serves bare.Handler until ctx ends.
func serveBare(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("msgmock-load bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bare.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "bare handler listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeCurveFixtures writes curves.Fixtures into a new directory.
func writeCurveFixtures(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("msgmock-load curve-fixtures", flag.ContinueOnError)
	journal := fs.Int("journal", 1000, "settings.retention.journal (0: the built-in retention, as msgmock ships)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: msgmock-load curve-fixtures [-journal N] DIR")
	}
	files, err := curves.Fixtures(*journal)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%d files in %s\n", len(files), dir)
	return nil
}

// fill sends curves.FillBody(0 … n-1) over c connections and fails on the
// first answer that is not 200.
func fill(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("msgmock-load fill", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "messages to send")
	conns := fs.Int("c", 16, "concurrent connections")
	session := fs.String("session", "", "X-Mock-Session")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *conns < 1 {
		return errors.New("usage: msgmock-load fill [-n N] [-c C] [-session S] BASE_URL")
	}
	url := strings.TrimSuffix(fs.Arg(0), "/") + "/v1/messages"
	transport := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(curves.FillBody(i)))
				if err != nil {
					cancel(err)
					return
				}
				req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
				req.Header.Set("Content-Type", "application/json")
				if *session != "" {
					req.Header.Set("X-Mock-Session", *session)
				}
				res, err := client.Do(req)
				if err != nil {
					cancel(err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					cancel(fmt.Errorf("message %d: %d %s", i, res.StatusCode, body))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d messages in %s\n", *n, time.Since(start).Round(time.Millisecond))
	return nil
}
