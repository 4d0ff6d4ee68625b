package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/scenarios"
)

// journalBodyLimit bounds the request body a journal entry keeps, so that
// the journal's memory stays bounded whatever clients send.
const journalBodyLimit = 16 << 10

// JournalEntry is one API request as GET /__mock/requests lists it.
type JournalEntry struct {
	seq      uint64
	at       time.Time
	method   string
	path     string
	query    string
	header   http.Header // the request's own map: never mutated after the request
	body     []byte
	status   int
	scenario string
	rule     string
	duration time.Duration
}

// record appends the request to its session's journal.
func (s *Server) record(r *http.Request, ex *exchange, set *scenarios.Set, elapsed time.Duration) {
	body := ex.body
	if len(body) > journalBodyLimit {
		body = append([]byte(nil), body[:journalBodyLimit]...)
	}
	e := &JournalEntry{
		at: s.clock.Now(), method: r.Method, path: r.URL.Path, query: r.URL.RawQuery,
		header: r.Header, body: body, status: finalStatus(r, ex),
		scenario: ex.scenario, rule: ex.rule, duration: elapsed,
	}
	sess := s.session(r, set)
	limit := set.Settings.Retention.Journal
	sess.mu.Lock()
	sess.journalSeq++
	e.seq = sess.journalSeq
	sess.journal = dropOldest(append(sess.journal, e), limit, nil)
	sess.mu.Unlock()
}

type wireJournalEntry struct {
	ID         string            `json:"id"`
	At         string            `json:"at"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       any               `json:"body"`
	Status     int               `json:"status"`
	Scenario   string            `json:"scenario"`
	Rule       string            `json:"rule"`
	DurationMS float64           `json:"duration_ms"`
}

func (e *JournalEntry) wire() wireJournalEntry {
	headers := make(map[string]string, len(e.header))
	for k, vs := range e.header {
		headers[k] = strings.Join(vs, ", ")
	}
	var body any
	switch {
	case len(e.body) == 0:
		body = nil
	case json.Valid(e.body):
		body = json.RawMessage(e.body)
	case utf8.Valid(e.body):
		body = string(e.body)
	default:
		body = strings.ToValidUTF8(string(e.body), "\uFFFD")
	}
	return wireJournalEntry{
		ID: fmt.Sprintf("req_%06d", e.seq), At: e.at.Format(time.RFC3339Nano),
		Method: e.method, Path: e.path, Query: e.query, Headers: headers, Body: body,
		Status: e.status, Scenario: e.scenario, Rule: e.rule,
		DurationMS: float64(e.duration.Microseconds()) / 1000,
	}
}

// statusClientClosed is what the journal and log show for a request whose
// client hung up before any answer (nginx's 499); a connection dropped on
// purpose by a fault shows 0.
const statusClientClosed = 499

func finalStatus(r *http.Request, ex *exchange) int {
	switch {
	case ex.status != 0:
		return ex.status
	case ex.hijacked:
		return 0
	case r.Context().Err() != nil:
		return statusClientClosed
	}
	return http.StatusOK
}
