package pydantic

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The Workspace API is a FastAPI service: Starlette parses the body with
// Python's json.loads and FastAPI reports a failure with CPython's own
// message and character offset. Value and Parse reproduce that parser
// (the C scanner's messages, as of Python 3.12), and Value.writeTo
// re-serialises a value as json.dumps(ensure_ascii=False) does, for the
// "input" of validation errors.

type Kind uint8

const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	Array
	Object
)

type Value struct {
	Kind Kind
	// loneSurrogate: a string in this value held a lone surrogate
	// (\ud800), which Python keeps and cannot encode back to UTF-8.
	loneSurrogate bool
	b             bool
	str           string   // string value; the literal text of a number
	num           float64  // numbers
	items         []Value  // arrays; objects: values, parallel to keys
	keys          []string // objects, first-seen order; a repeated key keeps its first place and last value
}

// Get returns the value of key in an object.
func (v *Value) Get(key string) (*Value, bool) {
	for i, k := range v.keys {
		if k == key {
			return &v.items[i], true
		}
	}
	return nil, false
}

// JSONError is json.loads's JSONDecodeError: CPython's message and the
// offset FastAPI reports in the error's loc.
type JSONError struct {
	Msg string
	Pos int // in characters (code points), as Python counts
}

type pyParser struct {
	s      []byte
	err    *JSONError
	tooBig bool // an integer past Python's 4,300-digit limit: ValueError, not a JSON error
}

// Parse parses body as json.loads would. It returns a syntax error with
// CPython's message, or ok false when Python could not even decode the bytes
// (invalid UTF-8), for which FastAPI answers 400 instead of 422.
func Parse(body []byte) (v Value, jerr *JSONError, ok bool) {
	body, ok = decodeBytes(body)
	if !ok {
		return Value{}, nil, false
	}
	p := &pyParser{s: body}
	i := p.ws(0)
	v, end := p.value(i)
	if p.tooBig {
		return Value{}, nil, false
	}
	if p.err != nil {
		return Value{}, p.errAt(), true
	}
	end = p.ws(end)
	if end != len(body) {
		p.fail("Extra data", end)
		return Value{}, p.errAt(), true
	}
	v.markSurrogates()
	return v, nil, true
}

// maxIntDigits is CPython's limit on converting a decimal string to an int
// (sys.get_int_max_str_digits): past it json.loads raises ValueError.
const maxIntDigits = 4300

// decodeBytes decodes a body as json.loads does for bytes:
// bytes.decode(json.detect_encoding(b), "surrogatepass") — UTF-8 with or
// without BOM, UTF-16 and UTF-32 in either order, with or without BOM —
// into the parser's text. ok is false when the bytes do not decode.
//
// # Lone surrogates
//
// "surrogatepass" lets a surrogate code point through every one of these
// codecs (UTF-8's ED A0 80 is U+D800), and a \ud800 escape makes one too.
// Python keeps them in its str; the text here holds each as the three
// bytes UTF-8 would give it (WTF-8, as Python's encode("utf-8",
// "surrogatepass") writes it), so that nothing is lost: the value is
// stored as such, and what FastAPI then does with it — 500 where a
// response must hold it as text, U+FFFD per byte where pydantic-core
// writes a typed dict's key lossily — is decided where it is written.
func decodeBytes(b []byte) ([]byte, bool) {
	enc := detectEncoding(b)
	switch enc {
	case "utf-8":
		return b, validSurrogatePass(b)
	case "utf-8-sig":
		b = b[3:]
		return b, validSurrogatePass(b)
	}
	width, big := 2, strings.HasSuffix(enc, "be")
	if strings.HasPrefix(enc, "utf-32") {
		width = 4
	}
	if enc == "utf-16" || enc == "utf-32" { // with a BOM, which says the order
		big = b[0] == 0 || (width == 2 && b[0] == 0xfe)
		b = b[width:]
	}
	if len(b)%width != 0 {
		return nil, false
	}
	var out []byte
	if width == 2 {
		units := make([]uint16, len(b)/2)
		for i := range units {
			if big {
				units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			} else {
				units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
			}
		}
		for i := 0; i < len(units); i++ {
			r := rune(units[i])
			if r >= 0xd800 && r < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] <= 0xdfff {
				r = utf16.DecodeRune(r, rune(units[i+1]))
				i++
			}
			out = appendWTF8(out, r) // a lone surrogate passes
		}
		return out, true
	}
	for i := 0; i+4 <= len(b); i += 4 {
		var r rune
		if big {
			r = rune(b[i])<<24 | rune(b[i+1])<<16 | rune(b[i+2])<<8 | rune(b[i+3])
		} else {
			r = rune(b[i+3])<<24 | rune(b[i+2])<<16 | rune(b[i+1])<<8 | rune(b[i])
		}
		if r > utf8.MaxRune || r < 0 {
			return nil, false
		}
		out = appendWTF8(out, r)
	}
	return out, true
}

// validSurrogatePass reports whether b decodes as UTF-8 with Python's
// "surrogatepass": valid UTF-8, or the three-byte form of a surrogate
// (ED A0..BF 80..BF), which UTF-8 proper refuses.
func validSurrogatePass(b []byte) bool {
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		if surrogateAt(b, 0) {
			b = b[3:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		b = b[size:]
	}
	return true
}

// surrogateAt reports whether s[i:] starts with a surrogate's three bytes.
func surrogateAt[T []byte | string](s T, i int) bool {
	return i+2 < len(s) && s[i] == 0xed && s[i+1] >= 0xa0 && s[i+1] <= 0xbf && s[i+2] >= 0x80 && s[i+2] <= 0xbf
}

// hasSurrogate reports whether a parsed string holds a lone surrogate.
func hasSurrogate(s string) bool {
	for i := strings.IndexByte(s, 0xed); i >= 0; {
		if surrogateAt(s, i) {
			return true
		}
		next := strings.IndexByte(s[i+1:], 0xed)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// appendWTF8 appends r as UTF-8 does, surrogates included.
func appendWTF8(b []byte, r rune) []byte {
	if utf16.IsSurrogate(r) {
		return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
	}
	return utf8.AppendRune(b, r)
}

// pyLen is the length of text in Python characters: a surrogate's three
// bytes are one.
func pyLen(text []byte) int {
	n := 0
	for i := 0; i < len(text); {
		if surrogateAt(text, i) {
			i += 3
		} else {
			_, size := utf8.DecodeRune(text[i:])
			i += size
		}
		n++
	}
	return n
}

// detectEncoding is json.detect_encoding.
func detectEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return "utf-8-sig"
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}) || bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}):
		return "utf-32"
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return "utf-16"
	}
	if len(b) >= 4 {
		switch {
		case b[0] == 0 && b[1] == 0 && b[2] == 0:
			return "utf-32-be"
		case b[0] == 0 && b[2] == 0:
			return "utf-16-be"
		case b[0] == 0:
			return "utf-16-be"
		case b[1] == 0 && b[2] == 0 && b[3] == 0:
			return "utf-32-le"
		case b[1] == 0 && b[2] == 0:
			return "utf-16-le"
		case b[1] == 0:
			return "utf-16-le"
		}
	} else if len(b) == 2 {
		if b[0] == 0 {
			return "utf-16-be"
		}
		if b[1] == 0 {
			return "utf-16-le"
		}
	}
	return "utf-8"
}

// markSurrogates sets loneSurrogate on every container holding a string
// or a key that has one.
func (v *Value) markSurrogates() bool {
	for i := range v.items {
		if v.items[i].markSurrogates() {
			v.loneSurrogate = true
		}
	}
	for _, k := range v.keys {
		if hasSurrogate(k) {
			v.loneSurrogate = true
		}
	}
	return v.loneSurrogate
}

// Encodable reports whether Python could write the value back as JSON the
// way FastAPI writes an error's input (jsonable_encoder, then json.dumps
// with allow_nan=False, then UTF-8): no NaN or infinity, no lone
// surrogate, and no deeper than Python recurses there (maxEchoNesting).
func (v *Value) Encodable() bool {
	return v.encodable() && v.nesting() <= maxEchoNesting
}

func (v *Value) encodable() bool {
	if v.loneSurrogate {
		return false
	}
	if v.Kind == Float && (math.IsNaN(v.num) || math.IsInf(v.num, 0)) {
		return false
	}
	for i := range v.items {
		if !v.items[i].encodable() {
			return false
		}
	}
	return true
}

// nesting is how many containers deep v goes: 0 for a scalar, 1 for [] or
// {}, 2 for [[]], …
func (v *Value) nesting() int {
	if v.Kind != Array && v.Kind != Object {
		return 0
	}
	deepest := 0
	for i := range v.items {
		deepest = max(deepest, v.items[i].nesting())
	}
	return 1 + deepest
}

// HasLoneSurrogate reports whether a string in the value holds one: such a
// value cannot go into any response.
func (v *Value) HasLoneSurrogate() bool { return v.loneSurrogate }

func (p *pyParser) fail(msg string, pos int) {
	if p.err == nil {
		p.err = &JSONError{Msg: msg, Pos: pos}
	}
}

// errAt converts the byte offset of the error to a character offset.
func (p *pyParser) errAt() *JSONError {
	e := *p.err
	if e.Pos > len(p.s) {
		e.Pos = len(p.s)
	}
	e.Pos = pyLen(p.s[:e.Pos])
	return &e
}

func (p *pyParser) ws(i int) int {
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t' || p.s[i] == '\n' || p.s[i] == '\r') {
		i++
	}
	return i
}

// # Nesting
//
// CPython's json scanner recurses once per array or object it enters
// (Py_EnterRecursiveCall, which in 3.11 shares the interpreter's limit of
// 1,000 with the Python frames below it), and FastAPI answers its
// RecursionError with the generic 400, as for undecodable bytes. How deep
// it gets therefore depends on how many frames sit under json.loads: under
// FastAPI 0.141 / Starlette 0.47.3 called as an ASGI app (record.py in
// package mock's testdata/fastapi), containers 969 deep parse and 970 do
// not; under a server that adds frames (uvicorn) a few levels fewer. The
// same holds for writing a 422's input back (jsonable_encoder, then
// json.dumps): there an input 964 containers deep is written and 965 fail,
// a 500. msgmock takes those two figures.
const (
	maxPyNesting   = 969
	maxEchoNesting = 964
)

func (p *pyParser) value(i int) (Value, int) {
	return p.valueDepth(i, 0)
}

// valueDepth reads the value at i, inside depth containers.
func (p *pyParser) valueDepth(i, depth int) (Value, int) {
	if i < len(p.s) && (p.s[i] == '{' || p.s[i] == '[') && depth >= maxPyNesting {
		p.fail("maximum recursion depth exceeded", i)
		return Value{}, i
	}
	if i >= len(p.s) {
		p.fail("Expecting value", i)
		return Value{}, i
	}
	switch c := p.s[i]; {
	case c == '"':
		s, end := p.str(i + 1)
		return Value{Kind: String, str: s, loneSurrogate: hasSurrogate(s)}, end
	case c == 'N' && bytes.HasPrefix(p.s[i:], []byte("NaN")):
		return Value{Kind: Float, str: "NaN", num: math.NaN()}, i + 3
	case c == 'I' && bytes.HasPrefix(p.s[i:], []byte("Infinity")):
		return Value{Kind: Float, str: "Infinity", num: math.Inf(1)}, i + 8
	case c == '-' && bytes.HasPrefix(p.s[i:], []byte("-Infinity")):
		return Value{Kind: Float, str: "-Infinity", num: math.Inf(-1)}, i + 9
	case c == '{':
		return p.object(i+1, depth)
	case c == '[':
		return p.array(i+1, depth)
	case c == 'n' && bytes.HasPrefix(p.s[i:], []byte("null")):
		return Value{Kind: Null}, i + 4
	case c == 't' && bytes.HasPrefix(p.s[i:], []byte("true")):
		return Value{Kind: Bool, b: true}, i + 4
	case c == 'f' && bytes.HasPrefix(p.s[i:], []byte("false")):
		return Value{Kind: Bool}, i + 5
	case c == '-' || (c >= '0' && c <= '9'):
		if v, end, ok := p.number(i); ok {
			return v, end
		}
	}
	p.fail("Expecting value", i)
	return Value{}, i
}

// number matches Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
func (p *pyParser) number(i int) (Value, int, bool) {
	s, j := p.s, i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	default:
		return Value{}, i, false
	}
	isFloat := false
	if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
		isFloat = true
		j += 2
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			isFloat, j = true, k
		}
	}
	text := string(s[i:j])
	f, _ := strconv.ParseFloat(text, 64)
	if isFloat {
		return Value{Kind: Float, str: text, num: f}, j, true // 1e400 is inf, as float() reads it
	}
	if digits := len(strings.TrimPrefix(text, "-")); digits > maxIntDigits {
		p.tooBig = true
		p.fail("Exceeds the limit for integer string conversion", i)
		return Value{}, i, true
	}
	return Value{Kind: Int, str: text, num: f}, j, true
}

// key reads an object's key as str does; the API documents' own field
// names, unescaped, come from a table instead of a new string each.
func (p *pyParser) key(begin int) (string, int) {
	s := p.s
	j := begin
	for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] > 0x1f {
		j++
	}
	if j < len(s) && s[j] == '"' {
		if name, ok := knownKeys[string(s[begin:j])]; ok { // no copy: a map index by string(bytes)
			return name, j + 1
		}
	}
	return p.str(begin)
}

var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"content", "sender_id", "conversation_id", "role", "tags", "meta_data", "created_at", "message_type"} {
		m[k] = k
	}
	return m
}()

// str scans a string whose opening quote is at begin-1, as scanstring does.
func (p *pyParser) str(begin int) (string, int) {
	s := p.s
	var sb strings.Builder
	i := begin
	for {
		j := i
		for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] > 0x1f {
			j++
		}
		sb.Write(s[i:j])
		if j >= len(s) {
			p.fail("Unterminated string starting at", begin-1)
			return "", j
		}
		switch c := s[j]; {
		case c == '"':
			return sb.String(), j + 1
		case c <= 0x1f:
			p.fail("Invalid control character at", j)
			return "", j
		}
		// A backslash escape.
		j++
		if j >= len(s) {
			p.fail("Unterminated string starting at", begin-1)
			return "", j
		}
		c := s[j]
		if c != 'u' {
			r, ok := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[c]
			if !ok {
				p.fail("Invalid \\escape", j-1)
				return "", j
			}
			sb.WriteByte(r)
			i = j + 1
			continue
		}
		r, next, ok := hex4(s, j+1)
		if !ok {
			p.fail("Invalid \\uXXXX escape", j)
			return "", j
		}
		if utf16.IsSurrogate(r) && r < 0xdc00 && next+1 < len(s) && s[next] == '\\' && s[next+1] == 'u' {
			if r2, after, ok2 := hex4(s, next+2); ok2 && r2 >= 0xdc00 && r2 <= 0xdfff {
				r, next = utf16.DecodeRune(r, r2), after
			}
		}
		if utf16.IsSurrogate(r) {
			// A lone surrogate: Python keeps it (see decodeBytes).
			sb.Write(appendWTF8(nil, r))
		} else {
			sb.WriteRune(r)
		}
		i = next
	}
}

func hex4(s []byte, i int) (rune, int, bool) {
	// CPython wants the four digits and at least one more character.
	if i+4 >= len(s) {
		return 0, i, false
	}
	v, err := strconv.ParseUint(string(s[i:i+4]), 16, 32)
	if err != nil {
		return 0, i, false
	}
	return rune(v), i + 4, true
}

func (p *pyParser) object(i, depth int) (Value, int) {
	s := p.s
	v := Value{Kind: Object}
	i = p.ws(i)
	if i < len(s) && s[i] == '}' {
		return v, i + 1
	}
	if i >= len(s) || s[i] != '"' {
		p.fail("Expecting property name enclosed in double quotes", i)
		return v, i
	}
	i++
	for {
		key, end := p.key(i)
		if p.err != nil {
			return v, end
		}
		end = p.ws(end)
		if end >= len(s) || s[end] != ':' {
			p.fail("Expecting ':' delimiter", end)
			return v, end
		}
		val, after := p.valueDepth(p.ws(end+1), depth+1)
		if p.err != nil {
			return v, after
		}
		if prev, dup := v.Get(key); dup {
			*prev = val
		} else {
			if v.keys == nil { // room for a small object's members at once
				v.keys, v.items = make([]string, 0, 4), make([]Value, 0, 4)
			}
			v.keys = append(v.keys, key)
			v.items = append(v.items, val)
		}
		after = p.ws(after)
		if after < len(s) && s[after] == '}' {
			return v, after + 1
		}
		if after >= len(s) || s[after] != ',' {
			p.fail("Expecting ',' delimiter", after)
			return v, after
		}
		i = p.ws(after + 1)
		if i >= len(s) || s[i] != '"' {
			p.fail("Expecting property name enclosed in double quotes", i)
			return v, i
		}
		i++
	}
}

func (p *pyParser) array(i, depth int) (Value, int) {
	s := p.s
	v := Value{Kind: Array}
	i = p.ws(i)
	if i < len(s) && s[i] == ']' {
		return v, i + 1
	}
	for {
		val, after := p.valueDepth(i, depth+1)
		if p.err != nil {
			return v, after
		}
		v.items = append(v.items, val)
		after = p.ws(after)
		if after < len(s) && s[after] == ']' {
			return v, after + 1
		}
		if after >= len(s) || s[after] != ',' {
			p.fail("Expecting ',' delimiter", after)
			return v, after
		}
		i = p.ws(after + 1)
	}
}

// MarshalJSON writes v as Python's json.dumps(v, ensure_ascii=False,
// separators=(",", ":")) would.
func (v Value) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	v.writeTo(&b)
	return b.Bytes(), nil
}

func (v *Value) writeTo(b *bytes.Buffer) {
	switch v.Kind {
	case Null:
		b.WriteString("null")
	case Bool:
		if v.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int:
		b.WriteString(pyIntText(v.str))
	case Float:
		if math.IsNaN(v.num) || math.IsInf(v.num, 0) {
			b.WriteString("null") // as Pydantic serialises inf and nan (ser_json_inf_nan: null)
		} else {
			b.WriteString(FloatRepr(v.num))
		}
	case String:
		pyQuote(b, v.str)
	case Array:
		b.WriteByte('[')
		for i := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			v.items[i].writeTo(b)
		}
		b.WriteByte(']')
	case Object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			pyQuote(b, k)
			b.WriteByte(':')
			v.items[i].writeTo(b)
		}
		b.WriteByte('}')
	}
}

// pyIntText normalises an integer literal as Python's int() would print it.
func pyIntText(s string) string {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	if digits == "" {
		return "0"
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// FloatRepr is Python's repr(float): the shortest round-trip digits, in
// fixed notation for exponents from -4 to 15, else scientific with a signed,
// at least two-digit exponent; integral values keep ".0".
func FloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	digits := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(digits, "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if f < 0 {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return sign + mant + "e" + es + padLeft(strconv.Itoa(exp), 2)
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return sign + s
}

func padLeft(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// pyQuote writes s as a JSON string the way json.dumps(ensure_ascii=False)
// does. A lone surrogate, which Python would then fail to encode (the
// callers check Encodable first), is written as its \uXXXX escape so that
// the output stays JSON.
func pyQuote(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i, r := range s {
		if r == utf8.RuneError && surrogateAt(s, i) {
			b.WriteString(`\u`)
			for _, shift := range []uint{12, 8, 4, 0} {
				b.WriteByte(hexDigits[(0xd000|rune(s[i+1]&0x3f)<<6|rune(s[i+2]&0x3f))>>shift&0xf])
			}
			continue
		}
		if r == utf8.RuneError && i > 0 && (surrogateAt(s, i-1) || i > 1 && surrogateAt(s, i-2)) {
			continue // the rest of a surrogate's bytes
		}
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[r>>4])
				b.WriteByte(hexDigits[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

const hexDigits = "0123456789abcdef"
