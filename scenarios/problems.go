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
