package scenarios

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds one fixtures file; a larger one is a problem, not a read.
const maxFileSize = 4 << 20

// Set is one complete, valid configuration. It is never mutated once
// published: a reload builds a new Set and swaps it in whole.
type Set struct {
	Settings      Settings
	Conversations []Conversation
	Scenarios     map[string]*Scenario
	Names         []string // scenario names, sorted
	Files         []string // the files read, relative to the fixtures root
	Digest        string   // hash of every file's relative path and content
	// RateLimited: the settings or a scenario of the files define rate
	// limits (scenarios added at run time may define more).
	RateLimited bool

	// defining are the files (as in Files) that hold a document: an empty
	// file, or one of only comments, holds none (see Store.Reload).
	defining map[string]bool
}

// Scenario returns the named scenario, or nil.
func (s *Set) Scenario(name string) *Scenario {
	if s == nil {
		return nil
	}
	return s.Scenarios[name]
}

// Load reads every fixtures file below root of fsys and builds a Set. Any
// problem in any file fails the whole load: the error is Problems, holding
// all of them. Problem files are named prefix/relative-path.
func Load(fsys fs.FS, prefix string) (*Set, error) {
	return NewLoader().Load(fsys, prefix)
}

// file is one fixtures file, read.
type file struct {
	name string // as shown in problems
	rel  string // relative to the fixtures root
	data []byte
}

// Skipped reports whether a fixtures path is one that msgmock ignores:
// hidden files and folders, editor leftovers, and anything not YAML.
func Skipped(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") || strings.HasPrefix(base, "#") {
		return true
	}
	for _, suf := range []string{".swp", ".swo", ".swx", ".tmp", ".bak", ".orig"} {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	return !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml"))
}

func readTree(fsys fs.FS, prefix string) ([]file, Problems) {
	var files []file
	var probs Problems
	display := func(p string) string {
		if prefix == "" {
			return p
		}
		return path.Join(prefix, p)
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			probs = append(probs, Problem{File: display(p), Msg: "cannot read: " + errText(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if Skipped(p) {
			return nil
		}
		// Stat follows a symlink: a FIFO or device behind a .yaml name would
		// block a plain read forever, so only regular files are opened.
		info, err := fs.Stat(fsys, p)
		if err != nil {
			probs = append(probs, Problem{File: display(p), Msg: "cannot read: " + errText(err)})
			return nil
		}
		if !info.Mode().IsRegular() {
			if info.IsDir() {
				return nil // a symlink to a folder: not followed, which also rules out loops
			}
			probs = append(probs, Problem{File: display(p), Msg: "not a regular file (" + info.Mode().Type().String() + "); skip it or remove it"})
			return nil
		}
		if info.Size() > maxFileSize {
			probs = append(probs, Problem{File: display(p), Msg: fmt.Sprintf("file is %d bytes; fixtures files may be at most %d", info.Size(), maxFileSize)})
			return nil
		}
		data, err := readLimited(fsys, p)
		if err != nil {
			probs = append(probs, Problem{File: display(p), Msg: "cannot read: " + errText(err)})
			return nil
		}
		files = append(files, file{name: display(p), rel: p, data: data})
		return nil
	})
	if err != nil {
		probs = append(probs, Problem{File: display("."), Msg: "cannot read: " + errText(err)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, probs
}

// sameRead reports whether two reads of a tree found the same files with
// the same contents and the same problems.
func sameRead(a []file, aProbs Problems, b []file, bProbs Problems) bool {
	if len(a) != len(b) || len(aProbs) != len(bProbs) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	for i := range aProbs {
		if aProbs[i] != bProbs[i] {
			return false
		}
	}
	return true
}

func readLimited(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// errText strips the path from a *fs.PathError: the problem names the file already.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Loader loads fixtures directories, remembering each file's parse by its
// content hash: a reload parses only the files that changed, then checks
// the whole (one settings file, unique ids and names) from the cached parts.
// A Loader is used by one goroutine at a time (Store serialises reloads).
type Loader struct {
	cache map[string]*parsedFile
}

// NewLoader returns a Loader with an empty cache.
func NewLoader() *Loader { return &Loader{cache: map[string]*parsedFile{}} }

// Load reads every fixtures file below root of fsys and builds a Set; see
// the package-level Load.
func (l *Loader) Load(fsys fs.FS, prefix string) (*Set, error) {
	files, readProbs := readTree(fsys, prefix)
	return l.loadFiles(files, readProbs)
}

// loadFiles builds a Set from files read by readTree.
func (l *Loader) loadFiles(files []file, readProbs Problems) (*Set, error) {
	set, err := l.build(files)
	if len(readProbs) == 0 {
		return set, err
	}
	// Files that could not be read fail the load too, but the others are
	// still checked, so that one load reports every problem.
	var probs Problems
	errors.As(err, &probs)
	return nil, append(readProbs, probs...)
}

// parsedFile is what one file contributes, with where each part stands for
// the cross-file checks.
type parsedFile struct {
	digest        [32]byte
	probs         Problems
	document      bool // the file holds a YAML document (not only comments)
	settings      *Settings
	settingsAt    Problem
	conversations []Conversation
	convsAt       Problem
	scenario      *Scenario
	scenarioAt    Problem
}

func at(file string, n *yaml.Node) Problem { return Problem{File: file, Line: n.Line, Col: n.Column} }

func (l *Loader) parse(f file) *parsedFile {
	sum := sha256.Sum256(f.data)
	if c := l.cache[f.name]; c != nil && c.digest == sum {
		return c
	}
	pf := &parsedFile{digest: sum}
	defer func() { l.cache[f.name] = pf }()
	doc, ok := parseDoc(f, &pf.probs)
	if !ok {
		return pf
	}
	pf.document = true
	r := &reader{file: f.name, probs: &pf.probs}
	top := r.fields(doc, "the file's top level", "settings", "conversations", "scenario")
	if r.overBudget() {
		r.errorf(doc, "document aliases too much (more than %d nodes to visit)", maxNodeVisits)
		return pf
	}
	if n := top["settings"]; n != nil {
		st := r.settings(n)
		pf.settings, pf.settingsAt = &st, at(f.name, n)
	}
	if n := top["conversations"]; n != nil {
		pf.conversations, pf.convsAt = r.conversations(n), at(f.name, n)
	}
	if n := top["scenario"]; n != nil {
		pf.scenario, pf.scenarioAt = r.scenario(n, f.name, hex.EncodeToString(sum[:])), at(f.name, n)
	}
	if r.overBudget() {
		r.errorf(doc, "document aliases too much (more than %d nodes to visit)", maxNodeVisits)
	}
	return pf
}

// build turns read files into a Set, collecting every problem.
func (l *Loader) build(files []file) (*Set, error) {
	set := &Set{Settings: DefaultSettings(), Scenarios: map[string]*Scenario{}, defining: map[string]bool{}}
	var probs Problems
	digest := sha256.New()
	settingsFrom := ""
	convFrom := map[string]string{}
	scenarioFrom := map[string]string{}
	seen := make(map[string]bool, len(files))
	dup := func(where Problem, format string, args ...any) {
		where.Msg = fmt.Sprintf(format, args...)
		probs = append(probs, where)
	}
	for _, f := range files {
		fmt.Fprintf(digest, "%s\x00%d\x00", f.rel, len(f.data))
		digest.Write(f.data)
		set.Files = append(set.Files, f.name)
		seen[f.name] = true
		pf := l.parse(f)
		probs = append(probs, pf.probs...)
		if pf.document {
			set.defining[f.name] = true
		}
		if pf.settings != nil {
			if settingsFrom != "" {
				dup(pf.settingsAt, "settings are already defined in %s; only one file may hold settings:", settingsFrom)
			} else {
				settingsFrom = f.name
				set.Settings = *pf.settings
			}
		}
		for _, c := range pf.conversations {
			if other, taken := convFrom[c.ID]; taken {
				dup(pf.convsAt, "conversation %q is already defined in %s", c.ID, other)
				continue
			}
			convFrom[c.ID] = f.name
			set.Conversations = append(set.Conversations, c)
		}
		if sc := pf.scenario; sc != nil {
			if other, taken := scenarioFrom[sc.Name]; taken {
				dup(pf.scenarioAt, "scenario %q is already defined in %s", sc.Name, other)
			} else {
				scenarioFrom[sc.Name] = f.name
				set.Scenarios[sc.Name] = sc
			}
		}
	}
	for name := range l.cache {
		if !seen[name] {
			delete(l.cache, name)
		}
	}
	set.RateLimited = len(set.Settings.RateLimits) > 0
	for _, name := range sortedKeys(set.Scenarios) {
		sc := set.Scenarios[name]
		// Profiles may be defined in the settings file: named ones are
		// checked once every file is read.
		probs = append(probs, set.Settings.unknownProfiles(sc)...)
		set.RateLimited = set.RateLimited || len(sc.RateLimits) > 0
	}
	if len(probs) > 0 {
		return nil, probs
	}
	for name := range set.Scenarios {
		set.Names = append(set.Names, name)
	}
	sort.Strings(set.Names)
	set.Digest = hex.EncodeToString(digest.Sum(nil))
	return set, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseDoc parses one file into its single document's root node. An empty
// file (or one of only comments) is valid and holds nothing.
func parseDoc(f file, probs *Problems) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(f.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, false
		}
		*probs = append(*probs, yamlProblem(f, err))
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		*probs = append(*probs, Problem{File: f.name, Line: extra.Line, Col: extra.Column, Msg: "a fixtures file holds one YAML document; split this one into its own file"})
		return nil, false
	} else if !errors.Is(err, io.EOF) {
		*probs = append(*probs, yamlProblem(f, err))
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, false
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, false
	}
	return root, true
}

// yamlProblem turns a yaml.v3 syntax error ("yaml: line 3: …") into a
// Problem. yaml.v3 names the line where the enclosing block began, which for
// a mis-indented key can be far above the mistake; the first prefix of the
// file that fails to parse ends at the line that broke it.
func yamlProblem(f file, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: f.name, Line: 1, Col: 1, Msg: "invalid YAML: " + msg}
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		p.Line = line
		p.Msg = "invalid YAML: " + strings.TrimSpace(strings.SplitN(msg, ":", 2)[1])
	}
	if bad := firstFailingLine(f.data); bad > p.Line {
		p.Line = bad
	}
	return p
}

// firstFailingLine returns the 1-based number of the first line whose prefix
// of the document fails to parse, or 0. It gives up on long files, where the
// quadratic search would cost more than the hint is worth.
func firstFailingLine(data []byte) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 2000 {
		return 0
	}
	end := 0
	for i, l := range lines {
		end += len(l)
		var n yaml.Node
		if err := yaml.Unmarshal(data[:end], &n); err != nil {
			return i + 1
		}
	}
	return 0
}
