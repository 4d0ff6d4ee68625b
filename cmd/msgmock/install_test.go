package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's install section and recipes, checked where they cannot run
// as README blocks: the copies of the npm package's recipes, and the
// replace lines for a Go module.

// npmReadmeFiles are the blocks of a README marked <!-- readme: file PATH -->:
// the files TestNpmPackages writes into its project and runs.
func npmReadmeFiles(t *testing.T, readme string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, blk := range readmeBlocksOf(t, readme) {
		if path, ok := strings.CutPrefix(blk.marker, "file "); ok {
			files[path] = blk.body
		} else if !strings.HasPrefix(blk.marker, "skip (") {
			t.Errorf("%s:%d: a block is either a file of the tests (<!-- readme: file PATH -->) or skipped with a reason", readme, blk.line)
		}
	}
	if len(files) < 7 {
		t.Fatalf("%s: %d recipe files, want the quickstart, Vitest's four and Playwright's three", readme, len(files))
	}
	return files
}

// TestReadmeRecipeCopies: a recipe the main README (or its draft) shows is
// the npm package README's, which TestNpmPackages runs, word for word.
func TestReadmeRecipeCopies(t *testing.T) {
	here := filepath.Dir(testdataDir(t))
	recipes := npmReadmeFiles(t, filepath.Join(here, "npm", "README.md"))
	copies := 0
	for _, readme := range []string{filepath.Join(here, "..", "..", "README.md"), filepath.Join(testdataDir(t), "README-install-draft.md")} {
		if _, err := os.Stat(readme); err != nil {
			continue
		}
		for _, blk := range readmeBlocksOf(t, readme) {
			path, ok := strings.CutPrefix(blk.marker, "file ")
			if !ok {
				continue
			}
			copies++
			if want, ok := recipes[path]; !ok {
				t.Errorf("%s:%d: %s is not a recipe of cmd/msgmock/npm/README.md", filepath.Base(readme), blk.line, path)
			} else if blk.body != want {
				t.Errorf("%s:%d: %s differs from cmd/msgmock/npm/README.md's, which the tests run", filepath.Base(readme), blk.line, path)
			}
		}
	}
	t.Logf("%d copies of the npm package's recipes", copies)
}

// TestGoModuleReplace runs the README's lines that let a Go module use
// mocktest before msgmock is published, in a module of its own beside
// this checkout, then that module's test of mocktest. It stays offline
// (GOPROXY=off): msgmock's dependencies come from the module cache.
func TestGoModuleReplace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	root, err := filepath.Abs(filepath.Join(filepath.Dir(testdataDir(t)), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, readme := range []string{filepath.Join(root, "README.md"), filepath.Join(testdataDir(t), "README-install-draft.md")} {
		if _, err := os.Stat(readme); err != nil {
			continue
		}
		for _, blk := range readmeBlocksOf(t, readme) {
			if blk.lang == "sh" && strings.Contains(blk.body, "go mod edit -replace=github.com/msgmock/msgmock") {
				lines = strings.Split(strings.TrimSpace(blk.body), "\n")
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("no README block has the go mod edit -replace line")
	}
	app := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/app\n\ngo 1.25\n",
		"app_test.go": `package app

import (
	"net/http"
	"testing"

	"github.com/msgmock/msgmock/mock/mocktest"
)

func TestMocktestThroughReplace(t *testing.T) {
	mm := mocktest.New(t)
	res, err := http.Get(mm.URL + "/__mock/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("StatusCode=%d, want 200", res.StatusCode)
	}
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(app, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOPROXY=off", "GOSUMDB=off")
	goRun := func(what string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = app, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
	}
	for _, line := range lines {
		// The README's clone is in ../msgmock; this one is where it is.
		line = strings.ReplaceAll(line, "../msgmock", root)
		goRun(line, "sh", "-c", line)
	}
	goRun("go test in the module", "go", "test", "-count=1", "./...")
	mod, _ := os.ReadFile(filepath.Join(app, "go.mod"))
	for _, want := range []string{"github.com/msgmock/msgmock v0.0.0-00010101000000-000000000000", "replace github.com/msgmock/msgmock => " + root} {
		if !strings.Contains(string(mod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
	}
}
