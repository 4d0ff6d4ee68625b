package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock/openapi"
)

// initFixtures writes the built-in fixtures into a directory as a starting
// point, never overwriting a file that is there already.
func initFixtures(args []string, stdout, stderr io.Writer) error {
	dir, err := dirArg("init", args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "msgmock init: %v\n", err)
		return exitCode(2)
	}
	entries, err := fs.ReadDir(fixtures.FS, ".")
	if err != nil {
		return err
	}
	wrote := 0
	for _, e := range entries {
		data, err := fs.ReadFile(fixtures.FS, e.Name())
		if err != nil {
			return err
		}
		target := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			fmt.Fprintf(stdout, "kept  %s (it exists)\n", target)
			continue
		}
		if err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "msgmock init: %v\n", err)
			return exitCode(2)
		}
		fmt.Fprintf(stdout, "wrote %s\n", target)
		wrote++
	}
	fmt.Fprintf(stdout, "%d of %d built-in files written to %s; serve them with: msgmock --fixtures %s\n", wrote, len(entries), dir, dir)
	return nil
}

// printOpenAPI prints one of the OpenAPI documents msgmock serves.
func printOpenAPI(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return usageError(stderr, "openapi takes one document name: "+strings.Join(openapi.Names, ", "), commands["openapi"])
	}
	doc, ok := openapi.Document(args[0])
	if !ok {
		return usageError(stderr, fmt.Sprintf("no OpenAPI document %q (there are %s)", args[0], strings.Join(openapi.Names, ", ")), commands["openapi"])
	}
	_, err := stdout.Write(doc)
	return err
}

// dirArg is a command's optional fixtures directory, ./fixtures by default.
func dirArg(cmd string, args []string, stderr io.Writer) (string, error) {
	switch len(args) {
	case 0:
		return "fixtures", nil
	case 1:
		return args[0], nil
	}
	return "", usageError(stderr, cmd+" takes one directory at most", commands[cmd])
}

// health asks a running msgmock's /__mock/health, for a container's
// HEALTHCHECK: exit 0 if it answers ok, else 1.
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("health", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	def := getenv("MSGMOCK_ADDR")
	if def == "" {
		def = "127.0.0.1:8080"
	}
	addr := fl.String("addr", def, "address msgmock listens on")
	timeout := fl.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fl.Arg(0))
		}
		return usageError(stderr, err.Error(), commands["health"])
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageError(stderr, fmt.Sprintf("--addr %q: %v", *addr, err), commands["health"])
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening on every interface: ask on loopback
	}
	url := "http://" + net.JoinHostPort(host, port) + "/__mock/health"
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if tok := getenv("MSGMOCK_ADMIN_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "msgmock health: no answer from %s: %v\n", url, err)
		return exitCode(1)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		fmt.Fprintf(stderr, "msgmock health: %s answered %d %s\n", url, res.StatusCode, body)
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "ok: msgmock answers at %s\n", url)
	return nil
}
