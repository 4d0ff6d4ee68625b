package scenarios

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

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

// templateEngine holds the reply templates of the Sets one Loader builds.
// Go templates take their functions at parse time, and gofakeit's draw from
// the Faker they are bound to; so each rendering borrows a worker: a clone
// of the templates whose functions are bound to the worker's own Faker,
// whose random source is the caller's for that one execution. No lock is
// held while a template runs; mu guards only the namespace (parse, clone).
type templateEngine struct {
	mu   sync.Mutex
	base *template.Template // holds the functions; replies are parsed as its associates
	next int                // templates parsed so far; also each one's generation

	free  chan *templateWorker // idle workers
	names map[string]any       // function names, for the parser
}

// templateWorker is one rendering's private copy of the engine.
type templateWorker struct {
	pcg   rand.PCG // the source RenderSeeded seeds, so that it costs no allocation
	src   switchSource
	faker *gofakeit.Faker // draws from src
	tmpl  *template.Template
	gen   int // templates up to this generation are in tmpl
}

type switchSource struct{ cur rand.Source }

func (s *switchSource) Uint64() uint64 { return s.cur.Uint64() }

// Template is a reply text, parsed once at load.
type Template struct {
	Source string
	name   string
	gen    int
	engine *templateEngine
	// Whether the text refers to .Request.Headers or .Request.Metadata:
	// building them costs a map per reply, so callers skip it otherwise.
	UsesHeaders, UsesMetadata bool
	fast                      fastTemplate // set when the text renders without text/template
}

// templateExcluded are gofakeit methods that make no sense in a reply.
var templateExcluded = map[string]bool{"Template": true, "RandomMapKey": true, "SQL": true, "Struct": true, "Slice": true, "Map": true, "Seed": true,
	"Image": true, "ImageJpeg": true, "ImagePng": true}

// countFuncs are gofakeit methods whose integer arguments say how much to
// make. A fixture asking for a billion words would otherwise make msgmock
// allocate itself to death before the output limit could stop it.
var countFuncs = map[string]bool{"LoremIpsumParagraph": true, "LoremIpsumSentence": true, "Password": true, "DigitN": true,
	"LetterN": true, "UrlSlug": true, "Dice": true, "HexUint": true}

// maxTemplateCount bounds the product of a count function's integer arguments.
const maxTemplateCount = 100_000

// guardCounts wraps fn so that it refuses integer arguments whose product
// exceeds maxTemplateCount; text/template reports the panic as an error.
func guardCounts(name string, fn reflect.Value) any {
	return reflect.MakeFunc(fn.Type(), func(args []reflect.Value) []reflect.Value {
		product := 1.0
		for _, a := range args {
			switch a.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				product *= math.Abs(float64(a.Int()))
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				product *= float64(a.Uint())
			}
		}
		if product > maxTemplateCount {
			panic(fmt.Errorf("%s: asks for more than %d items", name, maxTemplateCount))
		}
		if fn.Type().IsVariadic() {
			return fn.CallSlice(args)
		}
		return fn.Call(args)
	}).Interface()
}

// fakerFuncs returns the template functions bound to faker.
func fakerFuncs(faker *gofakeit.Faker) template.FuncMap {
	v := reflect.ValueOf(faker)
	t := v.Type()
	errType := reflect.TypeOf((*error)(nil)).Elem()
	funcs := template.FuncMap{}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		mt := m.Type
		ok := mt.NumOut() == 1 || (mt.NumOut() == 2 && mt.Out(1).Implements(errType))
		if !ok || templateExcluded[m.Name] {
			continue
		}
		if countFuncs[m.Name] {
			funcs[m.Name] = guardCounts(m.Name, v.Method(i))
			continue
		}
		funcs[m.Name] = v.Method(i).Interface()
	}
	funcs["ToUpper"] = strings.ToUpper
	funcs["ToLower"] = strings.ToLower
	funcs["Title"] = func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	funcs["Trim"] = strings.TrimSpace
	return funcs
}

// templateBuiltins are text/template's own functions, which the parser
// must know by name.
var templateBuiltins = map[string]any{}

func init() {
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
		"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		templateBuiltins[name] = true // the parser looks for a non-nil value
	}
}

func newTemplateEngine() *templateEngine {
	// Registering ~300 functions is the costly part of a template, so it is
	// done once per engine (and once per worker); each reply is parsed as an
	// associated template.
	funcs := fakerFuncs(gofakeit.NewFaker(rand.NewPCG(1, 2), false))
	names := make(map[string]any, len(funcs))
	for name := range funcs {
		names[name] = true // the parser looks for a non-nil value
	}
	return &templateEngine{
		base:  template.New("").Option("missingkey=zero").Funcs(funcs),
		free:  make(chan *templateWorker, 64),
		names: names,
	}
}

// Bounds on what a reply template may loop over, checked at load so that
// every template finishes: a range over a literal count may ask for up to
// maxRangeCount turns, one over a field of .Request counts as
// maxRangeCount (the body limit bounds the data), and nested ranges may
// ask for maxTemplateCount turns in all.
const maxRangeCount = 10_000

// parse adds a template to the engine, refusing what could run without end:
// {{template}} and {{define}}/{{block}} (recursion), a range over a
// computed number, and loops asking for more turns than the bounds allow.
func (e *templateEngine) parse(text string) (*Template, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	name := "reply" + strconv.Itoa(e.next+1)
	trees, err := parse.Parse(name, text, "", "", templateBuiltins, e.names)
	if err != nil {
		return nil, err
	}
	if len(trees) != 1 {
		return nil, errors.New("{{define}} and {{block}} are not available in a reply template")
	}
	tree := trees[name]
	if err := checkLoops(tree.Root, 1); err != nil {
		return nil, err
	}
	if err := checkFields(tree.Root, true); err != nil {
		return nil, err
	}
	if _, err := e.base.AddParseTree(name, tree); err != nil {
		return nil, err
	}
	e.next++
	return &Template{Source: text, name: name, gen: e.next, engine: e, fast: compileFast(tree),
		UsesHeaders: strings.Contains(text, "Headers"), UsesMetadata: strings.Contains(text, "Metadata")}, nil
}

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

// checkLoops walks a parse tree; turns is how many times the enclosing
// ranges run the node.
func checkLoops(n parse.Node, turns int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkLoops(c, turns); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		return fmt.Errorf("{{template %q}} is not available in a reply template", n.Name)
	case *parse.IfNode:
		return checkBranches(n.List, n.ElseList, turns)
	case *parse.WithNode:
		return checkBranches(n.List, n.ElseList, turns)
	case *parse.RangeNode:
		count, err := rangeCount(n.Pipe)
		if err != nil {
			return err
		}
		if turns*count > maxTemplateCount {
			return fmt.Errorf("nested ranges ask for more than %d turns in all", maxTemplateCount)
		}
		return checkBranches(n.List, n.ElseList, turns*count)
	}
	return nil
}

func checkBranches(list, elseList *parse.ListNode, turns int) error {
	if err := checkLoops(list, turns); err != nil {
		return err
	}
	return checkLoops(elseList, turns)
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

type limitedBuffer struct{ strings.Builder }

var errTemplateTooLong = errors.New("template output is larger than 64 KiB")

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTemplateTooLong
	}
	return b.Builder.Write(p)
}

// Render executes the template on data, drawing every fake value from src.
// It holds no lock while the template runs, so renderings of any number of
// sessions proceed side by side.
func (t *Template) Render(src rand.Source, data RequestData) (string, error) {
	return t.render(src, 0, 0, data)
}

// RenderSeeded is Render drawing from rand.NewPCG(seed1, seed2).
func (t *Template) RenderSeeded(seed1, seed2 uint64, data RequestData) (string, error) {
	return t.render(nil, seed1, seed2, data)
}

func (t *Template) render(src rand.Source, seed1, seed2 uint64, data RequestData) (string, error) {
	gen := t.gen
	if t.fast != nil {
		gen = 0 // any worker: only its Faker is used
	}
	w := t.engine.worker(gen)
	if src == nil {
		w.pcg.Seed(seed1, seed2)
		src = &w.pcg
	}
	if t.fast != nil {
		w.src.cur = src
		out, err := t.fast.render(w.faker, &data)
		w.src.cur = nil
		t.engine.release(w)
		return out, err
	}
	w.src.cur = src
	var out limitedBuffer
	err := w.tmpl.ExecuteTemplate(&out, t.name, struct{ Request RequestData }{data})
	w.src.cur = nil
	t.engine.release(w)
	if err != nil {
		return "", err
	}
	return out.String(), nil
}

// worker borrows an idle worker that holds templates up to gen, or makes one.
func (e *templateEngine) worker(gen int) *templateWorker {
	for {
		select {
		case w := <-e.free:
			if w.gen >= gen {
				return w
			}
			continue // made before this template was parsed: let it go
		default:
		}
		break
	}
	w := &templateWorker{}
	faker := gofakeit.NewFaker(&w.src, false)
	w.faker = faker
	e.mu.Lock()
	clone, err := e.base.Clone()
	w.gen = e.next
	e.mu.Unlock()
	if err != nil {
		// Clone fails only once a template has executed, which base never does.
		panic("scenarios: clone templates: " + err.Error())
	}
	w.tmpl = clone.Funcs(fakerFuncs(faker))
	return w
}

func (e *templateEngine) release(w *templateWorker) {
	select {
	case e.free <- w:
	default:
	}
}
