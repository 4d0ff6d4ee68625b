package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// maxTemplateOutput bounds what one reply template may produce.
const maxTemplateOutput = 64 << 10

// RequestData is what a reply template sees as .Request.
type RequestData struct {
	Text           string
	SenderID       string
	SenderType     string // the Conversations API's sender_type; Role holds the same
	Role           string
	ConversationID string
	MessageID      string
	Metadata       map[string]any
	Headers        map[string]string
}

// Template is a reply text, parsed and checked once at load. It holds
// only its parse tree (or its fast form): the functions it calls live in
// workers shared by every template of the process (see renderWorker), so
// that a scenario costs what its texts cost, not a copy of gofakeit's
// three hundred functions.
type Template struct {
	Source string
	tree   *parse.Tree
	// Whether the text refers to .Request.Headers or .Request.Metadata:
	// building them costs a map per reply, so callers skip it otherwise.
	UsesHeaders, UsesMetadata bool
	fast                      fastTemplate // set when the text renders without text/template
	cost                      int64
}

type switchSource struct{ cur rand.Source }

func (s *switchSource) Uint64() uint64 { return s.cur.Uint64() }

// Bounds on what a reply template may loop over, checked at load so that
// every template finishes: a range over a literal count may ask for up to
// maxRangeCount turns, one over a field of .Request counts as
// maxRangeCount (the body limit bounds the data), and nested ranges may
// ask for maxTemplateCount turns in all.
const maxRangeCount = 10_000

// templateName names every reply template in its worker and in errors.
const templateName = "reply"

// parseTemplate parses and checks a reply text, refusing at load what can
// be seen there to run without end or beyond its bounds: {{template}} and
// {{define}}/{{block}} (recursion), a range over a computed number, loops
// asking for more turns than the bounds allow, more work in all than
// maxTemplateWork, a function not offered (Generate, Template …), and a
// literal count, text or printf width over its bound.
func parseTemplate(text string) (*Template, error) {
	trees, err := parse.Parse(templateName, text, "", "", templateBuiltins, parserNames())
	if err != nil {
		return nil, err
	}
	if len(trees) != 1 {
		return nil, errors.New("{{define}} and {{block}} are not available in a reply template")
	}
	tree := trees[templateName]
	work := 0
	if err := checkLoops(tree.Root, 1, &work); err != nil {
		return nil, err
	}
	if work > maxTemplateWork {
		return nil, fmt.Errorf("%w: the template may take %d steps (its loops times what they hold); a reply template may take up to %d", ErrTemplateBudget, work, maxTemplateWork)
	}
	if err := checkFields(tree.Root, true); err != nil {
		return nil, err
	}
	if err := checkCalls(tree.Root); err != nil {
		return nil, err
	}
	t := &Template{Source: text, tree: tree, fast: compileFast(tree),
		UsesHeaders: strings.Contains(text, "Headers"), UsesMetadata: strings.Contains(text, "Metadata")}
	t.cost = templateCost(t)
	return t, nil
}

// parserNames are the function names the parser accepts: those offered
// and those refused by name, which checkCalls reports with the reason.
var parserNames = sync.OnceValue(func() map[string]any {
	names := map[string]any{}
	for name := range funcNames() {
		names[name] = true
	}
	for name := range templateExcluded {
		names[name] = true
	}
	return names
})

// requestFields are RequestData's fields; Metadata and Headers are maps,
// whose keys a template may name freely.
var requestFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(RequestData{})
	for i := 0; i < t.NumField(); i++ {
		m[t.Field(i).Name] = true
	}
	return m
}()

// checkFields refuses a field the data does not have (.Request.Nope would
// otherwise render "<no value>" in every reply). dotIsRoot is false inside
// range and with, where the dot is something else.
func checkFields(n parse.Node, dotIsRoot bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkFields(c, dotIsRoot); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkPipeFields(n.Pipe, dotIsRoot)
	case *parse.IfNode:
		return checkBranchFields(n.Pipe, n.List, n.ElseList, dotIsRoot, dotIsRoot)
	case *parse.WithNode:
		return checkBranchFields(n.Pipe, n.List, n.ElseList, dotIsRoot, false)
	case *parse.RangeNode:
		return checkBranchFields(n.Pipe, n.List, n.ElseList, dotIsRoot, false)
	}
	return nil
}

func checkBranchFields(pipe *parse.PipeNode, list, elseList *parse.ListNode, dotIsRoot, inner bool) error {
	if err := checkPipeFields(pipe, dotIsRoot); err != nil {
		return err
	}
	if err := checkFields(list, inner); err != nil {
		return err
	}
	return checkFields(elseList, dotIsRoot)
}

func checkPipeFields(pipe *parse.PipeNode, dotIsRoot bool) error {
	if pipe == nil {
		return nil
	}
	for _, cmd := range pipe.Cmds {
		for _, arg := range cmd.Args {
			var idents []string
			switch a := arg.(type) {
			case *parse.FieldNode:
				if !dotIsRoot {
					continue
				}
				idents = a.Ident
			case *parse.VariableNode:
				if len(a.Ident) == 0 || a.Ident[0] != "$" {
					continue
				}
				idents = a.Ident[1:]
			case *parse.PipeNode:
				if err := checkPipeFields(a, dotIsRoot); err != nil {
					return err
				}
				continue
			default:
				continue
			}
			if err := checkRequestPath(idents); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRequestPath checks a field chain read from the template's data.
func checkRequestPath(idents []string) error {
	if len(idents) == 0 {
		return nil
	}
	have := "Text, SenderID, SenderType, Role, ConversationID, MessageID, Metadata, Headers"
	if idents[0] != "Request" {
		return fmt.Errorf(".%s: no such field; a reply template sees .Request (%s)", strings.Join(idents, "."), have)
	}
	if len(idents) > 1 && !requestFields[idents[1]] {
		return fmt.Errorf(".%s: .Request has no field %s (it has %s)", strings.Join(idents, "."), idents[1], have)
	}
	if len(idents) > 2 && idents[1] != "Metadata" && idents[1] != "Headers" {
		return fmt.Errorf(".%s: .Request.%s is a string, with no field %s", strings.Join(idents, "."), idents[1], idents[2])
	}
	return nil
}

// maxTemplateWork bounds, at load, the nodes a render may visit: each
// node counts once per turn of the ranges around it. Functions count
// again at render (renderBudget); this bounds what runs between them
// (conditions, variables, fields), which no budget check could stop.
const maxTemplateWork = 1_000_000

// checkLoops walks a parse tree; turns is how many times the enclosing
// ranges run the node, and work adds up the node visits.
func checkLoops(n parse.Node, turns int, work *int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkLoops(c, turns, work); err != nil {
				return err
			}
		}
		return nil
	case *parse.TemplateNode:
		return fmt.Errorf("{{template %q}} is not available in a reply template", n.Name)
	case *parse.ActionNode:
		*work += turns * (1 + pipeNodes(n.Pipe))
	case *parse.IfNode:
		*work += turns * (1 + pipeNodes(n.Pipe))
		return checkBranches(n.List, n.ElseList, turns, work)
	case *parse.WithNode:
		*work += turns * (1 + pipeNodes(n.Pipe))
		return checkBranches(n.List, n.ElseList, turns, work)
	case *parse.RangeNode:
		count, err := rangeCount(n.Pipe)
		if err != nil {
			return err
		}
		if turns*count > maxTemplateCount {
			return fmt.Errorf("nested ranges ask for more than %d turns in all", maxTemplateCount)
		}
		*work += turns * (1 + pipeNodes(n.Pipe))
		return checkBranches(n.List, n.ElseList, turns*count, work)
	default:
		*work += turns
	}
	return nil
}

// pipeNodes counts the commands and arguments of a pipeline, parenthesised
// ones included.
func pipeNodes(p *parse.PipeNode) int {
	if p == nil {
		return 0
	}
	n := len(p.Decl)
	for _, cmd := range p.Cmds {
		n++
		for _, arg := range cmd.Args {
			n++
			switch a := arg.(type) {
			case *parse.PipeNode:
				n += pipeNodes(a)
			case *parse.ChainNode:
				if sub, ok := a.Node.(*parse.PipeNode); ok {
					n += pipeNodes(sub)
				}
			}
		}
	}
	return n
}

func checkBranches(list, elseList *parse.ListNode, turns int, work *int) error {
	if err := checkLoops(list, turns, work); err != nil {
		return err
	}
	return checkLoops(elseList, turns, work)
}

// checkCalls refuses, anywhere in a tree, a function not offered and a
// call whose literal arguments already break a bound (a count, a text,
// a printf width); computed arguments are checked when they are known,
// at render.
func checkCalls(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkCalls(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkPipeCalls(n.Pipe)
	case *parse.IfNode:
		return checkBranchCalls(n.Pipe, n.List, n.ElseList)
	case *parse.WithNode:
		return checkBranchCalls(n.Pipe, n.List, n.ElseList)
	case *parse.RangeNode:
		return checkBranchCalls(n.Pipe, n.List, n.ElseList)
	}
	return nil
}

func checkBranchCalls(pipe *parse.PipeNode, list, elseList *parse.ListNode) error {
	if err := checkPipeCalls(pipe); err != nil {
		return err
	}
	if err := checkCalls(list); err != nil {
		return err
	}
	return checkCalls(elseList)
}

func checkPipeCalls(pipe *parse.PipeNode) error {
	if pipe == nil {
		return nil
	}
	for i, cmd := range pipe.Cmds {
		var piped parse.Node // a literal the previous command hands on
		if i > 0 && len(pipe.Cmds[i-1].Args) == 1 {
			piped = pipe.Cmds[i-1].Args[0]
		}
		for _, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.IdentifierNode:
				if why := templateExcluded[a.Ident]; why != "" {
					return fmt.Errorf("%s is not available in a reply template: %s", a.Ident, why)
				}
			case *parse.PipeNode:
				if err := checkPipeCalls(a); err != nil {
					return err
				}
			case *parse.ChainNode:
				if sub, ok := a.Node.(*parse.PipeNode); ok {
					if err := checkPipeCalls(sub); err != nil {
						return err
					}
				}
			}
		}
		if err := checkLiteralCall(cmd, piped); err != nil {
			return err
		}
	}
	return nil
}

// checkLiteralCall checks one command's literal arguments (and a literal
// piped into it) against its function's bounds.
func checkLiteralCall(cmd *parse.CommandNode, piped parse.Node) error {
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return nil
	}
	args := cmd.Args[1:]
	if piped != nil {
		args = append(args[:len(args):len(args)], piped)
	}
	var vals []reflect.Value
	for _, a := range args {
		switch a := a.(type) {
		case *parse.NumberNode:
			if a.IsInt {
				vals = append(vals, reflect.ValueOf(a.Int64))
			} else if a.IsUint {
				vals = append(vals, reflect.ValueOf(a.Uint64))
			}
		case *parse.StringNode:
			vals = append(vals, reflect.ValueOf(a.Text))
		}
	}
	if id.Ident == "printf" && len(args) > 0 {
		if format, ok := args[0].(*parse.StringNode); ok {
			return checkFormat(format.Text)
		}
		return nil
	}
	if fm, ok := fakerMethods()[id.Ident]; ok {
		return checkCall(id.Ident, fm, vals)
	}
	return nil
}

// rangeCount is how many turns a range may take: its literal count, or
// maxRangeCount for a field of the request data.
func rangeCount(pipe *parse.PipeNode) (int, error) {
	if len(pipe.Cmds) == 1 && len(pipe.Cmds[0].Args) == 1 {
		switch arg := pipe.Cmds[0].Args[0].(type) {
		case *parse.NumberNode:
			if !arg.IsInt || arg.Int64 > maxRangeCount {
				return 0, fmt.Errorf("range %s: a reply template may range over a whole number up to %d", arg.Text, maxRangeCount)
			}
			return max(int(arg.Int64), 1), nil
		case *parse.FieldNode, *parse.DotNode:
			return maxRangeCount, nil
		case *parse.ChainNode:
			if _, ok := arg.Node.(*parse.FieldNode); ok {
				return maxRangeCount, nil
			}
		}
	}
	return 0, fmt.Errorf("range %s: a reply template may range over a literal count (up to %d) or a field of .Request, not over a computed value, which could run without end", pipe, maxRangeCount)
}

// limitedBuffer holds a render's output, up to maxTemplateOutput; each
// write is also a point where the render's budget is checked.
type limitedBuffer struct {
	strings.Builder
	budget *renderBudget
}

var errTemplateTooLong = fmt.Errorf("%w: the output is larger than %d KiB", ErrTemplateBudget, maxTemplateOutput>>10)

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTemplateTooLong
	}
	if err := b.budget.check(); err != nil {
		return 0, err
	}
	return b.Builder.Write(p)
}

// renderBudget is what one render may still spend: function calls, time,
// and its request's life (ctx).
type renderBudget struct {
	ctx   context.Context
	start time.Time
	calls int
}

// step counts one function call and checks the budget.
func (b *renderBudget) step() error {
	b.calls++
	if b.calls > maxTemplateCalls {
		return fmt.Errorf("%w: more than %d function calls in one render", ErrTemplateBudget, maxTemplateCalls)
	}
	return b.check()
}

// check reports ctx's error once it has ended, or a render that has taken
// longer than maxRenderTime (wall time, which on a loaded machine counts
// more than the render's own CPU time: it errs on the side of stopping).
func (b *renderBudget) check() error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	if time.Since(b.start) > maxRenderTime {
		return fmt.Errorf("%w: rendering took more than %s", ErrTemplateBudget, maxRenderTime)
	}
	return nil
}

// Render executes the template on data, drawing every fake value from src.
// It stops with ctx's error once ctx ends (its request is gone), and with
// an error wrapping ErrTemplateBudget when it breaks a bound. It holds no
// lock while the template runs, so renderings of any number of sessions
// proceed side by side.
func (t *Template) Render(ctx context.Context, src rand.Source, data RequestData) (string, error) {
	return t.render(ctx, src, 0, 0, data)
}

// RenderSeeded is Render drawing from rand.NewPCG(seed1, seed2).
func (t *Template) RenderSeeded(ctx context.Context, seed1, seed2 uint64, data RequestData) (string, error) {
	return t.render(ctx, nil, seed1, seed2, data)
}

func (t *Template) render(ctx context.Context, src rand.Source, seed1, seed2 uint64, data RequestData) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if t.fast != nil {
		w := fastWorkers.Get().(*fakerWorker)
		defer fastWorkers.Put(w)
		w.use(src, seed1, seed2)
		out, err := t.fast.render(w.faker, &data)
		w.src.cur = nil
		return out, err
	}
	w, err := slowWorkers.get(ctx)
	if err != nil {
		return "", err
	}
	defer slowWorkers.put(w)
	w.use(src, seed1, seed2)
	w.budget = renderBudget{ctx: ctx, start: time.Now()}
	w.tmpl.Tree = t.tree
	out := limitedBuffer{budget: &w.budget}
	err = w.tmpl.Execute(&out, struct{ Request RequestData }{data})
	w.tmpl.Tree, w.src.cur, w.budget.ctx = nil, nil, nil
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", err
	}
	return out.String(), nil
}

// fakerWorker is a Faker whose random source each render sets: its own
// PCG seeded for RenderSeeded (which so costs no allocation), or the
// caller's.
type fakerWorker struct {
	pcg   rand.PCG
	src   switchSource
	faker *gofakeit.Faker
}

func newFakerWorker() *fakerWorker {
	w := &fakerWorker{}
	w.faker = gofakeit.NewFaker(&w.src, false)
	return w
}

func (w *fakerWorker) use(src rand.Source, seed1, seed2 uint64) {
	if src == nil {
		w.pcg.Seed(seed1, seed2)
		src = &w.pcg
	}
	w.src.cur = src
}

// fastWorkers serve fast templates, which need a Faker and nothing else.
var fastWorkers = sync.Pool{New: func() any { return newFakerWorker() }}

// renderWorker renders through text/template: a Faker, the template
// functions bound to it and to the worker's budget (templateFuncs), and a
// template that executes one reply's tree at a time. Building one costs
// about as much as a scenario of a hundred rules, so the workers are
// shared by every template of the process, and bounded in number.
type renderWorker struct {
	*fakerWorker
	budget renderBudget
	tmpl   *template.Template
}

// workerPool holds at most cap(slots) renderWorkers, made as needed; a
// render that finds none free waits for one, or for its request to end.
type workerPool struct {
	idle  chan *renderWorker
	slots chan struct{}
}

// slowWorkers: renders are CPU-bound and short, so a few per core keep
// every core busy; more would only hold more memory.
var slowWorkers = newWorkerPool(max(8, 4*runtime.GOMAXPROCS(0)))

func newWorkerPool(n int) *workerPool {
	return &workerPool{idle: make(chan *renderWorker, n), slots: make(chan struct{}, n)}
}

func (p *workerPool) get(ctx context.Context) (*renderWorker, error) {
	select {
	case w := <-p.idle:
		return w, nil
	default:
	}
	select {
	case w := <-p.idle:
		return w, nil
	case p.slots <- struct{}{}:
		return newRenderWorker(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *workerPool) put(w *renderWorker) { p.idle <- w }

func newRenderWorker() *renderWorker {
	w := &renderWorker{fakerWorker: newFakerWorker()}
	w.tmpl = template.New(templateName).Option("missingkey=zero").Funcs(templateFuncs(w.faker, &w.budget))
	return w
}

// templateCost estimates the bytes a Template holds: its text, its parse
// tree (or fast form) and the struct itself.
func templateCost(t *Template) int64 {
	const node = 96 // a parse node with its slice headers and pointers
	cost := int64(160 + len(t.Source))
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if n == nil || reflect.ValueOf(n).IsNil() {
			return
		}
		cost += node
		switch n := n.(type) {
		case *parse.ListNode:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.TextNode:
			cost += int64(len(n.Text))
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			for _, d := range n.Decl {
				walk(d)
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.ChainNode:
			walk(n.Node)
			for _, f := range n.Field {
				cost += int64(16 + len(f))
			}
		case *parse.FieldNode:
			for _, f := range n.Ident {
				cost += int64(16 + len(f))
			}
		case *parse.VariableNode:
			for _, f := range n.Ident {
				cost += int64(16 + len(f))
			}
		case *parse.IdentifierNode:
			cost += int64(len(n.Ident))
		case *parse.StringNode:
			cost += int64(len(n.Quoted) + len(n.Text))
		case *parse.NumberNode:
			cost += int64(len(n.Text))
		}
	}
	if t.tree != nil {
		cost += 128 + int64(len(t.tree.ParseName)) // the Tree, which keeps the text too (shared with Source)
		walk(t.tree.Root)
	}
	for _, seg := range t.fast {
		cost += 64 + int64(len(seg.text))
	}
	return cost
}
