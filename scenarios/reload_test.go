package scenarios_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

const goodSettings = `# yaml-language-server: $schema=http://127.0.0.1:8080/__mock/schema/fixtures.json
# The team's settings: listed keys, the real service behind, the app's origin.
settings:
  auth:
    mode: listed
    tokens: [{token: sk_team_1}]
  passthrough: {url: "https://api.example-ai.com"}
  cors: {origins: ["http://localhost:5173"]}
`

// watched runs the real watcher over dir and returns its store and the
// outcome of each reload as it happens.
func watched(t *testing.T, dir string) (*scenarios.Store, <-chan error) {
	t.Helper()
	st, err := scenarios.NewFSStore(dir, os.DirFS(dir), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	outcomes := make(chan error, 64)
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := scenarios.Watch(ctx, st, dir, scenarios.WatchOptions{
			Reloaded: func(changed bool, err error) { outcomes <- err },
			Ready:    func() { close(ready) },
		})
		if err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-ready
	<-outcomes // the look Watch takes once the tree is watched
	return st, outcomes
}

// nextReload waits for the watcher's next reload and returns its outcome.
func nextReload(t *testing.T, outcomes <-chan error) error {
	t.Helper()
	select {
	case err := <-outcomes:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s")
		return nil
	}
}

func assertGoodSettings(t *testing.T, st *scenarios.Store, origin string) {
	t.Helper()
	s := st.Current().Settings
	if s.Auth.Mode != scenarios.AuthListed || s.Passthrough.URL != "https://api.example-ai.com" || len(s.CORS.Origins) != 1 || s.CORS.Origins[0] != origin {
		t.Fatalf("settings served: auth %s, passthrough %q, cors %v; want listed, https://api.example-ai.com, [%s]", s.Auth.Mode, s.Passthrough.URL, s.CORS.Origins, origin)
	}
}

// TestMidSaveKeepsTheLastGoodSettings: a settings.yaml caught between an
// editor truncating it and writing it — empty, or cut after its comments —
// is not taken as "no settings": auth, pass-through and CORS stay as they
// were, and Status says why, located at FILE:1:1. The completed write
// then applies.
func TestMidSaveKeepsTheLastGoodSettings(t *testing.T) {
	for _, tt := range []struct{ name, partial, want string }{
		{"empty", "", "settings.yaml:1:1: the file is empty (or holds only comments) — probably caught mid-save"},
		{"only its comments so far", goodSettings[:strings.Index(goodSettings, "settings:")], "settings.yaml:1:1: the file is empty"},
		{"cut inside a key", goodSettings[:strings.Index(goodSettings, "passthrough")+7], "settings.yaml:7:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "settings.yaml")
			write(t, dir, "settings.yaml", goodSettings)
			write(t, dir, "default.yaml", "scenario:\n  rules:\n    - reply: {text: \"{{ Sentence }}\"}\n")
			st, outcomes := watched(t, dir)
			gen := st.Status().Generation

			// The editor truncates the file and writes the first part.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(tt.partial); err != nil {
				t.Fatal(err)
			}
			if err := nextReload(t, outcomes); err == nil {
				t.Fatalf("a reload of the half-saved file succeeded")
			}
			assertGoodSettings(t, st, "http://localhost:5173")
			status := st.Status()
			if status.OK || status.Generation != gen || len(status.Errors) != 1 || !strings.Contains(status.Errors[0], tt.want) {
				t.Fatalf("status %+v, want one error containing %q", status, tt.want)
			}

			// …then the rest, with a change.
			if _, err := f.WriteString(strings.Replace(goodSettings, "5173", "3000", 1)[len(tt.partial):]); err != nil {
				t.Fatal(err)
			}
			f.Close()
			for err := nextReload(t, outcomes); err != nil; err = nextReload(t, outcomes) {
				// a reload may have caught the write under way; the next one sees it whole
			}
			assertGoodSettings(t, st, "http://localhost:3000")
			if status := st.Status(); !status.OK || status.Generation != gen+1 {
				t.Fatalf("status after the save: %+v", status)
			}
		})
	}
}

// TestDeletingAFileRemovesWhatItDefined: an emptied file is refused, but
// a deleted one is a decision, and applies.
func TestDeletingAFileRemovesWhatItDefined(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "settings.yaml", goodSettings)
	st, outcomes := watched(t, dir)
	if err := os.Remove(filepath.Join(dir, "settings.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := nextReload(t, outcomes); err != nil {
		t.Fatal(err)
	}
	if s := st.Current().Settings; s.Auth.Mode != scenarios.AuthAny || s.Passthrough.URL != "" {
		t.Fatalf("settings after the file was deleted: %+v", s)
	}
}

// changingFS serves a fixtures tree whose settings.yaml changes between
// reads of the tree (each ReadDir of the root is a new read): version i
// for read i, the last one from then on — a save under way.
type changingFS struct {
	mu       sync.Mutex
	versions []string
	read     int
	fs       fstest.MapFS
}

func (c *changingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name == "." {
		v := c.versions[min(c.read, len(c.versions)-1)]
		c.fs["settings.yaml"] = &fstest.MapFile{Data: []byte(v)}
		c.read++
	}
	return c.fs.ReadDir(name)
}

func (c *changingFS) Open(name string) (fs.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fs.Open(name)
}

// TestReloadWaitsForFilesToSettle: a watcher's reload reads the tree until
// two reads agree. A save seen in two steps — first a valid but partial
// file (settings cut after auth), then the whole — publishes only the
// whole; a file that keeps changing publishes nothing and says so.
func TestReloadWaitsForFilesToSettle(t *testing.T) {
	partial := goodSettings[:strings.Index(goodSettings, "  passthrough")]
	whole := strings.Replace(goodSettings, "5173", "3000", 1)
	cfs := &changingFS{versions: []string{goodSettings, partial, whole}, fs: fstest.MapFS{}}
	st, err := scenarios.NewFSStore("test", cfs, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := st.ReloadSettled(context.Background(), time.Millisecond)
	if !changed || err != nil {
		t.Fatalf("ReloadSettled: %v, %v", changed, err)
	}
	assertGoodSettings(t, st, "http://localhost:3000")
	if gen := st.Status().Generation; gen != 2 {
		t.Errorf("generation %d: the partial file was published on the way", gen)
	}
	if cfs.read != 4 { // the start, then partial, whole, whole
		t.Errorf("%d reads of the tree, want 4", cfs.read)
	}

	// A plain Reload reads once: the same partial save would apply.
	cfs.versions, cfs.read = []string{partial}, 0
	if _, err := st.Reload(); err != nil || st.Current().Settings.Passthrough.URL != "" {
		t.Fatalf("a plain reload of the partial file: %v, passthrough %q", err, st.Current().Settings.Passthrough.URL)
	}

	// Never settling: nothing published, the problem in Status.
	var versions []string
	for i := 0; i < 100; i++ {
		versions = append(versions, strings.Replace(goodSettings, "5173", "50"+string(rune('0'+i%10))+string(rune('0'+i/10)), 1))
	}
	cfs.versions, cfs.read = versions, 0
	before := st.Current()
	if changed, err := st.ReloadSettled(context.Background(), time.Millisecond); changed || err == nil {
		t.Fatalf("files that never settle: %v, %v", changed, err)
	}
	if st.Current() != before || st.Status().OK || !strings.Contains(st.Status().Errors[0], "files kept changing") {
		t.Fatalf("after files that never settle: status %+v", st.Status())
	}

	// A context that ends while it waits: nothing published.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if changed, err := st.ReloadSettled(ctx, time.Hour); changed || err != context.Canceled || st.Current() != before {
		t.Fatalf("an ended context: %v, %v", changed, err)
	}
}

// TestGuardRefusesAReload: the guard's problems keep the last good Set
// serving and show in Status; without the guard the same reload applies.
func TestGuardRefusesAReload(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "checkout.yaml", "scenario:\n  rules:\n    - respond: {status: 503}\n")
	write(t, dir, "other.yaml", "scenario:\n  rules:\n    - respond: {status: 500}\n")
	st, err := scenarios.NewFSStore(dir, os.DirFS(dir), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	active := "checkout"
	st.SetGuard(func(cur, next *scenarios.Set) scenarios.Problems {
		if cur.Scenario(active) != nil && next.Scenario(active) == nil {
			return scenarios.Problems{{File: cur.Scenario(active).File, Msg: "scenario " + active + " is active and would vanish"}}
		}
		return nil
	})
	if err := os.Remove(filepath.Join(dir, "checkout.yaml")); err != nil {
		t.Fatal(err)
	}
	if changed, err := st.Reload(); changed || err == nil {
		t.Fatalf("the guarded reload: %v, %v", changed, err)
	}
	status := st.Status()
	if st.Current().Scenario("checkout") == nil || status.OK || len(status.Errors) != 1 ||
		status.Errors[0] != filepath.Join(dir, "checkout.yaml")+": scenario checkout is active and would vanish" {
		t.Fatalf("after the refused reload: scenarios %v, status %+v", st.Current().Names, status)
	}
	// A reload the guard does not object to applies.
	write(t, dir, "checkout.yaml", "scenario:\n  rules:\n    - respond: {status: 502}\n")
	if changed, err := st.Reload(); !changed || err != nil {
		t.Fatalf("an accepted reload: %v, %v", changed, err)
	}
	if err := os.Remove(filepath.Join(dir, "checkout.yaml")); err != nil {
		t.Fatal(err)
	}
	st.SetGuard(nil)
	if changed, err := st.Reload(); !changed || err != nil || st.Current().Scenario("checkout") != nil {
		t.Fatalf("without the guard: %v, %v, %v", changed, err, st.Current().Names)
	}
}
