package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"text/template"
)

// text/template's builtins that do work, written again so that each call
// is a step of the render's budget and none can make a value beyond the
// output limit. Each behaves as the builtin of its name (documented in
// text/template; template_builtins_test.go renders both over the same
// arguments and compares): the same results, and an error where the
// builtin fails.

// builtinOverrides returns the counting builtins, checked against budget
// (nil when only the names are wanted).
func builtinOverrides(budget *renderBudget) map[string]any {
	step := func() error {
		if budget == nil {
			return nil
		}
		return budget.step()
	}
	text := func(name string, s string) (string, error) {
		if len(s) > maxTemplateOutput {
			return "", fmt.Errorf("%w: %s made %d bytes; a reply may be at most %d", ErrTemplateBudget, name, len(s), maxTemplateOutput)
		}
		return s, nil
	}
	// An escaper may make six bytes of one: its text input is bounded
	// first, so that nested escapers cannot multiply a large value.
	escaper := func(name string, escape func(...any) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			if err := step(); err != nil {
				return "", err
			}
			n := 0
			for _, a := range args {
				if s, ok := a.(string); ok {
					n += len(s)
				}
			}
			if n > maxTemplateOutput {
				return "", fmt.Errorf("%w: %s is given %d bytes of text; a reply may be at most %d", ErrTemplateBudget, name, n, maxTemplateOutput)
			}
			return text(name, escape(args...))
		}
	}
	return map[string]any{
		"print": func(args ...any) (string, error) {
			if err := step(); err != nil {
				return "", err
			}
			return text("print", fmt.Sprint(args...))
		},
		"println": func(args ...any) (string, error) {
			if err := step(); err != nil {
				return "", err
			}
			return text("println", fmt.Sprintln(args...))
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := step(); err != nil {
				return "", err
			}
			if err := checkFormat(format); err != nil {
				return "", err
			}
			return text("printf", fmt.Sprintf(format, args...))
		},
		"html":     escaper("html", template.HTMLEscaper),
		"js":       escaper("js", template.JSEscaper),
		"urlquery": escaper("urlquery", template.URLQueryEscaper),
		"len": func(item reflect.Value) (int, error) {
			if err := step(); err != nil {
				return 0, err
			}
			return length(item)
		},
		"index": func(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
			if err := step(); err != nil {
				return reflect.Value{}, err
			}
			return index(item, indexes...)
		},
		"slice": func(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
			if err := step(); err != nil {
				return reflect.Value{}, err
			}
			return slice(item, indexes...)
		},
		"not": func(arg reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			return !truth(arg), nil
		},
		"eq": func(a reflect.Value, bs ...reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			return eq(a, bs...)
		},
		"ne": func(a, b reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			equal, err := eq(a, b)
			return !equal, err
		},
		"lt": func(a, b reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			return lt(a, b)
		},
		"le": func(a, b reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			return le(a, b)
		},
		"gt": func(a, b reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			lessOrEqual, err := le(a, b)
			return err == nil && !lessOrEqual, err
		},
		"ge": func(a, b reflect.Value) (bool, error) {
			if err := step(); err != nil {
				return false, err
			}
			less, err := lt(a, b)
			return err == nil && !less, err
		},
	}
}

// checkFormat refuses a printf format with a width or precision above
// maxFormatWidth, or one taken from an argument (*), which could be any.
// The digits of an argument index ([2]) are not a width.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(format) && format[j] == '%' {
			i = j
			continue
		}
	verb:
		for j < len(format) {
			c := format[j]
			switch {
			case c == '[':
				for j < len(format) && format[j] != ']' {
					j++
				}
				j++
			case c == '*':
				return fmt.Errorf("%w: printf %q: a width or precision from an argument (*) is not available in a reply template; write the number", ErrTemplateBudget, format)
			case c >= '0' && c <= '9':
				start := j
				for j < len(format) && format[j] >= '0' && format[j] <= '9' {
					j++
				}
				if n, err := strconv.Atoi(format[start:j]); err != nil || n > maxFormatWidth {
					return fmt.Errorf("%w: printf %q: a width or precision of %s; a reply template may use up to %d", ErrTemplateBudget, format, format[start:j], maxFormatWidth)
				}
			case c == '+' || c == '-' || c == '#' || c == ' ' || c == '.':
				j++
			default:
				break verb
			}
		}
		i = j
	}
	return nil
}

// The helpers below behave as text/template's unexported ones of the same
// purpose.

func indirectInterface(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Interface || v.IsNil() {
		if v.Kind() == reflect.Interface {
			return reflect.Value{}
		}
		return v
	}
	return v.Elem()
}

// indirect follows pointers and interfaces; isNil reports a nil one.
func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

func truth(v reflect.Value) bool {
	v = indirectInterface(v)
	if !v.IsValid() {
		return false
	}
	t, _ := template.IsTrue(v.Interface())
	return t
}

func length(item reflect.Value) (int, error) {
	item, isNil := indirect(item)
	if isNil {
		return 0, errors.New("len of nil pointer")
	}
	switch item.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return item.Len(), nil
	case reflect.Invalid:
		return 0, errors.New("len of nil")
	}
	return 0, fmt.Errorf("len of type %s", item.Type())
}

// indexArg reads an integer index no greater than limit.
func indexArg(v reflect.Value, limit int) (int, error) {
	var x int64
	switch {
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		x = v.Int()
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uintptr:
		x = int64(v.Uint())
	case !v.IsValid():
		return 0, errors.New("cannot index slice/array with nil")
	default:
		return 0, fmt.Errorf("cannot index slice/array with type %s", v.Type())
	}
	if x < 0 || int(x) < 0 || int(x) > limit {
		return 0, fmt.Errorf("index out of range: %d", x)
	}
	return int(x), nil
}

func index(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
	item = indirectInterface(item)
	if !item.IsValid() {
		return reflect.Value{}, errors.New("index of untyped nil")
	}
	for _, ix := range indexes {
		ix = indirectInterface(ix)
		var isNil bool
		if item, isNil = indirect(item); isNil {
			return reflect.Value{}, errors.New("index of nil pointer")
		}
		switch item.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			x, err := indexArg(ix, item.Len())
			if err != nil {
				return reflect.Value{}, err
			}
			if x == item.Len() {
				return reflect.Value{}, fmt.Errorf("index out of range: %d", x)
			}
			item = item.Index(x)
		case reflect.Map:
			key, err := mapKey(ix, item.Type().Key())
			if err != nil {
				return reflect.Value{}, err
			}
			if x := item.MapIndex(key); x.IsValid() {
				item = x
			} else {
				item = reflect.Zero(item.Type().Elem())
			}
		default:
			return reflect.Value{}, fmt.Errorf("can't index item of type %s", item.Type())
		}
	}
	return item, nil
}

// mapKey converts v to a map's key type, as text/template does for
// arguments: nil becomes the zero of a type that can be nil, an integer
// converts to another integer type.
func mapKey(v reflect.Value, typ reflect.Type) (reflect.Value, error) {
	if !v.IsValid() {
		switch typ.Kind() {
		case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
			return reflect.Zero(typ), nil
		}
		return reflect.Value{}, fmt.Errorf("value is nil; should be of type %s", typ)
	}
	if v.Type().AssignableTo(typ) {
		return v, nil
	}
	intLike := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Uintptr }
	if intLike(v.Kind()) && intLike(typ.Kind()) && v.Type().ConvertibleTo(typ) {
		return v.Convert(typ), nil
	}
	return reflect.Value{}, fmt.Errorf("value has type %s; should be %s", v.Type(), typ)
}

func slice(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
	item = indirectInterface(item)
	if !item.IsValid() {
		return reflect.Value{}, errors.New("slice of untyped nil")
	}
	var isNil bool
	if item, isNil = indirect(item); isNil {
		return reflect.Value{}, errors.New("slice of nil pointer")
	}
	if len(indexes) > 3 {
		return reflect.Value{}, fmt.Errorf("too many slice indexes: %d", len(indexes))
	}
	var limit int
	switch item.Kind() {
	case reflect.String:
		if len(indexes) == 3 {
			return reflect.Value{}, errors.New("cannot 3-index slice a string")
		}
		limit = item.Len()
	case reflect.Array, reflect.Slice:
		limit = item.Cap()
	default:
		return reflect.Value{}, fmt.Errorf("can't slice item of type %s", item.Type())
	}
	idx := [3]int{0, item.Len()}
	for i, ix := range indexes {
		x, err := indexArg(ix, limit)
		if err != nil {
			return reflect.Value{}, err
		}
		idx[i] = x
	}
	if idx[0] > idx[1] {
		return reflect.Value{}, fmt.Errorf("invalid slice index: %d > %d", idx[0], idx[1])
	}
	if len(indexes) < 3 {
		return item.Slice(idx[0], idx[1]), nil
	}
	if idx[1] > idx[2] {
		return reflect.Value{}, fmt.Errorf("invalid slice index: %d > %d", idx[1], idx[2])
	}
	return item.Slice3(idx[0], idx[1], idx[2]), nil
}

// Kinds of basic values for comparison.
type basic int

const (
	notBasic basic = iota
	boolBasic
	complexBasic
	intBasic
	floatBasic
	stringBasic
	uintBasic
)

var errBadComparisonType = errors.New("invalid type for comparison")

func basicOf(v reflect.Value) basic {
	switch k := v.Kind(); {
	case k == reflect.Bool:
		return boolBasic
	case k >= reflect.Int && k <= reflect.Int64:
		return intBasic
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return uintBasic
	case k == reflect.Float32 || k == reflect.Float64:
		return floatBasic
	case k == reflect.Complex64 || k == reflect.Complex128:
		return complexBasic
	case k == reflect.String:
		return stringBasic
	}
	return notBasic
}

func isNilValue(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// eq reports whether a equals any of bs.
func eq(a reflect.Value, bs ...reflect.Value) (bool, error) {
	a = indirectInterface(a)
	if len(bs) == 0 {
		return false, errors.New("missing argument for comparison")
	}
	ka := basicOf(a)
	for _, b := range bs {
		b = indirectInterface(b)
		kb := basicOf(b)
		equal := false
		switch {
		case ka == intBasic && kb == uintBasic:
			equal = a.Int() >= 0 && uint64(a.Int()) == b.Uint()
		case ka == uintBasic && kb == intBasic:
			equal = b.Int() >= 0 && a.Uint() == uint64(b.Int())
		case ka != kb:
			if a.IsValid() && b.IsValid() {
				return false, fmt.Errorf("incompatible types for comparison: %v and %v", a.Type(), b.Type())
			}
		case ka == boolBasic:
			equal = a.Bool() == b.Bool()
		case ka == complexBasic:
			equal = a.Complex() == b.Complex()
		case ka == floatBasic:
			equal = a.Float() == b.Float()
		case ka == intBasic:
			equal = a.Int() == b.Int()
		case ka == stringBasic:
			equal = a.String() == b.String()
		case ka == uintBasic:
			equal = a.Uint() == b.Uint()
		default:
			if a.Kind() != b.Kind() && a.IsValid() && b.IsValid() {
				return false, fmt.Errorf("non-comparable types %s: %v, %s: %v", a, a.Type(), b.Type(), b)
			}
			if isNilValue(a) || isNilValue(b) {
				equal = isNilValue(a) == isNilValue(b)
			} else {
				if !b.Type().Comparable() {
					return false, fmt.Errorf("non-comparable type %s: %v", b, b.Type())
				}
				equal = a.Interface() == b.Interface()
			}
		}
		if equal {
			return true, nil
		}
	}
	return false, nil
}

// lt reports whether a < b.
func lt(a, b reflect.Value) (bool, error) {
	a, b = indirectInterface(a), indirectInterface(b)
	ka, kb := basicOf(a), basicOf(b)
	if ka == notBasic || kb == notBasic {
		return false, errBadComparisonType
	}
	switch {
	case ka == intBasic && kb == uintBasic:
		return a.Int() < 0 || uint64(a.Int()) < b.Uint(), nil
	case ka == uintBasic && kb == intBasic:
		return b.Int() >= 0 && a.Uint() < uint64(b.Int()), nil
	case ka != kb:
		return false, fmt.Errorf("incompatible types for comparison: %v and %v", a.Type(), b.Type())
	case ka == boolBasic || ka == complexBasic:
		return false, errBadComparisonType
	case ka == floatBasic:
		return a.Float() < b.Float(), nil
	case ka == intBasic:
		return a.Int() < b.Int(), nil
	case ka == stringBasic:
		return a.String() < b.String(), nil
	}
	return a.Uint() < b.Uint(), nil
}

// le reports whether a <= b.
func le(a, b reflect.Value) (bool, error) {
	less, err := lt(a, b)
	if less || err != nil {
		return less, err
	}
	return eq(a, b)
}
