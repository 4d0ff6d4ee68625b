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
// in Python's json module. It reports false when body is not one object.
// key is only valid during the call (compare it as string(key): no copy).
func objectMembers(body []byte, fn func(key, val []byte)) bool {
	if !json.Valid(body) {
		return false
	}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if body[i] == '}' {
		return true
	}
	for {
		kEnd := skipValue(body, i)
		key := jsonKey(body[i:kEnd])
		i = skipSpace(body, kEnd)
		i = skipSpace(body, i+1) // the colon
		vEnd := skipValue(body, i)
		fn(key, body[i:vEnd])
		i = skipSpace(body, vEnd)
		if body[i] == '}' {
			return true
		}
		i = skipSpace(body, i+1) // the comma
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the end of the JSON string whose opening quote is at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
