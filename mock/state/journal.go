package state

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/scenarios"
)

// What one journal entry keeps of a request, so that the journal's memory
// stays bounded whatever clients send: the body up to JournalBodyLimit, and
// headers up to JournalHeaderLimit in all, each value up to
// JournalHeaderValueLimit. What is cut is marked where it was cut.
const (
	JournalBodyLimit        = 16 << 10
	JournalHeaderLimit      = 8 << 10
	JournalHeaderValueLimit = 1 << 10
)

// journalOverhead is what an entry costs besides its header and body bytes.
const journalOverhead = 320

// headerFieldOverhead is what one kept header field costs besides its bytes.
const headerFieldOverhead = 32

// JournalEntry is one API request as GET /__mock/requests lists it.
// Record caps it; after that it is never changed.
type JournalEntry struct {
	Seq      uint64 // set by Record: 1, 2, … per session
	At       time.Time
	Method   string
	Path     string
	Query    string
	Header   map[string][]string // the request's headers; Record keeps a compact copy (Headers) and drops the map
	Body     []byte
	Status   int
	Scenario string
	Rule     string
	Duration time.Duration

	// NearMisses are, for a request no rule answered (Unmatched), the
	// closest rules, at most MaxNearMisses, closest first.
	NearMisses []scenarios.NearMiss

	Headers         []HeaderField // what the journal kept of Header, at most JournalHeaderLimit bytes
	HeaderTruncated bool          // headers over the limit were cut
	BodyTruncated   bool          // the body was longer than JournalBodyLimit
	// Unmatched: the request reached its scenario's rules and none answered
	// it (it got the default behaviour). Beside the other flags, where it
	// costs no space: an entry is allocated per request.
	Unmatched bool

	// The response, capped the same way: the headers msgmock set (not those
	// net/http adds, such as Date) and the body it wrote. RespBody may be a
	// reused buffer: Record copies it.
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
	captured        bool // beside KeepCredentials: one word for both

	size int64
}

// MaxNearMisses bounds the near misses an entry keeps.
const MaxNearMisses = 3

// JournalID is an entry's id as the admin API shows it: req_000012.
// Sequential per session, it draws nothing from the random stream.
func JournalID(seq uint64) string { return fmt.Sprintf("req_%06d", seq) }

// HeaderField is one header line the journal kept.
type HeaderField struct{ Name, Value string }

// capture copies the headers into one compact block each (a header map,
// with a string and a slice per value, would cost several times its bytes),
// copies the bodies, cuts what is over the limits, and sizes the entry.
//
// Unless KeepCredentials is set, credentials are masked before anything is
// kept: the fingerprint is that of the whole value, even one the limits cut.
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
	if len(e.Body) > JournalBodyLimit {
		e.Body = append([]byte(nil), e.Body[:JournalBodyLimit]...)
		e.BodyTruncated = true
	} else if cap(e.Body) > 2*len(e.Body)+64 {
		e.Body = append([]byte(nil), e.Body...) // do not pin a larger read buffer
	}
	if len(e.RespBody) > JournalBodyLimit {
		e.RespBody, e.RespBodyTruncated = e.RespBody[:JournalBodyLimit], true
	}
	if len(e.RespBody) > 0 {
		e.RespBody = append([]byte(nil), e.RespBody...)
	} else {
		e.RespBody = nil
	}
	// Both header sets in one slice and one block of text: two
	// allocations for all of them.
	reqFields, n, reqCut := pickHeaders(e.Header, nil, 0, mask)
	fields, rn, respCut := pickHeaders(e.RespHeader, reqFields, n, mask)
	fields = compact(fields, n+rn)
	e.Headers, e.RespHeaders = fields[:len(reqFields):len(reqFields)], fields[len(reqFields):]
	if len(e.RespHeaders) == 0 {
		e.RespHeaders = nil
	}
	e.HeaderTruncated, e.RespHeaderTruncated = reqCut, respCut
	e.Header, e.RespHeader = nil, nil
	e.size = journalOverhead + int64(n+rn+cap(fields)*headerFieldOverhead+cap(e.Body)+cap(e.RespBody)+
		len(e.Method)+len(e.Path)+len(e.Query)+len(e.Scenario)+len(e.Rule)) + nearMissesSize(e.NearMisses)
}

// nearMissesSize estimates what near misses hold: their strings (each
// actual value is capped at scenarios.MaxShown) and a fixed cost per value.
func nearMissesSize(misses []scenarios.NearMiss) int64 {
	var n int64
	for _, m := range misses {
		n += 64 + int64(len(m.Scenario)+len(m.Rule))
		for _, d := range m.Differences {
			n += 96 + int64(len(d.Field))
			for _, v := range []any{d.Expected, d.Actual} {
				if s, ok := v.(string); ok {
					n += int64(len(s))
				} else if v != nil {
					n += 64 + scenarios.MaxShown // a matcher's {op: value}: its value is from the fixtures, bounded by them
				}
			}
		}
	}
	return n
}

// pickHeaders appends to fields what the journal keeps of h: up to
// JournalHeaderLimit bytes (n counts from used), each value cut at
// JournalHeaderValueLimit, credentials masked first when mask is set. The
// fields still point into h (or a masked copy); compact copies them. One
// pass over the map: its order changes between passes.
func pickHeaders(h map[string][]string, fields []HeaderField, used int, mask bool) (_ []HeaderField, n int, truncated bool) {
	if len(h) == 0 {
		return fields, 0, false
	}
	if fields == nil {
		fields = make([]HeaderField, 0, 2*len(h)+4)
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

// compact copies the fields' text into one block of size bytes, so that
// the entry pins no request or response header map.
func compact(fields []HeaderField, size int) []HeaderField {
	if len(fields) == 0 {
		return fields
	}
	var data strings.Builder
	data.Grow(size)
	for _, f := range fields {
		data.WriteString(f.Name)
		data.WriteString(f.Value)
	}
	block := data.String()
	for i, f := range fields {
		fields[i] = HeaderField{Name: block[:len(f.Name)], Value: block[len(f.Name) : len(f.Name)+len(f.Value)]}
		block = block[len(f.Name)+len(f.Value):]
	}
	return fields
}
