package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

type journalEntry struct {
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
	// The request reached its scenario's rules and none answered it; the
	// closest rules, with what differed.
	Unmatched  bool                 `json:"unmatched,omitempty"`
	NearMisses []scenarios.NearMiss `json:"near_misses,omitempty"`
	// The response as msgmock wrote it: the headers it set (net/http adds
	// Date, and Content-Length or chunked framing) and the body.
	Response journalResponse `json:"response"`
}

type journalResponse struct {
	Headers          map[string]string `json:"headers"`
	Body             any               `json:"body"`
	BodyTruncated    bool              `json:"body_truncated,omitempty"`
	HeadersTruncated bool              `json:"headers_truncated,omitempty"`
}

func journalEntryOf(e *state.JournalEntry) journalEntry {
	return journalEntry{
		ID: journalID(e.Seq), At: e.At.Format(time.RFC3339Nano),
		Method: e.Method, Path: e.Path, Query: e.Query, Headers: wireHeaders(e.Headers), Body: wireBody(e.Body),
		BodyTruncated: e.BodyTruncated, HeadersTruncated: e.HeaderTruncated,
		Status: e.Status, Scenario: e.Scenario, Rule: e.Rule,
		DurationMS: float64(e.Duration.Microseconds()) / 1000,
		Unmatched:  e.Unmatched, NearMisses: e.NearMisses,
		Response: journalResponse{
			Headers: wireHeaders(e.RespHeaders), Body: wireBody(e.RespBody),
			BodyTruncated: e.RespBodyTruncated, HeadersTruncated: e.RespHeaderTruncated,
		},
	}
}

func journalID(seq uint64) string { return state.JournalID(seq) }

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

type requestList struct {
	Requests []journalEntry `json:"requests"`
}

// Requests serves GET /__mock/requests[?path=…][&after=req_…][&limit=N]:
// the session's journal, oldest first.
func (a *API) Requests(x *wire.Exchange, r *http.Request) *wire.Problem {
	q := r.URL.Query()
	limit, after, p := pageOf(q, 0, 0)
	if p != nil {
		return p
	}
	path := q.Get("path")
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	var picked []*state.JournalEntry
	for _, e := range tx.Session().Journal() {
		if e.Seq > after && (path == "" || e.Path == path) {
			picked = append(picked, e)
		}
	}
	tx.End()
	if limit > 0 && len(picked) > limit {
		picked = picked[len(picked)-limit:]
	}
	out := requestList{Requests: make([]journalEntry, len(picked))}
	for i, e := range picked {
		out.Requests[i] = journalEntryOf(e)
	}
	wire.WriteJSON(x, http.StatusOK, out)
	return nil
}

// ClearRequests serves DELETE /__mock/requests.
func (a *API) ClearRequests(x *wire.Exchange, r *http.Request) *wire.Problem {
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	tx.Session().ClearJournal()
	tx.End()
	x.WriteHeader(http.StatusNoContent)
	return nil
}

// pageOf reads a journal listing's limit (def when absent, at most max
// unless max is 0) and after (a request id) from its query.
func pageOf(q url.Values, def, max int) (limit int, after uint64, _ *wire.Problem) {
	limit = def
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case max > 0 && (err != nil || n < 1 || n > max):
			return 0, 0, problem(http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(max)+"; got "+strconv.Quote(v))
		case err != nil || n < 1:
			return 0, 0, problem(http.StatusBadRequest, "limit must be a positive whole number")
		}
		limit = n
	}
	if v := q.Get("after"); v != "" {
		n, ok := parseJournalID(v)
		if !ok {
			return 0, 0, problem(http.StatusBadRequest, "after must be a request id such as req_000012")
		}
		after = n
	}
	return limit, after, nil
}
