package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// The functions a reply template may call, and the bounds each call keeps.
//
// Every gofakeit method with an integer parameter is guarded (found by
// reflection, not listed by hand): the product of its integer arguments
// may be at most maxTemplateCount, unless it is one of rangeFuncs, whose
// integers are the bounds of a random number and cost nothing. Every
// gofakeit method with a text parameter gets at most maxTemplateTextArg
// bytes of it. Every function's text result may be at most
// maxTemplateOutput. Methods that make no sense in a reply, or that escape
// these bounds (Generate, Template), are not offered.
//
// text/template's own builtins that do work (printf and friends, html, js,
// urlquery, len, index, slice, not, eq and the comparisons) are replaced by
// functions of the same behaviour that count: a template's functions take
// precedence over builtins. printf refuses a width or precision above
// maxFormatWidth. and/or stay the builtins, which evaluate their arguments
// lazily; call has nothing to call (a template's data holds no function).
//
// Every call — gofakeit's and the builtins' — is one step of the render's
// budget (renderBudget): at most maxTemplateCalls calls, maxRenderTime of
// time, and none once the request's context has ended.

// Bounds of one call.
const (
	// maxTemplateCount bounds the product of a guarded function's
	// integer arguments (words, characters, items to make).
	maxTemplateCount = 100_000
	// maxTemplateTextArg bounds the text arguments of a gofakeit call
	// (a Regex pattern may make a hundred times its length).
	maxTemplateTextArg = 1 << 10
	// maxFormatWidth bounds a printf width or precision.
	maxFormatWidth = 1000
)

// Bounds of one render.
const (
	maxTemplateCalls = 100_000
	maxRenderTime    = 250 * time.Millisecond
)

// ErrTemplateBudget is wrapped by every error of a render (or a load) that
// breaks one of a reply template's bounds: a count, a width, the output
// size, the number of calls or the time a render may take.
var ErrTemplateBudget = errors.New("reply template over its bounds")

// templateExcluded are gofakeit methods not offered to templates, and why.
var templateExcluded = map[string]string{
	"Generate":     "it expands a pattern of its own, beyond the bounds a reply template keeps",
	"Template":     "it runs a template of its own, beyond the bounds a reply template keeps",
	"Seed":         "it would reseed the random source that --seed makes deterministic",
	"RandomMapKey": "it needs a Go map", "Struct": "it needs a Go value", "Slice": "it needs a Go value",
	"SQL": "it makes SQL, not text", "Map": "it makes a Go map, not text",
	"Image": "it makes an image, not text", "ImageJpeg": "it makes an image, not text", "ImagePng": "it makes an image, not text",
}

// rangeFuncs are the guarded-by-type methods whose integers are the bounds
// of a number drawn at random, in constant time and space (a test calls
// each with the largest integers to hold them to that).
var rangeFuncs = map[string]bool{"Number": true, "IntRange": true, "UintRange": true, "IntN": true, "UintN": true}

// textFuncs are the helpers msgmock adds to gofakeit's.
var textFuncs = map[string]any{
	"ToUpper": strings.ToUpper,
	"ToLower": strings.ToLower,
	"Title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"Trim": strings.TrimSpace,
}

// fakerMethod is one gofakeit method offered to templates.
type fakerMethod struct {
	index   int // in reflect.TypeOf(*gofakeit.Faker)'s method set
	guarded bool
	texts   bool // has a text parameter
}

var (
	fakerType = reflect.TypeOf(&gofakeit.Faker{})
	errorType = reflect.TypeOf((*error)(nil)).Elem()
)

// fakerMethods are the offered gofakeit methods by name, found once.
var fakerMethods = sync.OnceValue(func() map[string]fakerMethod {
	out := map[string]fakerMethod{}
	for i := 0; i < fakerType.NumMethod(); i++ {
		m := fakerType.Method(i)
		mt := m.Type
		ok := mt.NumOut() == 1 || (mt.NumOut() == 2 && mt.Out(1).Implements(errorType))
		if !ok || templateExcluded[m.Name] != "" {
			continue
		}
		fm := fakerMethod{index: i}
		for j := 1; j < mt.NumIn(); j++ {
			in := mt.In(j)
			if mt.IsVariadic() && j == mt.NumIn()-1 {
				in = in.Elem()
			}
			switch {
			case isInteger(in.Kind()) || in.Kind() == reflect.Interface:
				fm.guarded = fm.guarded || !rangeFuncs[m.Name]
			case in.Kind() == reflect.String:
				fm.texts = true
			}
		}
		out[m.Name] = fm
	}
	return out
})

func isInteger(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uint64
}

// funcNames are every function name a reply template may use, for the
// parser (which wants a non-nil value).
var funcNames = sync.OnceValue(func() map[string]any {
	names := map[string]any{}
	for name := range fakerMethods() {
		names[name] = true
	}
	for name := range textFuncs {
		names[name] = true
	}
	for name := range builtinOverrides(nil) {
		names[name] = true
	}
	return names
})

// templateBuiltins are text/template's own functions, which the parser
// must know by name.
var templateBuiltins = map[string]any{}

func init() {
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
		"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		templateBuiltins[name] = true // the parser looks for a non-nil value
	}
}

// countOf is the product of the integer values among args (each at least
// 1, so that a zero does not hide a huge other), saturating.
func countOf(args []reflect.Value) float64 {
	product := 1.0
	var add func(v reflect.Value)
	add = func(v reflect.Value) {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			v = v.Elem()
		}
		switch {
		case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
			product *= max(math.Abs(float64(v.Int())), 1)
		case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
			product *= max(float64(v.Uint()), 1)
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8:
			// A variadic parameter's values, or a list from the data:
			// stop as soon as the answer is known.
			for i := 0; i < v.Len() && product <= maxTemplateCount; i++ {
				add(v.Index(i))
			}
		}
	}
	for _, a := range args {
		add(a)
	}
	return product
}

// textLen is the total length of the text values among args.
func textLen(args []reflect.Value) int {
	n := 0
	for _, a := range args {
		if a.Kind() == reflect.Interface && !a.IsNil() {
			a = a.Elem()
		}
		if a.Kind() == reflect.String {
			n += a.Len()
		}
	}
	return n
}

// checkCall refuses a call to a gofakeit method whose arguments ask for
// too much.
func checkCall(name string, fm fakerMethod, args []reflect.Value) error {
	if fm.guarded {
		if n := countOf(args); n > maxTemplateCount {
			return fmt.Errorf("%w: %s asks for %.0f items; a reply template may ask for up to %d (the product of the numbers given)", ErrTemplateBudget, name, n, maxTemplateCount)
		}
	}
	if fm.texts {
		if n := textLen(args); n > maxTemplateTextArg {
			return fmt.Errorf("%w: %s is given %d bytes of text; a reply template may give it up to %d", ErrTemplateBudget, name, n, maxTemplateTextArg)
		}
	}
	return nil
}

// checkResult refuses a text result over the output limit.
func checkResult(name string, v reflect.Value) error {
	if (v.Kind() == reflect.String || v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8) && v.Len() > maxTemplateOutput {
		return fmt.Errorf("%w: %s made %d bytes; a reply may be at most %d", ErrTemplateBudget, name, v.Len(), maxTemplateOutput)
	}
	return nil
}

// templateFuncs returns the functions of a worker: gofakeit's bound to
// faker, msgmock's text helpers and the counting builtins, each call
// checked against budget.
func templateFuncs(faker *gofakeit.Faker, budget *renderBudget) template.FuncMap {
	funcs := template.FuncMap{}
	fv := reflect.ValueOf(faker)
	for name, fm := range fakerMethods() {
		funcs[name] = guardFunc(name, fm, fv.Method(fm.index), budget)
	}
	for name, fn := range textFuncs {
		funcs[name] = guardFunc(name, fakerMethod{}, reflect.ValueOf(fn), budget)
	}
	for name, fn := range builtinOverrides(budget) {
		funcs[name] = fn
	}
	return funcs
}

// guardFunc wraps fn (a func) as a template function of the same
// parameters that returns an error besides its value: the budget's step,
// then checkCall, then fn, then checkResult. The common shapes get a plain
// closure; the rest a reflect.MakeFunc.
func guardFunc(name string, fm fakerMethod, fn reflect.Value, budget *renderBudget) any {
	if !fm.guarded && !fm.texts {
		switch f := fn.Interface().(type) {
		case func() string:
			return func() (string, error) {
				if err := budget.step(); err != nil {
					return "", err
				}
				return f(), nil
			}
		case func() int:
			return func() (int, error) {
				if err := budget.step(); err != nil {
					return 0, err
				}
				return f(), nil
			}
		case func() bool:
			return func() (bool, error) {
				if err := budget.step(); err != nil {
					return false, err
				}
				return f(), nil
			}
		case func(string) string:
			return func(s string) (string, error) {
				if err := budget.step(); err != nil {
					return "", err
				}
				out := f(s)
				if len(out) > maxTemplateOutput {
					return "", fmt.Errorf("%w: %s made %d bytes; a reply may be at most %d", ErrTemplateBudget, name, len(out), maxTemplateOutput)
				}
				return out, nil
			}
		}
	}
	ft := fn.Type()
	hasErr := ft.NumOut() == 2
	in := make([]reflect.Type, ft.NumIn())
	for i := range in {
		in[i] = ft.In(i)
	}
	wrapped := reflect.FuncOf(in, []reflect.Type{ft.Out(0), errorType}, ft.IsVariadic())
	zero := reflect.Zero(ft.Out(0))
	fail := func(err error) []reflect.Value { return []reflect.Value{zero, reflect.ValueOf(&err).Elem()} }
	return reflect.MakeFunc(wrapped, func(args []reflect.Value) []reflect.Value {
		if err := budget.step(); err != nil {
			return fail(err)
		}
		if err := checkCall(name, fm, args); err != nil {
			return fail(err)
		}
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fn.CallSlice(args)
		} else {
			out = fn.Call(args)
		}
		if hasErr && !out[1].IsNil() {
			return out
		}
		if err := checkResult(name, out[0]); err != nil {
			return fail(err)
		}
		return []reflect.Value{out[0], reflect.Zero(errorType)}
	}).Interface()
}
