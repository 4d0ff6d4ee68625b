package conversations

import (
	"encoding/json"
)

// jsonKind is the JSON type of a raw value, read from its first byte.
type jsonKind byte

const (
	kindAbsent jsonKind = iota
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func kindOf(raw []byte) jsonKind {
	if len(raw) == 0 {
		return kindAbsent
	}
	switch raw[0] {
	case 'n':
		return kindNull
	case '"':
		return kindString
	case 't', 'f':
		return kindBool
	case '{':
		return kindObject
	case '[':
		return kindArray
	}
	return kindNumber
}

// jsonString decodes a raw JSON string; raw must be one (kindString).
func jsonString(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			var s string
			_ = json.Unmarshal(raw, &s) // handles escapes and invalid UTF-8 as encoding/json does
			return s
		}
	}
	return string(inner)
}

// jsonKey decodes a raw JSON string into bytes, without a copy when it
// holds no escapes (the common case for an object's keys).
func jsonKey(raw []byte) []byte {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			return []byte(jsonString(raw))
		}
	}
	return inner
}

// objectMembers calls fn for each member of body, which must be exactly one
// JSON object (whitespace around it allowed). Keys match case-sensitively and
// a repeated key is reported again, so the caller's last assignment wins, as
// in Python's json module. It reports false when body is not one object —
// by encoding/json's rules (json.Valid), checked in the same pass: fn may
// have been called for members before a later byte proved body invalid.
// key is only valid during the call (compare it as string(key): no copy).
func objectMembers(body []byte, fn func(key, val []byte)) bool {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	for {
		kEnd, ok := validString(body, i)
		if !ok {
			return false
		}
		key := jsonKey(body[i:kEnd])
		i = skipSpace(body, kEnd)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		i = skipSpace(body, i+1)
		vEnd, ok := validValue(body, i, 2)
		if !ok {
			return false
		}
		fn(key, body[i:vEnd])
		i = skipSpace(body, vEnd)
		if i >= len(body) {
			return false
		}
		switch body[i] {
		case '}':
			return skipSpace(body, i+1) == len(body)
		case ',':
			i = skipSpace(body, i+1)
		default:
			return false
		}
	}
}

// maxDepth is encoding/json's nesting limit: a value nested deeper is
// not valid JSON to json.Valid.
const maxDepth = 10000

// validValue returns the end of the JSON value at i, which lies at nesting
// depth (the top-level object being 1), and whether it is one by
// encoding/json's rules.
func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{' || c == '[':
		if depth > maxDepth {
			return i, false
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, true
		}
		for {
			if c == '{' {
				end, ok := validString(b, i)
				if !ok {
					return end, false
				}
				i = skipSpace(b, end)
				if i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = skipSpace(b, i+1)
			}
			end, ok := validValue(b, i, depth+1)
			if !ok {
				return end, false
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return i, false
			}
			if b[i] == closing {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return validNumber(b, i)
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	}
	return i, false
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// validString returns the end of the JSON string whose opening quote is
// at i: no control character, only JSON's escapes (bytes that are not
// UTF-8 pass, as json.Valid lets them).
func validString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// validNumber returns the end of the JSON number at i:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
