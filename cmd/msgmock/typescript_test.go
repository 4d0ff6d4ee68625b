package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSeedExampleTypes: the seed's fetch and axios examples, typed with the
// types the two most used TypeScript generators make of the Conversations
// document msgmock serves (testdata/typed), compile with tsc --strict and
// run against msgmock. A document that types metadata as an empty record,
// makes a defaulted field required or misses a nullable one breaks it.
// Needs Node and `npm ci --prefix cmd/msgmock/testdata/node` (.ci/run
// installs it); skips without them.
func TestSeedExampleTypes(t *testing.T) {
	node := filepath.Join(testdataDir(t), "node")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	tools := map[string]string{
		"openapi-typescript": filepath.Join(node, "node_modules", "openapi-typescript", "bin", "cli.js"),
		"openapi-ts":         filepath.Join(node, "node_modules", "@hey-api", "openapi-ts", "bin", "run.js"),
		"tsc":                filepath.Join(node, "node_modules", "typescript", "bin", "tsc"),
	}
	for _, path := range tools {
		if _, err := os.Stat(path); err != nil {
			t.Skip("the generators are not installed: npm ci --prefix cmd/msgmock/testdata/node")
		}
	}
	inTempDir(t)
	r := start(t, nil)
	res, err := http.Get(r.url + "/__mock/openapi/conversations.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET the document: %d", res.StatusCode)
	}
	// Beside node_modules, so that the examples' imports resolve.
	dir, err := os.MkdirTemp(node, ".typecheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	typed := filepath.Join(testdataDir(t), "typed")
	for _, f := range []string{"openapi-typescript.ts", "hey-api.ts", "tsconfig.json"} {
		b, err := os.ReadFile(filepath.Join(typed, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docPath := filepath.Join(dir, "conversations.json")
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	runNode := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command("node", args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	// Each generator as its documentation shows it, with its defaults.
	runNode(t, tools["openapi-typescript"], docPath, "-o", filepath.Join(dir, "generated", "openapi-typescript.ts"))
	runNode(t, tools["openapi-ts"], "-i", docPath, "-o", filepath.Join(dir, "generated", "hey-api"), "-p", "@hey-api/typescript", "--no-log-file")
	runNode(t, tools["tsc"], "-p", filepath.Join(dir, "tsconfig.json"))

	for _, example := range []string{"openapi-typescript.ts", "hey-api.ts"} {
		t.Run(example, func(t *testing.T) {
			out := runNode(t, filepath.Join(node, "run-example.mjs"), filepath.Join(dir, example), r.url)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 {
				t.Fatalf("logged %d lines, want 3 (fetch's data, the metadata sent, axios's message id):\n%s", len(lines), out)
			}
			if !strings.Contains(lines[0], `"text":"Hello from fetch!"`) {
				t.Errorf("fetch logged %s", lines[0])
			}
			if lines[1] != `{"channel":"web","locale":"en-US"}` {
				t.Errorf("the metadata came back as %s", lines[1])
			}
			if !regexp.MustCompile(`^"msg_[a-z0-9]{6}"$`).MatchString(lines[2]) {
				t.Errorf("axios logged %s, want a message id", lines[2])
			}
		})
	}
}
