package scenarios_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestLoad loads each folder of testdata/load and compares a summary of the
// Set, or every problem as FILE:LINE:COL: message, with its .golden file.
func TestLoad(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "load"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			root := filepath.Join("testdata", "load", name)
			set, err := scenarios.Load(os.DirFS(root), name)
			var got string
			switch {
			case err == nil:
				if strings.HasPrefix(name, "invalid") {
					t.Errorf("loaded without problems")
				}
				got = summarize(set)
			default:
				var probs scenarios.Problems
				if !errors.As(err, &probs) {
					t.Fatalf("error is %T, want Problems: %v", err, err)
				}
				if strings.HasPrefix(name, "valid") {
					t.Errorf("problems loading a valid directory")
				}
				got = strings.Join(probs.Strings(), "\n") + "\n"
			}
			compareGolden(t, filepath.Join("testdata", "load", name+".golden"), got)
		})
	}
}

func summarize(set *scenarios.Set) string {
	var b strings.Builder
	fmt.Fprintf(&b, "files: %s\n", strings.Join(set.Files, ", "))
	s := set.Settings
	fmt.Fprintf(&b, "auth: %s, %d tokens\n", s.Auth.Mode, len(s.Auth.Tokens))
	for _, k := range sortedKeys(s.Auth.Tokens) {
		tok := s.Auth.Tokens[k]
		fmt.Fprintf(&b, "  %s owner=%q workspace=%q expired=%v\n", k, tok.OwnerID, tok.WorkspaceID, tok.Expired)
	}
	fmt.Fprintf(&b, "workspaces: %v\nauto_create: %v\nretention: %+v\ncors: %v credentials=%v\nbody_limit: %d\n", s.Workspaces, s.AutoCreate, s.Retention, s.CORS.Origins, s.CORS.Credentials, s.BodyLimit)
	fmt.Fprintf(&b, "security: allowed_hosts=%q admin_origins=%q mask_credentials=%v\n", s.Security.AllowedHosts, s.Security.AdminOrigins, s.Security.MaskCredentials)
	for _, wh := range s.Webhooks {
		fmt.Fprintf(&b, "webhook: %s events=%v key=%d bytes\n", wh.URL, wh.Events, len(wh.Key))
	}
	for _, l := range s.RateLimits {
		fmt.Fprintf(&b, "rate limit: %s\n", describeLimit(l))
	}
	for _, name := range sortedKeys(s.StreamProfiles) {
		fmt.Fprintf(&b, "stream profile %s: %s\n", name, describeStream(s.StreamPlan(s.StreamProfiles[name])))
	}
	if set.RateLimited {
		fmt.Fprintf(&b, "rate limited\n")
	}
	for _, c := range set.Conversations {
		fmt.Fprintf(&b, "conversation %s api=%s workspace=%q created=%s\n", c.ID, c.API, c.WorkspaceID, c.CreatedAt.Format("2006-01-02T15:04:05Z"))
		for _, m := range c.Messages {
			fmt.Fprintf(&b, "  %s %s/%s %q meta=%s reply=%q tags=%v at=%s\n", m.ID, m.SenderID, m.Role, m.Text, m.Metadata, m.ReplyTo, m.Tags, m.CreatedAt.Format("15:04:05"))
		}
	}
	fmt.Fprintf(&b, "scenarios: %v\n", set.Names)
	for _, name := range set.Names {
		sc := set.Scenarios[name]
		fmt.Fprintf(&b, "scenario %s (%s) %q\n", sc.Name, sc.File, sc.Description)
		for _, l := range sc.RateLimits {
			fmt.Fprintf(&b, "  rate limit: %s\n", describeLimit(l))
		}
		for _, r := range sc.Rules {
			fmt.Fprintf(&b, "  rule %s times=%d chance=%g state=%+v when=%s\n", r.Name, r.Times, r.Chance, r.State, describeWhen(r.When))
			if r.Respond != nil {
				resp := r.Respond
				fmt.Fprintf(&b, "    respond status=%d message=%q headers=%v body=%s latency=%+v fault=%q\n", resp.Status, resp.Message, resp.Headers, resp.Body, resp.Latency, resp.Fault)
			}
			for _, rep := range r.Replies {
				fmt.Fprintf(&b, "    reply text=%q after=%+v sender=%s/%s/%s meta=%s stream=%s inline=%v\n", rep.Text.Source, rep.After, rep.SenderID, rep.SenderType, rep.Role, rep.Metadata, describeReplyStream(s, rep.Stream), rep.Inline)
			}
		}
	}
	return b.String()
}

func describeLimit(l *scenarios.RateLimit) string {
	return fmt.Sprintf("%s key=%s unit=%s amount=%d per=%s refill=%g/s api=%q headers=%s retry_after_ms=%v bucket=%v",
		l.Name, l.Key, l.Unit, l.Amount, l.Per, l.Refill, l.API, l.Headers, l.RetryAfterMS, l.Bucket())
}

func describeReplyStream(s scenarios.Settings, st *scenarios.Stream) string {
	if st == nil {
		return "<nil>"
	}
	return describeStream(s.StreamPlan(st))
}

// describeStream prints a stream plan without pointers.
func describeStream(p scenarios.Stream) string {
	lat := func(l *scenarios.Latency) string {
		if l == nil {
			return "-"
		}
		return fmt.Sprintf("%+v", *l)
	}
	return fmt.Sprintf("{profile=%q chunk=%q size=%d..%d interval=%s tps=%g jitter=%g first_token=%s faults=%+v}",
		p.Profile, p.Chunk, p.Size, p.SizeMax, lat(p.Interval), p.TokensPerSecond, p.Jitter, lat(p.FirstToken), p.Faults)
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestBuiltinFixturesLoad: the embedded fixtures are valid, hold the seed's
// conversation and the expired key.
func TestBuiltinFixturesLoad(t *testing.T) {
	set, err := scenarios.Load(fixtures.FS, "built-in")
	if err != nil {
		t.Fatalf("built-in fixtures: %v", err)
	}
	tok, ok := set.Settings.Auth.Tokens["sk_test_expired"]
	if !ok || !tok.Expired || set.Settings.Auth.Mode != scenarios.AuthAny {
		t.Errorf("auth: %+v", set.Settings.Auth)
	}
	found := false
	for _, c := range set.Conversations {
		found = found || c.ID == "con_9s2kd81"
	}
	if !found {
		t.Errorf("con_9s2kd81 is not preloaded")
	}
}

// TestLoadIsStable: the same files give the same Set digest, generated ids
// included; a changed file changes it.
func TestLoadIsStable(t *testing.T) {
	a, err := scenarios.Load(fixtures.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := scenarios.Load(fixtures.FS, "")
	if a.Digest != b.Digest || summarize(a) != summarize(b) {
		t.Fatalf("two loads of the same files differ")
	}
	dir := t.TempDir()
	write := func(body string) *scenarios.Set {
		if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := scenarios.Load(os.DirFS(dir), "")
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	x := write("conversations:\n  - id: con_a\n")
	y := write("conversations:\n  - id: con_b\n")
	if x.Digest == y.Digest {
		t.Fatalf("digest did not change with the content")
	}
}

func describeWhen(w scenarios.When) string {
	var parts []string
	if w.API != "" {
		parts = append(parts, "api="+string(w.API))
	}
	m := func(name string, x *scenarios.Matcher) {
		if x != nil {
			parts = append(parts, fmt.Sprintf("%s:%s(%q,ci=%v)", name, x.Op, x.Value, x.IgnoreCase))
		}
	}
	m("text", w.Text)
	m("sender_id", w.SenderID)
	m("role", w.Role)
	m("conversation_id", w.ConversationID)
	m("workspace_id", w.WorkspaceID)
	for _, h := range w.Headers {
		m("header "+h.Key, h.M)
	}
	for _, k := range w.Metadata {
		m("metadata "+k.Key, k.M)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
