package state

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/scenarios"
)

// What one journal entry keeps of a request, so that the journal's memory
// stays bounded whatever clients send: the path and the query up to
// JournalURLLimit each (a 900 KB path once cost a verification's regexes
// seconds per entry), the body up to JournalBodyLimit, and
// headers up to JournalHeaderLimit in all, each value up to
// JournalHeaderValueLimit. What is cut is marked where it was cut.
const (
	JournalURLLimit         = 4 << 10 // the path, and the query, each
	JournalBodyLimit        = 16 << 10
	JournalHeaderLimit      = 8 << 10
	JournalHeaderValueLimit = 1 << 10
)

// JournalEntry is one API request as GET /__mock/requests lists it.
// Capture caps it and writes it as a record; Record stores that record in
// the session's arena; the journal's readers get entries decoded from it,
// theirs to keep. Header and RespHeader are what a request gives Capture;
// a decoded entry has Headers and RespHeaders instead.
type JournalEntry struct {
	Seq      uint64 // set by Record: 1, 2, … per session
	At       time.Time
	Method   string
	Path     string
	Query    string
	Header   map[string][]string // the request's headers; Capture keeps a capped copy (Headers)
	Body     []byte
	Status   int
	Scenario string
	Rule     string
	Duration time.Duration

	// NearMisses are, for a request no rule answered (Unmatched), the
	// closest rules, at most MaxNearMisses, closest first. In a decoded
	// entry a difference's value is a string, or its JSON
	// (json.RawMessage) when it was not one, which renders the same.
	NearMisses []scenarios.NearMiss

	Headers         []HeaderField // what the journal kept of Header, at most JournalHeaderLimit bytes
	HeaderTruncated bool          // headers over the limit were cut
	BodyTruncated   bool          // the body was longer than JournalBodyLimit
	// Unmatched: the request reached its scenario's rules and none answered
	// it (it got the default behaviour).
	Unmatched bool

	// The response, capped the same way: the headers msgmock set (not those
	// net/http adds, such as Date) and the body it wrote. RespBody may be a
	// reused buffer: Capture copies it.
	RespHeader          map[string][]string
	RespBody            []byte
	RespHeaders         []HeaderField
	RespHeaderTruncated bool
	RespBodyTruncated   bool // more than JournalBodyLimit bytes were written

	// KeepCredentials keeps credentials as they came (settings
	// security.mask_credentials: false). By default Capture masks them
	// (secret.MaskHeader, secret.MaskQuery): the values of credential
	// headers of the request and the response (Authorization, X-Api-Key,
	// Cookie, Set-Cookie …) and of credential keys of the query
	// (access_token, api_key …), so that the journal, the inspector and
	// everything built from them show a key's scheme, a few characters and
	// its fingerprint, never the key.
	KeepCredentials bool

	captured bool
	rec      *captureBuf // the record Capture wrote, until Record stores it
	size     int64       // the record's bytes in the arena, its header included
}

// MaxNearMisses bounds the near misses an entry keeps.
const MaxNearMisses = 3

// JournalID is an entry's id as the admin API shows it: req_000012.
// Sequential per session, it draws nothing from the random stream.
func JournalID(seq uint64) string { return fmt.Sprintf("req_%06d", seq) }

// HeaderField is one header line the journal kept.
type HeaderField struct{ Name, Value string }

// Capture masks credentials (unless KeepCredentials is set: the
// fingerprint is that of the whole value, even one the limits cut), cuts
// what is over the limits and writes the entry as one record, which Record
// copies into the session's arena: the entry then pins no request or
// response buffer, and no header map.
//
// Capture needs no lock: call it before locking the session, so that the
// copying is not done while other requests of the session wait. Record
// calls it for an entry that has not been captured.
func (e *JournalEntry) Capture() {
	if e.captured {
		return
	}
	e.captured = true
	mask := !e.KeepCredentials
	if mask && e.Query != "" {
		e.Query = secret.MaskQuery(e.Query)
	}
	e.Path, e.Query = cutURLPart(e.Path), cutURLPart(e.Query)
	if len(e.Body) > JournalBodyLimit {
		e.Body, e.BodyTruncated = e.Body[:JournalBodyLimit], true
	}
	if len(e.RespBody) > JournalBodyLimit {
		e.RespBody, e.RespBodyTruncated = e.RespBody[:JournalBodyLimit], true
	}
	cb := captureBufs.Get().(*captureBuf)
	fields, _, reqCut := pickHeaders(e.Header, cb.fields[:0], mask)
	nreq := len(fields)
	fields, _, respCut := pickHeaders(e.RespHeader, fields, mask)
	e.HeaderTruncated, e.RespHeaderTruncated = reqCut, respCut
	cb.rec = e.encode(cb.rec[:0], fields[:nreq], fields[nreq:])
	clear(fields) // pin no header value while pooled
	cb.fields = fields[:0]
	e.rec = cb
	e.size = int64(len(cb.rec)) + recordHeader
	e.Header, e.RespHeader, e.Body, e.RespBody, e.NearMisses = nil, nil, nil, nil, nil
}

// captureBuf is what Capture writes into, pooled: a record is copied into
// the arena and its buffer reused, so that capturing allocates nothing.
type captureBuf struct {
	rec    []byte
	fields []HeaderField
}

var captureBufs = sync.Pool{New: func() any { return &captureBuf{fields: make([]HeaderField, 0, 32)} }}

// releaseRecord returns the captured record's buffer to the pool.
func (e *JournalEntry) releaseRecord() {
	if e.rec != nil && cap(e.rec.rec) <= 2*(JournalBodyLimit+JournalHeaderLimit) {
		captureBufs.Put(e.rec)
	}
	e.rec = nil
}

// cutURLPart cuts a path or a query past JournalURLLimit, at a character
// boundary, and marks the cut as header values are: "…[N bytes]".
func cutURLPart(s string) string {
	if len(s) <= JournalURLLimit {
		return s
	}
	i := JournalURLLimit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…[" + strconv.Itoa(len(s)) + " bytes]"
}

// pickHeaders appends to fields what the journal keeps of h: up to
// JournalHeaderLimit bytes, each value cut at JournalHeaderValueLimit,
// credentials masked first when mask is set. The fields still point into
// h (or a masked copy); the record copies them. One pass over the map: its
// order changes between passes.
func pickHeaders(h map[string][]string, fields []HeaderField, mask bool) (_ []HeaderField, n int, truncated bool) {
	if len(h) == 0 {
		return fields, 0, false
	}
	for k, vs := range h {
		credential := mask && secret.IsCredentialHeader(k)
		for _, v := range vs {
			if credential {
				v = secret.MaskHeader(k, v)
			}
			if len(v) > JournalHeaderValueLimit {
				v = v[:JournalHeaderValueLimit] + "…[" + strconv.Itoa(len(v)) + " bytes]"
				truncated = true
			}
			if n+len(k)+len(v) > JournalHeaderLimit {
				truncated = true
				continue
			}
			fields = append(fields, HeaderField{Name: k, Value: v})
			n += len(k) + len(v)
		}
	}
	return fields, n, truncated
}

// A journal record: Seq (written by Record), At, Duration, Status, flags,
// then uvarints — the lengths of Method, Path, Query, Scenario, Rule; the
// counts of request and response header fields and each field's name and
// value lengths; the near misses (count, and for each its scenario, rule
// and differences — their count plus one, 0 for nil — each a field, then
// kind and length of the expected and the actual value); the lengths of
// the bodies — then the text in that order,
// then the JSON values of the differences and the bodies.
const (
	jHeaderTruncated = 1 << iota
	jBodyTruncated
	jUnmatched
	jRespHeaderTruncated
	jRespBodyTruncated
	jKeepCredentials
	jHasBody
	jHasRespBody
)

const journalFixed = 8 + timeSize + 8 + 4 + 1

// A difference's value in a record: none, a string, or its JSON.
const (
	valueNil = iota
	valueString
	valueJSON
)

// encodeValue is v as a record keeps it. Values other than strings (a
// matcher's {op: value}, a chance) are kept as their JSON, written as the
// journal's readers write it (HTML characters as they are).
func encodeValue(v any) (kind byte, b []byte) {
	switch v := v.(type) {
	case nil:
		return valueNil, nil
	case string:
		return valueString, []byte(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return valueString, []byte(fmt.Sprint(v))
	}
	return valueJSON, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// encode appends e's record to b.
func (e *JournalEntry) encode(b []byte, req, resp []HeaderField) []byte {
	var flags byte
	for _, f := range []struct {
		on  bool
		bit byte
	}{{e.HeaderTruncated, jHeaderTruncated}, {e.BodyTruncated, jBodyTruncated}, {e.Unmatched, jUnmatched},
		{e.RespHeaderTruncated, jRespHeaderTruncated}, {e.RespBodyTruncated, jRespBodyTruncated},
		{e.KeepCredentials, jKeepCredentials}, {e.Body != nil, jHasBody}, {len(e.RespBody) > 0, jHasRespBody}} {
		if f.on {
			flags |= f.bit
		}
	}
	var fixed [journalFixed]byte
	binary.LittleEndian.PutUint64(fixed[0:], e.Seq)
	putTime(fixed[8:], e.At)
	binary.LittleEndian.PutUint64(fixed[8+timeSize:], uint64(e.Duration))
	binary.LittleEndian.PutUint32(fixed[16+timeSize:], uint32(int32(e.Status)))
	fixed[journalFixed-1] = flags
	b = append(b, fixed[:]...)

	type value struct {
		kind byte
		b    []byte
	}
	var values []value // of the near misses, in order
	for _, m := range e.NearMisses {
		for _, d := range m.Differences {
			for _, v := range []any{d.Expected, d.Actual} {
				k, vb := encodeValue(v)
				values = append(values, value{k, vb})
			}
		}
	}
	u := func(x int) { b = binary.AppendUvarint(b, uint64(x)) }
	for _, s := range []string{e.Method, e.Path, e.Query, e.Scenario, e.Rule} {
		u(len(s))
	}
	for _, fields := range [][]HeaderField{req, resp} {
		u(len(fields))
		for _, f := range fields {
			u(len(f.Name))
			u(len(f.Value))
		}
	}
	u(len(e.NearMisses))
	vi := 0
	for _, m := range e.NearMisses {
		u(len(m.Scenario))
		u(len(m.Rule))
		if m.Differences == nil {
			u(0)
		} else {
			u(len(m.Differences) + 1)
		}
		for _, d := range m.Differences {
			u(len(d.Field))
			for range 2 {
				b = append(b, values[vi].kind)
				u(len(values[vi].b))
				vi++
			}
		}
	}
	u(len(e.Body))
	u(len(e.RespBody))

	for _, s := range []string{e.Method, e.Path, e.Query, e.Scenario, e.Rule} {
		b = append(b, s...)
	}
	for _, f := range req {
		b = append(append(b, f.Name...), f.Value...)
	}
	for _, f := range resp {
		b = append(append(b, f.Name...), f.Value...)
	}
	vi = 0
	for _, m := range e.NearMisses {
		b = append(append(b, m.Scenario...), m.Rule...)
		for _, d := range m.Differences {
			b = append(b, d.Field...)
			for range 2 {
				if values[vi].kind == valueString {
					b = append(b, values[vi].b...)
				}
				vi++
			}
		}
	}
	for _, v := range values {
		if v.kind == valueJSON {
			b = append(b, v.b...)
		}
	}
	b = append(b, e.Body...)
	return append(b, e.RespBody...)
}

// journalSeq reads a record's Seq.
func journalSeq(rec []byte) uint64 { return binary.LittleEndian.Uint64(rec) }

// journalPath reads a record's Path without decoding the rest.
func journalPath(rec []byte) []byte {
	r := journalReader{rec: rec, i: journalFixed}
	method, path := r.uvarint(), r.uvarint()
	start := journalTextStart(rec) + method
	return rec[start : start+path]
}

// journalTextStart is where a record's text begins.
func journalTextStart(rec []byte) int {
	r := journalReader{rec: rec, i: journalFixed}
	for range 5 {
		r.uvarint()
	}
	for range 2 {
		for n := r.uvarint(); n > 0; n-- {
			r.uvarint()
			r.uvarint()
		}
	}
	for misses := r.uvarint(); misses > 0; misses-- {
		r.uvarint()
		r.uvarint()
		for diffs := max(r.uvarint()-1, 0); diffs > 0; diffs-- {
			r.uvarint()
			for range 2 {
				r.i++
				r.uvarint()
			}
		}
	}
	r.uvarint()
	r.uvarint()
	return r.i
}

type journalReader struct {
	rec []byte
	i   int
}

func (r *journalReader) uvarint() int {
	x, n := binary.Uvarint(r.rec[r.i:])
	r.i += n
	return int(x)
}

// decodeJournal copies a record out as an entry for a reader to keep.
func decodeJournal(rec []byte) *JournalEntry {
	e := &JournalEntry{captured: true, size: int64(len(rec)) + recordHeader}
	e.Seq = journalSeq(rec)
	e.At = getTime(rec[8:])
	e.Duration = time.Duration(binary.LittleEndian.Uint64(rec[8+timeSize:]))
	e.Status = int(int32(binary.LittleEndian.Uint32(rec[16+timeSize:])))
	flags := rec[journalFixed-1]
	e.HeaderTruncated, e.BodyTruncated = flags&jHeaderTruncated != 0, flags&jBodyTruncated != 0
	e.Unmatched, e.KeepCredentials = flags&jUnmatched != 0, flags&jKeepCredentials != 0
	e.RespHeaderTruncated, e.RespBodyTruncated = flags&jRespHeaderTruncated != 0, flags&jRespBodyTruncated != 0

	r := journalReader{rec: rec, i: journalFixed}
	var strs [5]int
	for k := range strs {
		strs[k] = r.uvarint()
	}
	var nfields [2]int
	var fieldLens []int // name, value, name, value …
	for k := range nfields {
		nfields[k] = r.uvarint()
		for range nfields[k] {
			fieldLens = append(fieldLens, r.uvarint(), r.uvarint())
		}
	}
	type diffLens struct {
		field            int
		expKind, actKind byte
		exp, act         int
	}
	type missLens struct {
		scenario, rule int
		diffs          []diffLens // nil: the near miss had nil differences
	}
	misses := make([]missLens, r.uvarint())
	for k := range misses {
		misses[k].scenario, misses[k].rule = r.uvarint(), r.uvarint()
		if n := r.uvarint(); n > 0 {
			misses[k].diffs = make([]diffLens, n-1)
		}
		for j := range misses[k].diffs {
			d := &misses[k].diffs[j]
			d.field = r.uvarint()
			d.expKind = rec[r.i]
			r.i++
			d.exp = r.uvarint()
			d.actKind = rec[r.i]
			r.i++
			d.act = r.uvarint()
		}
	}
	bodyLen, respLen := r.uvarint(), r.uvarint()

	// The text, then the JSON values and the bodies: two copies.
	textLen := 0
	for _, n := range strs {
		textLen += n
	}
	for _, n := range fieldLens {
		textLen += n
	}
	jsonLen := 0
	for _, m := range misses {
		textLen += m.scenario + m.rule
		for _, d := range m.diffs {
			textLen += d.field
			for _, kv := range [2]struct {
				kind byte
				n    int
			}{{d.expKind, d.exp}, {d.actKind, d.act}} {
				switch kv.kind {
				case valueString:
					textLen += kv.n
				case valueJSON:
					jsonLen += kv.n
				}
			}
		}
	}
	text := string(rec[r.i : r.i+textLen])
	var raw []byte
	if rest := jsonLen + bodyLen + respLen; rest > 0 {
		raw = append([]byte(nil), rec[r.i+textLen:r.i+textLen+rest]...)
	}
	next := func(n int) string {
		s := text[:n]
		text = text[n:]
		return s
	}
	nextRaw := func(n int) []byte {
		b := raw[:n:n]
		raw = raw[n:]
		return b
	}
	e.Method, e.Path, e.Query, e.Scenario, e.Rule = next(strs[0]), next(strs[1]), next(strs[2]), next(strs[3]), next(strs[4])
	if n := nfields[0] + nfields[1]; n > 0 {
		fields := make([]HeaderField, n)
		for k := range fields {
			fields[k] = HeaderField{Name: next(fieldLens[2*k]), Value: next(fieldLens[2*k+1])}
		}
		if nfields[0] > 0 {
			e.Headers = fields[:nfields[0]:nfields[0]]
		}
		if nfields[1] > 0 {
			e.RespHeaders = fields[nfields[0]:]
		}
	}
	if len(misses) > 0 {
		e.NearMisses = make([]scenarios.NearMiss, len(misses))
		type pending struct {
			to *any
			n  int
		}
		var jsonValues []pending
		for k, m := range misses {
			nm := &e.NearMisses[k]
			nm.Scenario, nm.Rule = next(m.scenario), next(m.rule)
			if m.diffs != nil {
				nm.Differences = make([]scenarios.Difference, len(m.diffs))
			}
			for j, d := range m.diffs {
				diff := &nm.Differences[j]
				diff.Field = next(d.field)
				for _, kv := range [2]struct {
					to   *any
					kind byte
					n    int
				}{{&diff.Expected, d.expKind, d.exp}, {&diff.Actual, d.actKind, d.act}} {
					switch kv.kind {
					case valueString:
						*kv.to = next(kv.n)
					case valueJSON:
						jsonValues = append(jsonValues, pending{kv.to, kv.n})
					}
				}
			}
		}
		for _, p := range jsonValues {
			*p.to = json.RawMessage(nextRaw(p.n))
		}
	}
	if flags&jHasBody != 0 {
		e.Body = nextRaw(bodyLen)
		if e.Body == nil {
			e.Body = []byte{}
		}
	}
	if flags&jHasRespBody != 0 {
		e.RespBody = nextRaw(respLen)
	}
	return e
}
