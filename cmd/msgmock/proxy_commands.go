package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/record"
	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/upstream"
	"github.com/msgmock/msgmock/mock/verify"
	"github.com/msgmock/msgmock/scenarios"
)

// recordCmd is `msgmock record --upstream URL --out DIR [--addr A]`: a
// proxy to the real service that writes what it sees as fixtures.
func recordCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("record", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	up := fl.String("upstream", "", "base URL of the real service, such as https://api.example-ai.com")
	out := fl.String("out", "", "directory to write the recorded fixtures into")
	addr := fl.String("addr", "127.0.0.1:8080", "listen address (:0 picks a free port)")
	timeout := fl.Duration("timeout", 30*time.Second, "how long to wait for the upstream (then 504)")
	force := fl.Bool("force", false, "replace a recording --out already holds")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fl.Arg(0))
		}
		return usageError(stderr, err.Error(), commands["record"])
	}
	if *up == "" || *out == "" {
		return usageError(stderr, "record needs --upstream URL and --out DIR", commands["record"])
	}
	client, err := upstream.New(*up, *timeout)
	if err != nil {
		return usageError(stderr, err.Error(), commands["record"])
	}
	logOut := newLogWriter(stderr)
	defer logOut.Close()
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	rec, err := record.New(client, *out, record.Options{Logger: logger, Force: *force, UpstreamURL: *up})
	if errors.Is(err, record.ErrRecordingExists) {
		return usageError(stderr, "record: "+err.Error(), commands["record"])
	}
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	recCtx, stopRec := context.WithCancel(context.Background())
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Run(recCtx) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "msgmock %s recording on http://%s (upstream: %s; fixtures: %s)\n", versionString(), ln.Addr(), client.Base(), *out)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopRec()
	if werr := <-recDone; werr != nil {
		return fmt.Errorf("record: writing %s: %w", *out, werr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// verifyCmd is `msgmock verify --upstream URL [--fixtures DIR | --mock URL] SCRIPT`.
// Without --mock it runs a msgmock of its own on a free loopback port,
// serving --fixtures (./fixtures if there is one, else the built-in set).
func verifyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	up := fl.String("upstream", "", "base URL of the real service")
	mockURL := fl.String("mock", "", "base URL of a running msgmock (default: start one)")
	dir := fl.String("fixtures", "", "fixtures of the msgmock verify starts (default ./fixtures, else built-in)")
	scenario := fl.String("scenario", "default", "scenario active in the msgmock verify starts")
	timeout := fl.Duration("timeout", 30*time.Second, "per request")
	// Flags may come before or after the script.
	var positional []string
	rest := args
	for {
		if err := fl.Parse(rest); err != nil {
			return usageError(stderr, err.Error(), commands["verify"])
		}
		if fl.NArg() == 0 {
			break
		}
		positional = append(positional, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if *up == "" || len(positional) != 1 {
		return usageError(stderr, "verify needs --upstream URL and one SCRIPT", commands["verify"])
	}
	if *mockURL != "" && *dir != "" {
		return usageError(stderr, "give --mock or --fixtures, not both", commands["verify"])
	}
	data, err := os.ReadFile(positional[0])
	if err != nil {
		return usageError(stderr, err.Error(), commands["verify"])
	}
	script, err := verify.Load(data)
	if err != nil {
		return usageError(stderr, positional[0]+": "+err.Error(), commands["verify"])
	}
	base := *mockURL
	if base == "" {
		source, fsys, prefix, err := fixturesSource(*dir)
		if err != nil {
			return err
		}
		store, err := scenarios.NewFSStore(source, fsys, prefix, time.Now)
		if err != nil {
			return fmt.Errorf("fixtures %s: %w", source, err)
		}
		if *scenario != "default" && store.Current().Scenario(*scenario) == nil {
			return usageError(stderr, fmt.Sprintf("no scenario %q in %s", *scenario, source), commands["verify"])
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		mctx, stop := context.WithCancel(ctx)
		defer stop()
		m := mock.NewServer(mctx, mock.Options{Fixtures: store, Clock: clock.New(nil), Scenario: *scenario,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: versionString()})
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		base = "http://" + ln.Addr().String()
	}
	client := &http.Client{Timeout: *timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	results := verify.Run(ctx, script, *up, base, client)
	for i := range results {
		results[i].Err = redactedErr(results[i].Err)
	}
	if verify.Report(stdout, secret.RedactURL(*up), secret.RedactURL(base), results) {
		return exitCode(1)
	}
	return nil
}

// redactedErr is err with the URL a *url.Error names redacted: net/http
// names the whole request URL, whose query may hold a key.
func redactedErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = secret.RedactURL(ue.URL)
	}
	return err
}
