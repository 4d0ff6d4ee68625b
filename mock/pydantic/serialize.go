package pydantic

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// # Responses: pydantic-core, not json.dumps
//
// FastAPI 0.141 writes a route's response_model with pydantic-core
// (TypeAdapter.dump_json), not with json.dumps as it writes a 422: the
// same value comes out differently in a 201 than in a 422's "input".
// Serialize writes what pydantic-core writes, for the field types of the
// Workspace API's Message:
//
//   - floats: shortest round-trip digits, in fixed notation for decimal
//     exponents from -5 to 15 (0.00001, 1000000000000000.0), else
//     scientific without padding (1e-7, 1.5e+16) — where Python's repr,
//     and so a 422, has 1e-05 and 1e-07; NaN and infinities as null;
//   - a lone surrogate in a str field or in an Any value is an error (the
//     service answers 500), but in the key of a typed dict[str, Any] it is
//     written lossily, one U+FFFD per byte of its UTF-8 form (PyO3's
//     to_string_lossy);
//   - an Any value nested more than 255 values deep (a scalar counts, as an
//     empty container does) is an error: pydantic-core's recursion guard
//     ("Circular reference detected (depth exceeded)").

// Type is a response field's type, as far as writing it goes.
type Type uint8

const (
	TypeStr      Type = iota // str
	TypeStrList              // list[str]
	TypeDict                 // dict[str, Any]
	TypeDictList             // list[dict[str, Any]]
)

// maxAnyDepth is pydantic-core's recursion limit for values it infers.
const maxAnyDepth = 255

// Serialize writes v, already validated as a field of type t, as
// pydantic-core writes it in a response. ok is false where pydantic-core
// raises, which FastAPI answers with Starlette's 500.
func Serialize(v *Value, t Type) (out []byte, ok bool) {
	var b bytes.Buffer
	switch t {
	case TypeStr:
		ok = writeStr(&b, v)
	case TypeStrList:
		ok = writeList(&b, v, writeStr)
	case TypeDict:
		ok = writeDict(&b, v)
	case TypeDictList:
		ok = writeList(&b, v, writeDict)
	}
	return b.Bytes(), ok
}

func writeStr(b *bytes.Buffer, v *Value) bool {
	if v.loneSurrogate {
		return false
	}
	pyQuote(b, v.str)
	return true
}

func writeList(b *bytes.Buffer, v *Value, item func(*bytes.Buffer, *Value) bool) bool {
	b.WriteByte('[')
	for i := range v.items {
		if i > 0 {
			b.WriteByte(',')
		}
		if !item(b, &v.items[i]) {
			return false
		}
	}
	b.WriteByte(']')
	return true
}

// writeDict writes a dict[str, Any]: its keys lossily, its values inferred.
func writeDict(b *bytes.Buffer, v *Value) bool {
	b.WriteByte('{')
	for i, k := range v.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		pyQuote(b, lossyKey(k))
		b.WriteByte(':')
		if !writeAny(b, &v.items[i], 1) {
			return false
		}
	}
	b.WriteByte('}')
	return true
}

// lossyKey is a key as PyO3's to_string_lossy gives it: each byte of a
// lone surrogate's UTF-8 form becomes U+FFFD.
func lossyKey(k string) string {
	if !hasSurrogate(k) {
		return k
	}
	var sb strings.Builder
	for _, r := range k { // a surrogate's bytes decode as three RuneErrors
		sb.WriteRune(r)
	}
	return sb.String()
}

// writeAny writes a value pydantic-core infers the type of, depth values deep.
func writeAny(b *bytes.Buffer, v *Value, depth int) bool {
	if depth > maxAnyDepth {
		return false
	}
	switch v.Kind {
	case Null:
		b.WriteString("null")
	case Bool:
		b.WriteString(strconv.FormatBool(v.b))
	case Int:
		b.WriteString(pyIntText(v.str))
	case Float:
		if math.IsNaN(v.num) || math.IsInf(v.num, 0) {
			b.WriteString("null") // ser_json_inf_nan's default
		} else {
			b.WriteString(FloatCore(v.num))
		}
	case String:
		return writeStr(b, v)
	case Array:
		b.WriteByte('[')
		for i := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if !writeAny(b, &v.items[i], depth+1) {
				return false
			}
		}
		b.WriteByte(']')
	case Object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if hasSurrogate(k) {
				return false // an inferred dict's key is not written lossily
			}
			pyQuote(b, k)
			b.WriteByte(':')
			if !writeAny(b, &v.items[i], depth+1) {
				return false
			}
		}
		b.WriteByte('}')
	}
	return true
}

// FloatCore is a finite float as pydantic-core writes it in JSON.
func FloatCore(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	mant, expText, _ := strings.Cut(strconv.FormatFloat(math.Abs(f), 'e', -1, 64), "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if f < 0 {
		sign = "-"
	}
	if exp < -5 || exp >= 16 {
		if exp > 0 {
			return sign + mant + "e+" + strconv.Itoa(exp)
		}
		return sign + mant + "e" + strconv.Itoa(exp)
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return sign + s
}

// ValidStr reports whether pydantic-core can write s, a str field's value
// from Parse, in a response: it holds no lone surrogate (the only bytes
// Parse lets through that are not UTF-8).
func ValidStr(s string) bool { return utf8.ValidString(s) }
