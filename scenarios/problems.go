// Package scenarios is msgmock's fixtures model: it loads the YAML files of a
// fixtures directory strictly (unknown keys are errors), reports every problem
// as FILE:LINE:COL: message, and publishes the result as an immutable *Set.
//
// It never imports net/http or the mock package: the server reads a *Set,
// it does not build one.
//
// # Reply templates
//
// A template is bounded wherever it could make msgmock build a huge value
// or run long (template_funcs.go): gofakeit's functions with a count or a
// text argument are guarded, found by reflection; Generate and Template
// are not offered; the builtins that do work are replaced by counting
// ones (printf widths at most 1000); a render has a call, time and output
// budget and stops when its context ends. What the text shows is refused
// at load. Templates hold only their parse tree: the ~300 functions live
// in a small pool of workers shared by the process, so a scenario costs
// what its text costs (Scenario.Cost).
//
// # Reload
//
// A watcher's reload applies files only once two reads agree
// (Store.ReloadSettled); a file that defined something and now holds
// nothing is a problem, not "no settings"; the server may veto a reload
// (Store.SetGuard). Each refusal keeps the last good Set and shows in
// Status.
package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a fixtures file, located to the character.
type Problem struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Problems is every problem of one load. A load with any problem publishes
// nothing, so the error carries all of them at once.
type Problems []Problem

func (ps Problems) Error() string {
	lines := ps.Strings()
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems:\n%s", len(lines), strings.Join(lines, "\n"))
}

// Strings returns the problems as FILE:LINE:COL: message lines, sorted by
// file and position so that output is stable whatever the walk order.
func (ps Problems) Strings() []string {
	sorted := append(Problems(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := make([]string, len(sorted))
	for i, p := range sorted {
		out[i] = p.String()
	}
	return out
}
