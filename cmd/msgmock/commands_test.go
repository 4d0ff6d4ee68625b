package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/fixtures"
)

// TestCommandLine: --version, -h/--help on every subcommand, and an error
// printed once, on one line, with a hint and exit status 2.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		code       int // 0 means no error
		out, err   string
		outAnyLine bool
	}{
		{args: []string{"--version"}, out: "msgmock dev\n"},
		{args: []string{"version"}, out: "msgmock dev\n"},
		{args: []string{"version", "--help"}, out: "usage: msgmock version\n"},
		{args: []string{"validate", "--help"}, out: "usage: msgmock validate [DIR]\n"},
		{args: []string{"validate", "-h"}, out: "usage: msgmock validate [DIR]\n"},
		{args: []string{"init", "--help"}, out: "usage: msgmock init [DIR]\n"},
		{args: []string{"health", "-h"}, out: "usage: msgmock health [--addr HOST:PORT]\n"},
		{args: []string{"--help"}, out: "msgmock — a mock server", outAnyLine: true},
		{args: []string{"serve", "-h"}, out: "msgmock — a mock server", outAnyLine: true},
		{args: []string{"--bogus"}, code: 2, err: "msgmock: flag provided but not defined: -bogus (see 'msgmock --help')\n"},
		{args: []string{"serve", "--seed", "x"}, code: 2, err: "msgmock: invalid value \"x\" for flag -seed: parse error (see 'msgmock --help')\n"},
		{args: []string{"frobnicate"}, code: 2, err: "msgmock: unknown command \"frobnicate\" (see 'msgmock --help')\n"},
		{args: []string{"validate", "a", "b"}, code: 2, err: "msgmock: validate takes one directory at most (see 'msgmock validate [DIR]')\n"},
		{args: []string{"openapi", "conversations"}, out: "{\n  \"openapi\": \"3.1.0\",", outAnyLine: true},
		{args: []string{"openapi", "workspace"}, out: `{"openapi":"3.1.0","info":{"title":"Workspace Messages API"`, outAnyLine: true},
		{args: []string{"openapi", "admin"}, out: "{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\n    \"title\": \"msgmock admin API\"", outAnyLine: true},
		{args: []string{"openapi", "-h"}, out: "usage: msgmock openapi conversations|workspace|admin\n"},
		{args: []string{"openapi"}, code: 2, err: "msgmock: openapi takes one document name: conversations, workspace, admin (see 'msgmock openapi conversations|workspace|admin')\n"},
		{args: []string{"openapi", "billing"}, code: 2, err: "msgmock: no OpenAPI document \"billing\" (there are conversations, workspace, admin) (see 'msgmock openapi conversations|workspace|admin')\n"},
		{args: []string{"schema"}, out: "{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",", outAnyLine: true},
		{args: []string{"schema", "x"}, code: 2, err: "msgmock: schema takes no arguments (see 'msgmock schema')\n"},
		{args: []string{"health", "--addr", "nope"}, code: 2, err: "msgmock: --addr \"nope\": address nope: missing port in address (see 'msgmock health [--addr HOST:PORT]')\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut)
			var code exitCode
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("error %v, want none (stderr %q)", err, errOut.String())
			case tt.code != 0 && (!errors.As(err, &code) || int(code) != tt.code):
				t.Fatalf("error %v, want exit %d", err, tt.code)
			}
			if tt.outAnyLine {
				if !strings.HasPrefix(out.String(), tt.out) {
					t.Errorf("stdout %.80q, want it to start with %q", out.String(), tt.out)
				}
			} else if out.String() != tt.out {
				t.Errorf("stdout %q, want %q", out.String(), tt.out)
			}
			if errOut.String() != tt.err {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.err)
			}
		})
	}
}

// TestInit writes the built-in fixtures, never overwrites, and what it
// writes validates and serves as the built-in set does.
func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixtures")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"init", dir}, os.Getenv, &out, os.Stderr); err != nil {
		t.Fatal(err)
	}
	entries, _ := fs.ReadDir(fixtures.FS, ".")
	if got := strings.Count(out.String(), "wrote "); got != len(entries) {
		t.Fatalf("wrote %d files, want %d:\n%s", got, len(entries), out.String())
	}
	mine := filepath.Join(dir, "default.yaml")
	if err := os.WriteFile(mine, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"init", dir}, os.Getenv, &out, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "kept "); got != len(entries) {
		t.Errorf("second init kept %d files, want all %d:\n%s", got, len(entries), out.String())
	}
	if b, _ := os.ReadFile(mine); string(b) != "# mine\n" {
		t.Errorf("init overwrote a file: %q", b)
	}
	_ = os.Remove(mine)
	out.Reset()
	if err := run(context.Background(), []string{"init", dir}, os.Getenv, &out, os.Stderr); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"validate", dir}, os.Getenv, &out, os.Stderr); err != nil {
		t.Fatalf("validate the written fixtures: %v\n%s", err, out.String())
	}
	r := start(t, nil, "--fixtures", dir)
	if status, body := post(t, r.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json"); status != 200 {
		t.Errorf("the seed's conversation from init'd fixtures: %d %s", status, body)
	}
}

// TestHealth: exit 0 against a running msgmock, 1 where nothing answers.
func TestHealth(t *testing.T) {
	r := start(t, nil)
	addr := strings.TrimPrefix(r.url, "http://")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"health", "--addr", addr}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("health of a running msgmock: %v %s", err, errOut.String())
	}
	// The environment's address, as in the image (0.0.0.0 is asked on loopback).
	_, port, _ := net.SplitHostPort(addr)
	env := map[string]string{"MSGMOCK_ADDR": "0.0.0.0:" + port}
	if err := run(context.Background(), []string{"health"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("health from MSGMOCK_ADDR: %v %s", err, errOut.String())
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	var code exitCode
	if err := run(context.Background(), []string{"health", "--addr", closed}, func(string) string { return "" }, &out, &errOut); !errors.As(err, &code) || code != 1 {
		t.Fatalf("health where nothing listens: %v, want exit 1", err)
	}
}

// TestClockFlag: --clock virtual (or MSGMOCK_CLOCK) makes the built-in
// auto-reply wait for the clock to be moved; a bad value is refused.
func TestClockFlag(t *testing.T) {
	inTempDir(t)
	r := start(t, map[string]string{"MSGMOCK_CLOCK": "virtual"}, "--now", "2026-03-15T14:22:11Z")
	status, body := post(t, r.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"hi"}`,
		"Authorization: Bearer k", "Content-Type: application/json")
	if status != 200 || !strings.Contains(string(body), `"auto_reply_enqueued":true`) {
		t.Fatalf("%d %s", status, body)
	}
	count := func() int {
		_, b := get(t, r.url+"/v1/conversations/con_9s2kd81/messages", "Authorization: Bearer k")
		return strings.Count(string(b), `"id":"msg_`)
	}
	before := count()
	status, body = post(t, r.url+"/__mock/clock", `{"advance":"1m"}`)
	if status != 200 || !strings.Contains(string(body), `"mode":"virtual"`) || !strings.Contains(string(body), `"now":"2026-03-15T14:23:11Z"`) {
		t.Fatalf("clock: %d %s", status, body)
	}
	if after := count(); after != before+1 {
		t.Errorf("messages %d before the move, %d after; want the reply delivered by it", before, after)
	}
	var out, errOut bytes.Buffer
	var code exitCode
	if err := run(context.Background(), []string{"--clock", "sundial"}, func(string) string { return "" }, &out, &errOut); !errors.As(err, &code) || code != 2 ||
		!strings.Contains(errOut.String(), "--clock must be wall or virtual") {
		t.Errorf("--clock sundial: %v %q", err, errOut.String())
	}
}

// TestSpeedFlag: --speed (or MSGMOCK_SPEED) divides scripted waits: the
// built-in auto-reply, due 800ms–2s after a message, is due within 500ms
// at --speed 4; a value out of range is refused.
func TestSpeedFlag(t *testing.T) {
	inTempDir(t)
	for _, tc := range []struct {
		env       map[string]string
		delivered bool
	}{
		{map[string]string{"MSGMOCK_SPEED": "4"}, true},
		{nil, false},
	} {
		r := start(t, tc.env, "--clock", "virtual", "--now", "2026-03-15T14:22:11Z")
		post(t, r.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"hi"}`,
			"Authorization: Bearer k", "Content-Type: application/json")
		count := func() int {
			_, b := get(t, r.url+"/v1/conversations/con_9s2kd81/messages", "Authorization: Bearer k")
			return strings.Count(string(b), `"id":"msg_`)
		}
		before := count()
		post(t, r.url+"/__mock/clock", `{"advance":"500ms"}`)
		if got := count() == before+1; got != tc.delivered {
			t.Errorf("%v: the reply delivered within 500ms: %v, want %v", tc.env, got, tc.delivered)
		}
		_ = r.stop()
	}
	for _, bad := range []string{"0", "-1", "fast", "5000"} {
		var out, errOut bytes.Buffer
		var code exitCode
		if err := run(context.Background(), []string{"--speed", bad}, func(string) string { return "" }, &out, &errOut); !errors.As(err, &code) || code != 2 {
			t.Errorf("--speed %s: %v %q", bad, err, errOut.String())
		}
	}
}
