package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// TestEveryOfferedFunctionIsBounded calls every gofakeit method a template
// may use, as a template would, with the largest arguments it could give:
// each either refuses (ErrTemplateBudget) or returns a value within the
// output limit. Every method with an integer parameter refuses, unless it
// draws a number between bounds (rangeFuncs), which must then answer in
// constant size; every method with a text parameter refuses a long text.
// A gofakeit upgrade that adds a method is audited here without a list
// to update.
func TestEveryOfferedFunctionIsBounded(t *testing.T) {
	budget := &renderBudget{ctx: context.Background(), start: time.Now()}
	faker := gofakeit.NewFaker(rand.NewPCG(1, 2), false)
	funcs := templateFuncs(faker, budget)
	for name := range templateExcluded {
		if funcs[name] != nil {
			t.Errorf("%s is offered", name)
		}
	}
	longText := strings.Repeat("ab#?", maxTemplateOutput/4)
	audited := 0
	for name, fm := range fakerMethods() {
		mt := fakerType.Method(fm.index).Type
		hasInt, hasText := false, false
		big := make([]reflect.Value, 0, mt.NumIn())
		small := make([]reflect.Value, 0, mt.NumIn())
		for i := 1; i < mt.NumIn(); i++ {
			in := mt.In(i)
			variadic := mt.IsVariadic() && i == mt.NumIn()-1
			if variadic {
				in = in.Elem()
			}
			b, s := extreme(in, longText)
			switch {
			case in.Kind() >= reflect.Int && in.Kind() <= reflect.Uint64, in.Kind() == reflect.Interface:
				hasInt = true
			case in.Kind() == reflect.String:
				hasText = true
			}
			big, small = append(big, b), append(small, s)
		}
		fn := reflect.ValueOf(funcs[name])
		call := func(args []reflect.Value) (out reflect.Value, err error) {
			budget.calls, budget.start = 0, time.Now()
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p) // text/template reports it as an error too
				}
			}()
			res := fn.Call(args)
			if e, _ := res[1].Interface().(error); e != nil {
				return res[0], e
			}
			return res[0], nil
		}
		out, err := call(big)
		switch {
		case hasInt && !rangeFuncs[name] || hasText:
			if !errors.Is(err, ErrTemplateBudget) {
				t.Errorf("%s%v with the largest arguments: %v (%d bytes), want a refusal", name, mt, err, size(out))
			}
		case err == nil && size(out) > maxTemplateOutput:
			t.Errorf("%s%v: %d bytes", name, mt, size(out))
		}
		if rangeFuncs[name] && (err != nil || size(out) > 32) {
			t.Errorf("%s, a range function, with the largest bounds: %v, %d bytes", name, err, size(out))
		}
		if out, err := call(small); errors.Is(err, ErrTemplateBudget) || err == nil && size(out) > maxTemplateOutput {
			t.Errorf("%s%v with small arguments: %v, %d bytes", name, mt, err, size(out))
		}
		audited++
	}
	if audited < 250 {
		t.Errorf("only %d methods audited", audited)
	}
	t.Logf("%d gofakeit methods audited", audited)
}

// extreme returns the largest value a template could pass for a parameter
// of type in, and a small one.
func extreme(in reflect.Type, longText string) (big, small reflect.Value) {
	switch k := in.Kind(); {
	case k >= reflect.Int && k <= reflect.Int64:
		b := reflect.New(in).Elem()
		b.SetInt(int64(math.MaxInt32))
		s := reflect.New(in).Elem()
		s.SetInt(3)
		return b, s
	case k >= reflect.Uint && k <= reflect.Uint64:
		b := reflect.New(in).Elem()
		b.SetUint(math.MaxUint32)
		s := reflect.New(in).Elem()
		s.SetUint(3)
		return b, s
	case k == reflect.String:
		return reflect.ValueOf(longText).Convert(in), reflect.ValueOf("ab#?").Convert(in)
	case k == reflect.Interface:
		return reflect.ValueOf(math.MaxInt32), reflect.ValueOf(3)
	case k == reflect.Bool:
		return reflect.ValueOf(true), reflect.ValueOf(true)
	}
	return reflect.Zero(in), reflect.Zero(in) // pointers, slices, times: what a template can give is nil or the zero
}

func size(v reflect.Value) int {
	if !v.IsValid() {
		return 0
	}
	return len(fmt.Sprint(v.Interface()))
}

// TestBuiltinOverridesBehaveAsTextTemplate renders the same templates with
// text/template's builtins and with msgmock's counting ones, over values
// of every kind a template meets: same output, and an error where the
// builtin fails.
func TestBuiltinOverridesBehaveAsTextTemplate(t *testing.T) {
	type item struct{ N int }
	data := map[string]any{
		"I": 3, "I8": int8(-2), "U": uint(3), "U8": uint8(200), "F": 2.5, "F32": float32(2.5), "C": complex(1, 2), "B": true, "BF": false,
		"S": "héllo", "S2": "abc", "E": "", "Z": 0, "N": nil, "M": map[string]any{"k": "v", "n": 1.0, "x": nil},
		"MI": map[int]string{1: "one"}, "L": []any{"a", 2.0, nil}, "LI": []int{1, 2, 3}, "A": [2]int{7, 8}, "P": &item{4},
		"NP": (*item)(nil), "NM": map[string]any(nil), "NL": []int(nil), "St": item{5}, "Html": `<a href="x">&'`,
	}
	keys := []string{"I", "I8", "U", "U8", "F", "F32", "C", "B", "BF", "S", "S2", "E", "Z", "N", "M", "MI", "L", "LI", "A", "P", "NP", "NM", "NL", "St"}
	var texts []string
	for _, op := range []string{"eq", "ne", "lt", "le", "gt", "ge"} {
		for _, a := range keys {
			for _, b := range keys {
				texts = append(texts, fmt.Sprintf("{{ %s .%s .%s }}", op, a, b))
			}
		}
	}
	for _, a := range keys {
		texts = append(texts, "{{ not ."+a+" }}", "{{ len ."+a+" }}", "{{ index ."+a+" 0 }}", "{{ index ."+a+" 1 }}", "{{ index ."+a+" 3 }}",
			`{{ index .`+a+` "k" }}`, "{{ index ."+a+" .N }}", "{{ slice ."+a+" }}", "{{ slice ."+a+" 1 }}", "{{ slice ."+a+" 1 2 }}",
			"{{ slice ."+a+" 1 2 3 }}", "{{ slice ."+a+" 2 1 }}", "{{ print ."+a+" }}", "{{ println ."+a+" .I }}", "{{ html ."+a+" }}",
			"{{ js ."+a+" }}", "{{ urlquery ."+a+" }}", `{{ printf "%v|%5.2v|%-4v|%[1]q" .`+a+` }}`, "{{ eq .I ."+a+" 3 .U }}", "{{ index .M ."+a+" }}",
			"{{ index .MI ."+a+" }}", "{{ index .L ."+a+" }}")
	}
	texts = append(texts, "{{ eq .I }}", "{{ index .M }}", "{{ slice .S 1 2 3 4 }}", "{{ index .M.k 0 }}", "{{ html .Html .I }}", "{{ js .Html }}",
		"{{ urlquery .Html }}", "{{ len .M.x }}", "{{ index .L 2 }}", "{{ not .L }}", "{{ not .NL }}", "{{ index .LI -1 }}", "{{ slice .LI 1 3 3 }}",
		"{{ slice .A 0 1 }}", "{{ index .A 1 }}", "{{ len .P }}", "{{ index .P 0 }}", "{{ eq .P .P }}", "{{ eq .St .St }}", "{{ eq .N .N }}",
		"{{ lt .I .U8 }}", "{{ le .U .I }}", "{{ gt .I8 .U }}", "{{ ge .F .F32 }}")
	budget := &renderBudget{ctx: context.Background(), start: time.Now()}
	ours := template.New("ours").Option("missingkey=zero").Funcs(builtinOverrides(budget))
	for _, text := range texts {
		want, wantErr := execute(template.New("builtin").Option("missingkey=zero"), text, data)
		budget.calls, budget.start = 0, time.Now()
		got, gotErr := execute(ours, text, data)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\n builtin %q (%v)\n    ours %q (%v)", text, want, wantErr, got, gotErr)
		}
	}
	t.Logf("%d templates compared", len(texts))
}

func execute(base *template.Template, text string, data any) (string, error) {
	tmpl, err := base.Clone()
	if err != nil {
		return "", err
	}
	if tmpl, err = tmpl.Parse(text); err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, data)
	return b.String(), err
}
