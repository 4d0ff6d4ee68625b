package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/msgmock/msgmock/scenarios"
)

// readmeBlock is one fenced block of README.md.
type readmeBlock struct {
	lang, body string
	line       int
	marker     string // the <!-- readme: … --> comment just before it, if any
}

var readmeMarker = regexp.MustCompile(`^<!-- readme: (.*) -->$`)

func readmeBlocks(t *testing.T) []readmeBlock {
	return readmeBlocksOf(t, filepath.Join("..", "..", "README.md"))
}

// readmeBlocksOf reads the fenced blocks of a Markdown file.
func readmeBlocksOf(t *testing.T, path string) []readmeBlock {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") || len(lines[i]) == 3 {
			continue
		}
		blk := readmeBlock{lang: strings.TrimPrefix(lines[i], "```"), line: i + 1}
		for j := i - 1; j >= 0; j-- {
			if strings.TrimSpace(lines[j]) == "" {
				continue
			}
			if m := readmeMarker.FindStringSubmatch(strings.TrimSpace(lines[j])); m != nil {
				blk.marker = m[1]
			}
			break
		}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		blk.body = strings.Join(body, "\n")
		blocks = append(blocks, blk)
	}
	return blocks
}

// TestReadmeExamples runs the README as a newcomer would: every sh block
// against a real msgmock (`go run ./cmd/msgmock` starts one, from an empty
// directory, so on the built-in fixtures), every JSON block marked as an
// output compared with what the command before it printed, every YAML
// fixtures snippet loaded and served. A block marked
// <!-- readme: skip (why) --> is not run; the others must pass.
func TestReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the README's examples use it")
	}
	ran := runReadme(t, filepath.Join("..", "..", "README.md"))
	if ran["sh"] < 5 || ran["yaml"] < 5 || ran["output"] < 2 {
		t.Errorf("too few README blocks ran: %v", ran)
	}
	t.Logf("README blocks: %v", ran)
}

// runReadme runs a Markdown file's blocks and counts them by kind.
func runReadme(t *testing.T, path string) map[string]int {
	blocks := readmeBlocksOf(t, path)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	repoRoot = root
	inTempDir(t) // commands such as msgmock init write where they run
	var srv *running
	var lastOutput string
	lastSkipped := false
	ran := map[string]int{}
	for _, blk := range blocks {
		if strings.HasPrefix(blk.marker, "skip") {
			ran["skipped"]++
			lastSkipped = blk.lang == "sh"
			continue
		}
		if blk.lang == "json" && blk.marker == "output" && lastSkipped {
			// The output of a block another test runs (TestREADMEHar).
			ran["skipped"]++
			continue
		}
		if blk.lang == "sh" {
			lastSkipped = false
		}
		switch {
		case blk.lang == "sh":
			lastOutput = runShellBlock(t, blk, &srv)
			ran["sh"]++
		case blk.lang == "json" && blk.marker == "output":
			if !jsonSubset(t, blk.body, lastOutput) {
				t.Errorf("%s:%d: the output shown is not what the command before it printed\nshown:   %s\nprinted: %s", filepath.Base(path), blk.line, blk.body, lastOutput)
			}
			ran["output"]++
		case blk.lang == "yaml":
			checkYAMLBlock(t, blk)
			ran["yaml"]++
		}
	}
	return ran
}

// runShellBlock runs one sh block's commands and returns the last one's output.
func runShellBlock(t *testing.T, blk readmeBlock, srv **running) string {
	t.Helper()
	var out string
	for _, cmd := range shellCommands(blk.body) {
		switch {
		case strings.HasPrefix(cmd.text, "go run ./cmd/msgmock"):
			inTempDir(t) // no ./fixtures: the built-in set, as on a fresh checkout
			*srv = start(t, nil, strings.Fields(strings.TrimPrefix(cmd.text, "go run ./cmd/msgmock"))...)
			if cmd.comment != "" { // the start line the README shows
				got := strings.TrimSpace((*srv).stdout.String())
				want := strings.Replace(cmd.comment, "http://127.0.0.1:8080", (*srv).url, 1)
				if got != want {
					t.Errorf("README.md:%d: start line\nshown:   %s\nprinted: %s", blk.line, want, got)
				}
			}
		case strings.HasPrefix(cmd.text, "go test"):
			ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
			if err != nil || !strings.Contains(string(ci), "go test -race "+strings.TrimSpace(strings.TrimPrefix(cmd.text, "go test"))) {
				t.Errorf("README.md:%d: .ci/run does not run %q with -race", blk.line, cmd.text)
			}
		case strings.HasPrefix(cmd.text, "curl"):
			if *srv == nil {
				inTempDir(t)
				*srv = start(t, nil)
			}
			text := cmd.text
			for _, base := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "127.0.0.1:8080", "localhost:8080"} {
				text = strings.ReplaceAll(text, base, (*srv).url)
			}
			var stdout, stderr bytes.Buffer
			c := exec.Command("bash", "-c", text)
			c.Stdout, c.Stderr = &stdout, &stderr
			if err := c.Run(); err != nil {
				t.Errorf("README.md:%d: %s\n%v\n%s", blk.line, cmd.text, err, stderr.String())
			}
			out = stdout.String()
		case strings.HasPrefix(cmd.text, "msgmock "):
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), shellWords(strings.TrimPrefix(cmd.text, "msgmock ")), os.Getenv, &stdout, &stderr); err != nil {
				t.Errorf("README.md:%d: %s: %v\n%s", blk.line, cmd.text, err, stderr.String())
			}
			out = stdout.String()
		default:
			t.Errorf("README.md:%d: the README test does not know how to run %q (mark the block <!-- readme: skip (why) -->)", blk.line, cmd.text)
		}
	}
	return out
}

// shellWords splits a command line as sh does, quotes included, without
// expanding anything: what `msgmock exec -- sh -c '…'` passes on.
func shellWords(line string) []string {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// repoRoot is the checkout's top; the test changes directory as it goes.
var repoRoot string

type shellCommand struct{ text, comment string }

// shellCommands splits a block into commands, joining continued lines; a
// comment line right after a command is kept as what it prints.
func shellCommands(body string) []shellCommand {
	var cmds []shellCommand
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 {
			if strings.HasPrefix(trimmed, "#") {
				if len(cmds) > 0 && cmds[len(cmds)-1].comment == "" && strings.HasPrefix(trimmed, "# msgmock ") {
					cmds[len(cmds)-1].comment = strings.TrimPrefix(trimmed, "# ")
				}
				continue
			}
			if trimmed == "" {
				continue
			}
		}
		if i := strings.Index(line, "  #"); i >= 0 && cur.Len() == 0 && !strings.Contains(line[:i], "'") {
			line = line[:i] // a trailing comment
		}
		if strings.HasSuffix(strings.TrimRight(line, " "), "\\") {
			cur.WriteString(strings.TrimSuffix(strings.TrimRight(line, " "), "\\"))
			continue
		}
		cur.WriteString(line)
		if strings.Count(cur.String(), "'")%2 == 1 { // inside a quoted string: it goes on
			cur.WriteString("\n")
			continue
		}
		cmds = append(cmds, shellCommand{text: strings.TrimSpace(cur.String())})
		cur.Reset()
	}
	return cmds
}

// checkYAMLBlock loads a fixtures snippet as msgmock validate does, then
// serves it.
func checkYAMLBlock(t *testing.T, blk readmeBlock) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snippet.yaml"), []byte(blk.body+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"validate", dir}, os.Getenv, &out, io.Discard); err != nil {
		t.Errorf("README.md:%d: the YAML does not load: %v\n%s", blk.line, err, out.String())
		return
	}
	r := start(t, nil, "--fixtures", dir)
	if err := r.stop(); err != nil {
		t.Errorf("README.md:%d: serving the YAML: %v", blk.line, err)
	}
	// An editor with the schema agrees.
	js, err := scenarios.YAMLToJSON([]byte(blk.body))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if err := fixturesSchema(t).Validate(v); err != nil {
		t.Errorf("README.md:%d: the fixtures schema refuses the YAML: %v", blk.line, err)
	}
}

// fixturesSchema compiles the JSON Schema of the fixtures format.
func fixturesSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenarios.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fixtures.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

var (
	volatileString = regexp.MustCompile(`^(msg_[a-z0-9]{6}|con_[a-z0-9]{7}|evt_[a-z0-9]{8}|(conv|msg)_[0-9a-f]{16}|req_\d{6}|\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?)$`)
	volatileKeys   = map[string]bool{"duration_ms": true}
)

// jsonSubset reports whether every value shown is in what was printed:
// objects may hold more keys, generated ids and times match any of their
// kind, and duration_ms any number.
func jsonSubset(t *testing.T, shown, printed string) bool {
	var want, got any
	if json.Unmarshal([]byte(shown), &want) != nil {
		t.Errorf("output block is not JSON: %s", shown)
		return false
	}
	if json.Unmarshal([]byte(printed), &got) != nil {
		return false
	}
	var sub func(w, g any, key string) bool
	sub = func(w, g any, key string) bool {
		if volatileKeys[key] {
			return true
		}
		switch w := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !ok {
				return false
			}
			for k, v := range w {
				if !sub(v, gm[k], k) {
					return false
				}
			}
			return true
		case []any:
			ga, ok := g.([]any)
			if !ok || len(ga) != len(w) {
				return false
			}
			for i := range w {
				if !sub(w[i], ga[i], key) {
					return false
				}
			}
			return true
		case string:
			gs, ok := g.(string)
			if ok && volatileString.MatchString(w) && volatileString.MatchString(gs) {
				return true
			}
			return ok && gs == w
		default:
			return w == g
		}
	}
	return sub(want, got, "")
}
