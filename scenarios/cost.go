package scenarios

import (
	"regexp/syntax"
	"unsafe"
)

// Cost estimates the bytes sc holds: its names, its rules with their
// matchers (a compiled regex by the size of its program), responses,
// bodies, metadata and reply templates (text and parse tree). It is an
// estimate, calibrated against the heap (cost_soak_test.go), for the
// memory budget of scenarios added at run time.
//
// A scenario holds no template engine: the functions templates call live
// in a few workers shared by every template of the process (see
// renderWorker), which cost the same whatever the number of scenarios and
// so count against no one scenario.
func (sc *Scenario) Cost() int64 {
	if sc == nil {
		return 0
	}
	cost := int64(unsafe.Sizeof(*sc)) + strCost(sc.Name, sc.Description, sc.File, sc.Digest) + int64(8*cap(sc.Rules))
	for _, r := range sc.Rules {
		cost += r.cost()
	}
	return cost
}

func (r *Rule) cost() int64 {
	cost := int64(unsafe.Sizeof(*r)) + strCost(r.Name) + r.When.cost() + int64(8*cap(r.Replies))
	if r.State != nil {
		cost += int64(unsafe.Sizeof(*r.State)) + strCost(r.State.Require, r.State.Set)
	}
	if p := r.Respond; p != nil {
		cost += int64(unsafe.Sizeof(*p)) + strCost(p.Message, p.Fault) + int64(cap(p.Body))
		for _, h := range p.Headers {
			cost += int64(unsafe.Sizeof(h)) + strCost(h.Name, h.Value)
		}
		if p.Latency != nil {
			cost += int64(unsafe.Sizeof(*p.Latency))
		}
	}
	for _, rep := range r.Replies {
		cost += int64(unsafe.Sizeof(*rep)) + strCost(rep.SenderID, rep.SenderType, rep.Role) + int64(cap(rep.Metadata))
		if rep.After != nil {
			cost += int64(unsafe.Sizeof(*rep.After))
		}
		if rep.Stream != nil {
			cost += int64(unsafe.Sizeof(*rep.Stream))
		}
		if rep.Text != nil {
			cost += rep.Text.cost
		}
	}
	return cost
}

func (w *When) cost() int64 {
	cost := w.Text.cost() + w.SenderID.cost() + w.Role.cost() + w.ConversationID.cost() + w.WorkspaceID.cost()
	for _, list := range [][]KeyMatcher{w.Headers, w.Metadata} {
		for _, km := range list {
			cost += int64(unsafe.Sizeof(km)) + strCost(km.Key) + km.M.cost()
		}
	}
	return cost
}

func (m *Matcher) cost() int64 {
	if m == nil {
		return 0
	}
	cost := int64(unsafe.Sizeof(*m)) + strCost(m.Op, m.Value) + m.reCost
	if m.folded != m.Value {
		cost += int64(len(m.folded))
	}
	return cost
}

// regexpCost estimates the bytes of a compiled regexp.Regexp by the size
// of its program: measured, about 640 bytes and 56 per instruction.
func regexpCost(expr string) int64 {
	if n := regexpSteps(expr); n > 0 {
		return int64(640 + 56*n)
	}
	return int64(640 + 64*len(expr))
}

// maxRegexpSteps bounds the program a regex compiles to. Go's regexps run
// in time linear in the text, but the factor is the program's size: a
// counted repeat such as (?:a*){1,1000} compiles to 3,000 instructions and
// reads a 16 KiB text in about a second, while the regexes rules and
// verifications use compile to tens ([a-z]{1,100}: 201).
const maxRegexpSteps = 500

// regexpSteps is the number of instructions expr compiles to (0 if it
// does not parse).
func regexpSteps(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

// strCost is the bytes of the strings' contents (their headers are in
// the structs that hold them). Constants such as "agent" cost nothing
// held, but counting them keeps the estimate simple and on the safe side.
func strCost(ss ...string) int64 {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return int64(n)
}
