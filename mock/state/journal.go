package state

import (
	"strconv"
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
const journalOverhead = 256

// JournalEntry is one API request as GET /__mock/requests lists it.
// Record caps it; after that it is never changed.
type JournalEntry struct {
	Seq      uint64 // set by Record: 1, 2, … per session
	At       time.Time
	Method   string
	Path     string
	Query    string
	Header   map[string][]string // canonical names; may be the request's own map when it was small
	Body     []byte
	Status   int
	Scenario string
	Rule     string
	Duration time.Duration

	HeaderTruncated bool // headers over the limit were cut
	BodyTruncated   bool // the body was longer than JournalBodyLimit

	size int64
}

func (e *JournalEntry) capture() {
	if len(e.Body) > JournalBodyLimit {
		e.Body = append([]byte(nil), e.Body[:JournalBodyLimit]...)
		e.BodyTruncated = true
	}
	n := 0
	for k, vs := range e.Header {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	if n > JournalHeaderLimit {
		e.Header, n = capHeader(e.Header)
		e.HeaderTruncated = true
	}
	e.size = journalOverhead + int64(n+len(e.Body)+len(e.Method)+len(e.Path)+len(e.Query)+len(e.Scenario)+len(e.Rule))
}

// capHeader copies h keeping at most JournalHeaderLimit bytes, each value
// cut to JournalHeaderValueLimit; it returns the copy and its size.
func capHeader(h map[string][]string) (map[string][]string, int) {
	out := make(map[string][]string, min(len(h), 64))
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			if len(v) > JournalHeaderValueLimit {
				v = v[:JournalHeaderValueLimit] + "…[" + strconv.Itoa(len(v)) + " bytes]"
			}
			if n+len(k)+len(v) > JournalHeaderLimit {
				continue
			}
			out[k] = append(out[k], v)
			n += len(k) + len(v)
		}
	}
	return out, n
}
