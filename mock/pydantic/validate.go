package pydantic

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Pydantic v2's validation errors as FastAPI renders them (without "url").
// The messages below are Pydantic's own, character for character.

const (
	MsgMissing    = "Field required"
	MsgString     = "Input should be a valid string"
	MsgList       = "Input should be a valid list"
	MsgDict       = "Input should be a valid dictionary"
	MsgModelAttrs = "Input should be a valid dictionary or object to extract fields from"
	MsgBoolParse  = "Input should be a valid boolean, unable to interpret input"
	MsgBoolType   = "Input should be a valid boolean"
	MsgDatetime   = "Input should be a valid datetime"
	MsgIntParse   = "Input should be a valid integer, unable to parse string as an integer"
)

// Error is one item of a 422 detail list. Input is any JSON-encodable value
// (usually a *Value or a query string); Ctx is nil when Pydantic has none.
type Error struct {
	Type  string `json:"type"`
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Input any    `json:"input"`
	Ctx   any    `json:"ctx,omitempty"`
}

type ValidationErrors struct {
	Detail []Error `json:"detail"`
}

func Loc(parts ...any) []any { return parts }

// Validator collects every problem of one request, in model field order.
type Validator struct {
	Errs []Error
}

func (pv *Validator) Add(typ string, l []any, msg string, input any, ctx any) {
	pv.Errs = append(pv.Errs, Error{Type: typ, Loc: l, Msg: msg, Input: input, Ctx: ctx})
}

// Field looks key up in obj; a missing required field is reported with the
// whole object as its input, as Pydantic does.
func (pv *Validator) Field(obj *Value, key string, l []any, required bool) *Value {
	v, ok := obj.Get(key)
	if !ok {
		if required {
			pv.Add("missing", l, MsgMissing, obj, nil)
		}
		return nil
	}
	return v
}

// Str validates a str field (str | None when nullable): no coercion, as
// Pydantic's lax mode has none for strings.
func (pv *Validator) Str(v *Value, l []any, nullable bool) (string, bool) {
	if v.Kind == Null && nullable {
		return "", false
	}
	if v.Kind != String {
		pv.Add("string_type", l, MsgString, v, nil)
		return "", false
	}
	return v.str, true
}

// Boolean applies Pydantic's lax rules: true/false, 0/1, 0.0/1.0, and the
// strings it recognises in any case.
func (pv *Validator) Boolean(v *Value, l []any, nullable bool) (bool, bool) {
	switch v.Kind {
	case Null:
		if nullable {
			return false, false
		}
		pv.Add("bool_type", l, MsgBoolType, v, nil)
	case Bool:
		return v.b, true
	case Int:
		// An int other than 0 and 1 cannot be interpreted; one past i64
		// is a Python big int, which Pydantic does not try at all.
		if _, err := strconv.ParseInt(v.str, 10, 64); err != nil {
			pv.Add("bool_type", l, MsgBoolType, v, nil)
		} else if v.num == 0 || v.num == 1 {
			return v.num == 1, true
		} else {
			pv.Add("bool_parsing", l, MsgBoolParse, v, nil)
		}
	case Float:
		if v.num == 0 || v.num == 1 {
			return v.num == 1, true
		}
		// A whole float is read as an int (and cannot be interpreted); a
		// fraction is not a boolean's type at all.
		if v.num == math.Trunc(v.num) && math.Abs(v.num) < 1<<63 {
			pv.Add("bool_parsing", l, MsgBoolParse, v, nil)
		} else {
			pv.Add("bool_type", l, MsgBoolType, v, nil)
		}
	case String:
		switch strings.ToLower(v.str) {
		case "0", "off", "f", "false", "n", "no":
			return false, true
		case "1", "on", "t", "true", "y", "yes":
			return true, true
		}
		pv.Add("bool_parsing", l, MsgBoolParse, v, nil)
	default:
		pv.Add("bool_type", l, MsgBoolType, v, nil)
	}
	return false, false
}

// Dict validates a dict field (dict | None when nullable).
func (pv *Validator) Dict(v *Value, l []any, nullable bool) bool {
	if v.Kind == Null && nullable {
		return false
	}
	if v.Kind != Object {
		pv.Add("dict_type", l, MsgDict, v, nil)
		return false
	}
	return true
}

// List checks a list whose items are strings (itemKind String) or
// dictionaries (Object), reporting each bad item at its index.
func (pv *Validator) List(v *Value, l []any, itemKind Kind) bool {
	if v.Kind == Null {
		return false
	}
	if v.Kind != Array {
		pv.Add("list_type", l, MsgList, v, nil)
		return false
	}
	ok := true
	for i := range v.items {
		il := append(append([]any(nil), l...), i)
		switch itemKind {
		case String:
			_, good := pv.Str(&v.items[i], il, false)
			ok = ok && good
		case Object:
			ok = pv.Dict(&v.items[i], il, false) && ok
		}
	}
	return ok
}

// Time is a datetime as Pydantic parsed it: naive or with a fixed offset,
// kept so that it serialises back as Pydantic would.
type Time struct {
	t     time.Time
	naive bool
}

// String renders t as Pydantic serialises a datetime: microseconds only when
// non-zero, "Z" for UTC, "+HH:MM" for other offsets, nothing when naive.
func (p Time) String() string {
	var room [40]byte
	return string(p.Append(room[:0]))
}

// Append appends what String returns, without time.Format's layout
// parsing (every Workspace answer renders two timestamps).
func (p Time) Append(b []byte) []byte {
	t := p.t
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = t.AppendFormat(b, "2006-01-02T15:04:05")
	} else {
		hour, min, sec := t.Clock()
		b = appendDigits(b, year, 4)
		b = append(b, '-')
		b = appendDigits(b, int(month), 2)
		b = append(b, '-')
		b = appendDigits(b, day, 2)
		b = append(b, 'T')
		b = appendDigits(b, hour, 2)
		b = append(b, ':')
		b = appendDigits(b, min, 2)
		b = append(b, ':')
		b = appendDigits(b, sec, 2)
	}
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
	}
	if p.naive {
		return b
	}
	_, off := t.Zone()
	if off == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendDigits(b, off/3600, 2)
	b = append(b, ':')
	return appendDigits(b, off%3600/60, 2)
}

// appendDigits appends n (≥ 0) in decimal, zero-padded to width digits
// (more when n needs them), as padLeft(strconv.Itoa(n), width) reads.
func appendDigits(b []byte, n, width int) []byte {
	var d [20]byte
	i := len(d)
	for n >= 10 || width > 1 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	d[i] = byte('0' + n)
	return append(b, d[i:]...)
}

// Instant is the moment t names, in the offset it was given in; a naive
// datetime is read as UTC.
func (p Time) Instant() time.Time { return p.t }

// Naive reports whether the datetime was given without an offset.
func (p Time) Naive() bool { return p.naive }

// TimeOf is the datetime at t (in t's offset), naive or not, as Datetime
// would have parsed it: what a store kept of a Time, to render it again.
func TimeOf(t time.Time, naive bool) Time { return Time{t: t, naive: naive} }

// Timestamp renders an instant in UTC the way Pydantic does.
func Timestamp(t time.Time) string { return Time{t: t.UTC()}.String() }

// Datetime validates a datetime | None field the way pydantic-core does:
// RFC 3339-like text, a date alone (midnight), or a Unix timestamp.
func (pv *Validator) Datetime(v *Value, l []any) (Time, bool) {
	switch v.Kind {
	case Null:
		return Time{}, false
	case Int, Float:
		if t, ok := unixTimestamp(v.num); ok {
			return t, true
		}
		problem := "dates after 9999 are not supported as unix timestamps"
		if v.num < 0 {
			problem = "dates before 0000 are not supported as unix timestamps"
		}
		pv.Add("datetime_parsing", l, "Input should be a valid datetime, "+problem, v, map[string]string{"error": problem})
		return Time{}, false
	case String:
		if t, ok := parseSpeedateTime(v.str); ok {
			if t.t.Year() == 0 { // speedate reads it; Python's datetime cannot hold it
				pv.Add("datetime_parsing", l, "Input should be a valid datetime, year 0 is out of range", v, map[string]string{"error": "year 0 is out of range"})
				return Time{}, false
			}
			return t, true
		}
		if t, ok := unixTimestampText(v.str); ok {
			return t, true
		}
		d, problem := parseSpeedateDate(v.str)
		if problem == "" {
			return Time{t: d, naive: true}, true
		}
		pv.Add("datetime_from_date_parsing", l, "Input should be a valid datetime or date, "+problem, v, map[string]string{"error": problem})
		return Time{}, false
	}
	pv.Add("datetime_type", l, MsgDatetime, v, nil)
	return Time{}, false
}

// unixTimestamp follows speedate: seconds, or milliseconds past 2e10.
func unixTimestamp(f float64) (Time, bool) {
	if math.Abs(f) > 2e10 {
		f /= 1000
	}
	if f > 253402300799 || f < -62135596800 {
		return Time{}, false
	}
	sec := math.Floor(f)
	us := math.Round((f - sec) * 1e6)
	return Time{t: time.Unix(int64(sec), int64(us)*1000).UTC()}, true
}

func unixTimestampText(s string) (Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eEnNiI_xX") {
		return Time{}, false
	}
	return unixTimestamp(f)
}

// parseSpeedateDate checks YYYY-MM-DD as speedate's Date parser does and
// returns its documented error text for the first thing wrong.
func parseSpeedateDate(s string) (time.Time, string) {
	if len(s) < 10 {
		return time.Time{}, "input is too short"
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	year, ok := num(0, 4)
	if !ok {
		return time.Time{}, "invalid character in year"
	}
	if s[4] != '-' {
		return time.Time{}, "invalid date separator, expected `-`"
	}
	month, ok := num(5, 7)
	if !ok {
		return time.Time{}, "invalid character in month"
	}
	if s[7] != '-' {
		return time.Time{}, "invalid date separator, expected `-`"
	}
	day, ok := num(8, 10)
	if !ok {
		return time.Time{}, "invalid character in day"
	}
	if month < 1 || month > 12 {
		return time.Time{}, "month value is outside expected range of 1-12"
	}
	if day < 1 || day > daysIn(year, month) {
		return time.Time{}, "day value is outside expected range"
	}
	if len(s) > 10 {
		return time.Time{}, "unexpected extra characters at the end of the input"
	}
	if year == 0 {
		return time.Time{}, "year 0 is out of range"
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), ""
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseSpeedateTime accepts what speedate's DateTime parser does:
// YYYY-MM-DD, a separator (T, t, _ or space), HH:MM[:SS[.ffffff…]], then
// an optional Z/z or ±HH[:MM] offset.
func parseSpeedateTime(s string) (Time, bool) {
	d, problem := parseSpeedateDate(safePrefix(s, 10))
	if problem == "year 0 is out of range" {
		// speedate reads the date; Python's datetime then refuses year 0,
		// which Datetime reports as such.
		d, problem = time.Date(0, time.Month(d.Month()), d.Day(), 0, 0, 0, 0, time.UTC), ""
		if mo, err := strconv.Atoi(s[5:7]); err == nil {
			day, _ := strconv.Atoi(s[8:10])
			d = time.Date(0, time.Month(mo), day, 0, 0, 0, 0, time.UTC)
		}
	}
	if problem != "" || len(s) < 16 || !strings.ContainsRune("Tt_ ", rune(s[10])) {
		return Time{}, false
	}
	two := func(i int) (int, bool) {
		if i+2 > len(s) || s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
			return 0, false
		}
		return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
	}
	hour, ok1 := two(11)
	minute, ok2 := two(14)
	if !ok1 || !ok2 || s[13] != ':' || hour > 23 || minute > 59 {
		return Time{}, false
	}
	i, sec, nanos := 16, 0, 0
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = two(i + 1); !ok || sec > 59 {
			return Time{}, false
		}
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return Time{}, false
			}
			frac := s[i+1 : j]
			if len(frac) > 6 {
				frac = frac[:6] // microsecond precision, the rest dropped
			}
			us, _ := strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
			nanos, i = us*1000, j
		}
	}
	base := time.Date(d.Year(), d.Month(), d.Day(), hour, minute, sec, nanos, time.UTC)
	if i == len(s) {
		return Time{t: base, naive: true}, true
	}
	if (s[i] == 'Z' || s[i] == 'z') && i+1 == len(s) {
		return Time{t: base}, true
	}
	if s[i] != '+' && s[i] != '-' {
		return Time{}, false
	}
	oh, ok := two(i + 1)
	if !ok {
		return Time{}, false
	}
	j, om := i+3, 0
	if j < len(s) && s[j] == ':' {
		j++
	}
	// An offset has minutes too: +02 alone is refused (extra characters).
	if om, ok = two(j); !ok || om > 59 {
		return Time{}, false
	}
	j += 2
	if j != len(s) || oh > 23 {
		return Time{}, false
	}
	off := oh*3600 + om*60
	if s[i] == '-' {
		off = -off
	}
	zone := time.FixedZone("", off)
	return Time{t: time.Date(base.Year(), base.Month(), base.Day(), hour, minute, sec, nanos, zone)}, true
}

func safePrefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// MsgIntParseSize is Pydantic's message for an integer string past
// Python's 4,300-digit conversion limit.
const MsgIntParseSize = "Unable to parse input string as an integer, exceeded maximum size"

// IntFromString reads s as Pydantic's lax mode reads a string for an int
// field (a query parameter): surrounding whitespace, a sign, single
// underscores between digits and a fraction of zeros (1.0) are accepted.
// It returns the value clamped to ±math.MaxInt64 (Python's int has no
// bound; a caller comparing against ge/le bounds sees the same result),
// and the error type when s is not an int: "int_parsing", or
// "int_parsing_size" past 4,300 digits.
func IntFromString(s string) (int64, string) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if whole, frac, ok := strings.Cut(s, "."); ok {
		if frac == "" || strings.Trim(frac, "0") != "" {
			return 0, "int_parsing"
		}
		s = whole
	}
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '_' && i > 0 && i+1 < len(s) && s[i-1] != '_' && s[i+1] >= '0' && s[i+1] <= '9':
		default:
			return 0, "int_parsing"
		}
	}
	if len(digits) == 0 {
		return 0, "int_parsing"
	}
	if len(digits) > maxIntDigits {
		return 0, "int_parsing_size"
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		n = math.MaxInt64
	}
	if neg {
		n = -n
	}
	return n, ""
}
