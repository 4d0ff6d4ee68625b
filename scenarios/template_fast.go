package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/brianvoe/gofakeit/v7"
)

// A fast template is a reply text made only of literal text, gofakeit
// calls with constant arguments and plain .Request fields — "{{ Sentence }}",
// "Hi {{ .Request.SenderID }}, {{ Name }} here" — which is most of them.
// It renders by calling the Faker's methods directly, in the order
// text/template would, so the output and the random draws are the same,
// without text/template's reflection (about a third of a default-path
// request's allocations). Anything else renders through text/template.
type fastTemplate []fastSegment

type fastSegment struct {
	text  string                                      // literal text, when call and field are unset
	call  func(f *gofakeit.Faker, b *strings.Builder) // a gofakeit call
	field requestField                                // a .Request field
}

// requestField names a string field of RequestData (a switch, not a
// func: the data does not escape to the heap through an unknown call).
type requestField int

const (
	noField requestField = iota
	fieldText
	fieldSenderID
	fieldSenderType
	fieldRole
	fieldConversationID
	fieldMessageID
)

func (f requestField) of(d *RequestData) string {
	switch f {
	case fieldText:
		return d.Text
	case fieldSenderID:
		return d.SenderID
	case fieldSenderType:
		return d.SenderType
	case fieldRole:
		return d.Role
	case fieldConversationID:
		return d.ConversationID
	case fieldMessageID:
		return d.MessageID
	}
	return ""
}

// compileFast returns tree as a fast template, or nil.
func compileFast(tree *parse.Tree) fastTemplate {
	out := fastTemplate{} // not nil: an empty text is fast too
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out = append(out, fastSegment{text: string(n.Text)})
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 {
				return nil
			}
			seg, ok := fastCommand(n.Pipe.Cmds[0].Args)
			if !ok {
				return nil
			}
			out = append(out, seg)
		default:
			return nil
		}
	}
	return out
}

// fastCommand compiles one {{ … }} of a fast template.
func fastCommand(args []parse.Node) (fastSegment, bool) {
	if f, ok := args[0].(*parse.FieldNode); ok && len(args) == 1 && len(f.Ident) == 2 && f.Ident[0] == "Request" {
		field := requestString(f.Ident[1])
		return fastSegment{field: field}, field != noField
	}
	id, ok := args[0].(*parse.IdentifierNode)
	if !ok {
		return fastSegment{}, false
	}
	fm, ok := fakerMethods()[id.Ident]
	if !ok {
		return fastSegment{}, false
	}
	m := fakerType.Method(fm.index)
	consts := args[1:]
	// Constant arguments are checked once, here (and by checkCalls, which
	// refuses the template when they break a bound).
	var vals []reflect.Value
	for _, c := range consts {
		switch c := c.(type) {
		case *parse.NumberNode:
			vals = append(vals, reflect.ValueOf(c.Int64))
		case *parse.StringNode:
			vals = append(vals, reflect.ValueOf(c.Text))
		}
	}
	if checkCall(id.Ident, fm, vals) != nil {
		return fastSegment{}, false
	}
	ints, intsOK := constInts(consts)
	name := id.Ident
	var call func(f *gofakeit.Faker, b *strings.Builder)
	switch fn := m.Func.Interface().(type) {
	case func(*gofakeit.Faker) string:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(fn(f)) }
		ok = len(consts) == 0
	case func(*gofakeit.Faker) int:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(strconv.Itoa(fn(f))) }
		ok = len(consts) == 0
	case func(*gofakeit.Faker) bool:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(strconv.FormatBool(fn(f))) }
		ok = len(consts) == 0
	case func(*gofakeit.Faker, ...int) string:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(fn(f, ints...)) }
		if name == "Sentence" { // its count is ignored; compiled in sentence.go
			call = writeSentence
		}
		ok = intsOK
	case func(*gofakeit.Faker, int) string:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(fn(f, ints[0])) }
		ok = intsOK && len(ints) == 1
	case func(*gofakeit.Faker, int, int) int:
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(strconv.Itoa(fn(f, ints[0], ints[1]))) }
		ok = intsOK && len(ints) == 2
	case func(*gofakeit.Faker, ...any) string:
		vals, valsOK := constAnys(consts)
		call = func(f *gofakeit.Faker, b *strings.Builder) { b.WriteString(fn(f, vals...)) }
		ok = valsOK
	default:
		ok = false
	}
	if !ok {
		return fastSegment{}, false
	}
	// text/template turns a panic in a function into an error naming it.
	guarded := func(f *gofakeit.Faker, b *strings.Builder) {
		defer func() {
			if p := recover(); p != nil {
				panic(fastPanic{fmt.Errorf("error calling %s: %v", name, p)})
			}
		}()
		call(f, b)
	}
	return fastSegment{call: guarded}, true
}

type fastPanic struct{ err error }

// requestString names one string field of .Request, or is noField.
func requestString(name string) requestField {
	return map[string]requestField{"Text": fieldText, "SenderID": fieldSenderID, "SenderType": fieldSenderType,
		"Role": fieldRole, "ConversationID": fieldConversationID, "MessageID": fieldMessageID}[name]
}

// constInts reads integer literals, as text/template passes them to int parameters.
func constInts(nodes []parse.Node) ([]int, bool) {
	out := make([]int, 0, len(nodes))
	for _, n := range nodes {
		num, ok := n.(*parse.NumberNode)
		if !ok || !num.IsInt || strings.ContainsAny(num.Text, ".eEpP'") {
			return nil, false
		}
		out = append(out, int(num.Int64))
	}
	return out, true
}

// constAnys reads string, boolean and integer literals, as text/template
// passes them to interface parameters.
func constAnys(nodes []parse.Node) ([]any, bool) {
	out := make([]any, 0, len(nodes))
	for _, n := range nodes {
		switch c := n.(type) {
		case *parse.StringNode:
			out = append(out, c.Text)
		case *parse.BoolNode:
			out = append(out, c.True)
		case *parse.NumberNode:
			if !c.IsInt || strings.ContainsAny(c.Text, ".eEpP'xXoObB_") {
				return nil, false
			}
			out = append(out, int(c.Int64))
		default:
			return nil, false
		}
	}
	return out, true
}

// render writes the template for data with faker.
func (ft fastTemplate) render(faker *gofakeit.Faker, data *RequestData) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			fp, ok := p.(fastPanic)
			if !ok {
				panic(p)
			}
			out, err = "", fp.err
		}
	}()
	var b strings.Builder
	b.Grow(256) // most replies fit: one allocation
	for i := range ft {
		s := &ft[i]
		switch {
		case s.call != nil:
			s.call(faker, &b)
		case s.field != noField:
			b.WriteString(s.field.of(data))
		default:
			b.WriteString(s.text)
		}
		if b.Len() > maxTemplateOutput {
			return "", errTemplateTooLong
		}
	}
	return b.String(), nil
}
