package state

import (
	"strconv"
	"strings"
	"time"
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

	Headers         []HeaderField // what the journal kept of Header, at most JournalHeaderLimit bytes
	HeaderTruncated bool          // headers over the limit were cut
	BodyTruncated   bool          // the body was longer than JournalBodyLimit

	size int64
}

// HeaderField is one header line the journal kept.
type HeaderField struct{ Name, Value string }

// capture copies the headers into one compact block (the request's map,
// with a string and a slice per value, would cost several times its bytes),
// cuts what is over the limits, and sizes the entry.
func (e *JournalEntry) capture() {
	if len(e.Body) > JournalBodyLimit {
		e.Body = append([]byte(nil), e.Body[:JournalBodyLimit]...)
		e.BodyTruncated = true
	} else if cap(e.Body) > 2*len(e.Body)+64 {
		e.Body = append([]byte(nil), e.Body...) // do not pin a larger read buffer
	}
	// One pass over the map (its order changes between passes): pick the
	// fields, then copy them into one block.
	fields := make([]HeaderField, 0, len(e.Header))
	n := 0
	for k, vs := range e.Header {
		for _, v := range vs {
			if len(v) > JournalHeaderValueLimit {
				v = v[:JournalHeaderValueLimit] + "…[" + strconv.Itoa(len(v)) + " bytes]"
				e.HeaderTruncated = true
			}
			if n+len(k)+len(v) > JournalHeaderLimit {
				e.HeaderTruncated = true
				continue
			}
			fields = append(fields, HeaderField{Name: k, Value: v})
			n += len(k) + len(v)
		}
	}
	var data strings.Builder
	data.Grow(n)
	for _, f := range fields {
		data.WriteString(f.Name)
		data.WriteString(f.Value)
	}
	block := data.String()
	for i, f := range fields {
		fields[i] = HeaderField{Name: block[:len(f.Name)], Value: block[len(f.Name) : len(f.Name)+len(f.Value)]}
		block = block[len(f.Name)+len(f.Value):]
	}
	e.Headers = fields
	e.Header = nil
	e.size = journalOverhead + int64(n+cap(fields)*headerFieldOverhead+cap(e.Body)+
		len(e.Method)+len(e.Path)+len(e.Query)+len(e.Scenario)+len(e.Rule))
}
