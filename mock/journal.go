package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// record appends the request to its session's journal, which caps what it
// keeps of headers and body (state.JournalBodyLimit, JournalHeaderLimit).
func (s *Server) record(r *http.Request, ex *exchange, set *scenarios.Set, elapsed time.Duration) {
	e := &state.JournalEntry{
		At: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header, Body: ex.body, Status: finalStatus(r, ex),
		Scenario: ex.scenario, Rule: ex.rule, Duration: elapsed,
	}
	sess := s.lockSession(r, set)
	sess.Record(e)
	sess.Unlock()
}

type wireJournalEntry struct {
	ID      string            `json:"id"`
	At      string            `json:"at"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
	// Set when the journal kept only part of the request (see README).
	BodyTruncated    bool    `json:"body_truncated,omitempty"`
	HeadersTruncated bool    `json:"headers_truncated,omitempty"`
	Status           int     `json:"status"`
	Scenario         string  `json:"scenario"`
	Rule             string  `json:"rule"`
	DurationMS       float64 `json:"duration_ms"`
}

func wireJournal(e *state.JournalEntry) wireJournalEntry {
	headers := make(map[string]string, len(e.Headers))
	for _, f := range e.Headers {
		if prev, ok := headers[f.Name]; ok {
			headers[f.Name] = prev + ", " + f.Value
		} else {
			headers[f.Name] = f.Value
		}
	}
	var body any
	switch {
	case len(e.Body) == 0:
		body = nil
	case json.Valid(e.Body):
		body = json.RawMessage(e.Body)
	case utf8.Valid(e.Body):
		body = string(e.Body)
	default:
		body = strings.ToValidUTF8(string(e.Body), "\uFFFD")
	}
	return wireJournalEntry{
		ID: fmt.Sprintf("req_%06d", e.Seq), At: e.At.Format(time.RFC3339Nano),
		Method: e.Method, Path: e.Path, Query: e.Query, Headers: headers, Body: body,
		BodyTruncated: e.BodyTruncated, HeadersTruncated: e.HeaderTruncated,
		Status: e.Status, Scenario: e.Scenario, Rule: e.Rule,
		DurationMS: float64(e.Duration.Microseconds()) / 1000,
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
