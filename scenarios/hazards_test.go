package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/scenarios"
)

// TestHazardousTrees: files that could hang, exhaust or crash a loader get
// a clear problem each (or are skipped), and the load returns.
func TestHazardousTrees(t *testing.T) {
	laughs := "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // a problem must contain this; "" means the load succeeds
	}{
		{"billion laughs in metadata", func(t *testing.T, dir string) {
			body := laughs + "conversations:\n  - id: con_bomb\n    messages:\n      - {sender_id: u, sender_type: user, text: hi, metadata: {x: *i}}\n"
			write(t, dir, "bomb.yaml", body)
		}, "bomb.yaml:"},
		{"billion laughs in a scenario", func(t *testing.T, dir string) {
			write(t, dir, "bomb.yaml", laughs+"scenario:\n  rules:\n    - {respond: {status: 500, body: *i}}\n")
		}, "bomb.yaml:"},
		{"symlink loop of folders", func(t *testing.T, dir string) {
			write(t, dir, "ok.yaml", "conversations:\n  - id: con_a\n")
			symlink(t, ".", filepath.Join(dir, "loop"))
			symlink(t, "..", filepath.Join(dir, "loop.yaml"))
		}, ""},
		{"symlink loop of files", func(t *testing.T, dir string) {
			symlink(t, "b.yaml", filepath.Join(dir, "a.yaml"))
			symlink(t, "a.yaml", filepath.Join(dir, "b.yaml"))
		}, "a.yaml: cannot read: too many levels of symbolic links"},
		{"FIFO", func(t *testing.T, dir string) {
			if err := mkfifo(filepath.Join(dir, "pipe.yaml")); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		}, "pipe.yaml: not a regular file"},
		{"unreadable file", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				write(t, dir, "secret.yaml", "conversations: []\n")
				_ = os.Chmod(filepath.Join(dir, "secret.yaml"), 0)
				return
			}
			// root reads anything mode bits forbid; /proc/self/mem refuses a plain read.
			if _, err := os.Stat("/proc/self/mem"); err != nil {
				t.Skip("no /proc/self/mem")
			}
			symlink(t, "/proc/self/mem", filepath.Join(dir, "secret.yaml"))
		}, "secret.yaml: cannot read"},
		{"device", func(t *testing.T, dir string) {
			symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
		}, "zero.yaml: not a regular file"},
		{"file too large", func(t *testing.T, dir string) {
			write(t, dir, "big.yaml", "# "+strings.Repeat("x", 5<<20)+"\n")
		}, "big.yaml: file is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := scenarios.Load(os.DirFS(dir), dir)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("load failed: %v", err)
				}
				return
			}
			var probs scenarios.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err=%v, want problems", err)
			}
			if !strings.Contains(strings.Join(probs.Strings(), "\n"), tt.want) {
				t.Fatalf("problems %q lack %q", probs.Strings(), tt.want)
			}
		})
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
}
