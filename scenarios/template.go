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

// templateEngine binds a Set's templates to one gofakeit Faker. Go
// templates take their functions at parse time, so the Faker cannot be
// chosen per call; instead its random source is switched to the caller's
// stream for the length of one execution, under mu. That lock covers CPU
// work only, and it is what makes fake text follow each session's seed.
type templateEngine struct {
	mu   sync.Mutex
	src  switchSource
	base *template.Template // holds the functions; replies are parsed as its associates
	next int
}

type switchSource struct{ cur rand.Source }

func (s *switchSource) Uint64() uint64 { return s.cur.Uint64() }

// Template is a reply text, parsed once at load.
type Template struct {
	Source string
	tmpl   *template.Template
	engine *templateEngine
	// Whether the text refers to .Request.Headers or .Request.Metadata:
	// building them costs a map per reply, so callers skip it otherwise.
	UsesHeaders, UsesMetadata bool
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

func newTemplateEngine() *templateEngine {
	e := &templateEngine{src: switchSource{cur: rand.NewPCG(1, 2)}}
	faker := gofakeit.NewFaker(&e.src, false)
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
	// Registering ~300 functions is the costly part of a template, so it is
	// done once per Set; each reply is parsed as an associated template.
	e.base = template.New("").Option("missingkey=zero").Funcs(funcs)
	return e
}

// parse adds a template to the engine. The engine outlives one Set (the
// Loader shares it), so parsing takes the lock that executions hold.
func (e *templateEngine) parse(text string) (*Template, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	t, err := e.base.New("reply" + strconv.Itoa(e.next)).Parse(text)
	if err != nil {
		return nil, err
	}
	return &Template{Source: text, tmpl: t, engine: e,
		UsesHeaders: strings.Contains(text, "Headers"), UsesMetadata: strings.Contains(text, "Metadata")}, nil
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
func (t *Template) Render(src rand.Source, data RequestData) (string, error) {
	e := t.engine
	e.mu.Lock()
	defer e.mu.Unlock()
	e.src.cur = src
	var out limitedBuffer
	err := t.tmpl.Execute(&out, struct{ Request RequestData }{data})
	if err != nil {
		return "", err
	}
	return out.String(), nil
}
