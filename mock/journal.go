package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
		RespHeader: ex.ResponseWriter.Header(), RespBody: ex.resp, RespBodyTruncated: ex.respMore,
	}
	e.Capture() // the copying, before the session is locked
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
	// The response as msgmock wrote it: the headers it set (net/http adds
	// Date, and Content-Length or chunked framing) and the body.
	Response wireJournalResponse `json:"response"`
}

type wireJournalResponse struct {
	Headers          map[string]string `json:"headers"`
	Body             any               `json:"body"`
	BodyTruncated    bool              `json:"body_truncated,omitempty"`
	HeadersTruncated bool              `json:"headers_truncated,omitempty"`
}

func wireJournal(e *state.JournalEntry) wireJournalEntry {
	return wireJournalEntry{
		ID: journalID(e.Seq), At: e.At.Format(time.RFC3339Nano),
		Method: e.Method, Path: e.Path, Query: e.Query, Headers: wireHeaders(e.Headers), Body: wireBody(e.Body),
		BodyTruncated: e.BodyTruncated, HeadersTruncated: e.HeaderTruncated,
		Status: e.Status, Scenario: e.Scenario, Rule: e.Rule,
		DurationMS: float64(e.Duration.Microseconds()) / 1000,
		Response: wireJournalResponse{
			Headers: wireHeaders(e.RespHeaders), Body: wireBody(e.RespBody),
			BodyTruncated: e.RespBodyTruncated, HeadersTruncated: e.RespHeaderTruncated,
		},
	}
}

func journalID(seq uint64) string { return fmt.Sprintf("req_%06d", seq) }

// parseJournalID reads an id journalID wrote.
func parseJournalID(id string) (uint64, bool) {
	digits, ok := strings.CutPrefix(id, "req_")
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, ok && err == nil
}

// wireHeaders joins repeated fields with ", " as HTTP allows.
func wireHeaders(fields []state.HeaderField) map[string]string {
	headers := make(map[string]string, len(fields))
	for _, f := range fields {
		if prev, ok := headers[f.Name]; ok {
			headers[f.Name] = prev + ", " + f.Value
		} else {
			headers[f.Name] = f.Value
		}
	}
	return headers
}

// wireBody shows a body as JSON when it is JSON (a truncated body is not,
// and shows as text), else as text.
func wireBody(b []byte) any {
	switch {
	case len(b) == 0:
		return nil
	case json.Valid(b):
		return json.RawMessage(b)
	case utf8.Valid(b):
		return string(b)
	default:
		return strings.ToValidUTF8(string(b), "\uFFFD")
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
