package mocktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/scenarios"
)

// Pattern selects requests of the journal as POST /__mock/verify takes
// them: every field given must hold. A value is a string (equals) or a
// Match (Contains, Prefix, Suffix, Regex, IgnoreCase, Absent, Present).
// When takes the keys of a rule's when — text, sender_id, sender_type (or
// role), conversation_id, workspace_id, headers, metadata — read from the
// request as the API read it (text is content.content in the Workspace
// API). An Authorization pattern may give the key as sent: the journal
// masks it, and msgmock compares it masked.
type Pattern struct {
	API      string         `json:"api,omitempty"` // conversations | workspace
	Method   any            `json:"method,omitempty"`
	Path     any            `json:"path,omitempty"`
	Headers  map[string]any `json:"headers,omitempty"`
	Status   int            `json:"status,omitempty"`
	Scenario any            `json:"scenario,omitempty"`
	Rule     any            `json:"rule,omitempty"` // one of the rules that fired; Absent(): none
	When     map[string]any `json:"when,omitempty"`
}

// Match is an operator of a rule's when.
type Match map[string]any

// Contains, Prefix, Suffix and Regex (Go RE2 syntax) match part of a value.
func Contains(s string) Match { return Match{"contains": s} }
func Prefix(s string) Match   { return Match{"prefix": s} }
func Suffix(s string) Match   { return Match{"suffix": s} }
func Regex(s string) Match    { return Match{"regex": s} }

// IgnoreCase is m, or equals s for a string, ignoring case.
func IgnoreCase(m any) Match {
	out := Match{"ignore_case": true}
	switch v := m.(type) {
	case Match:
		for k, x := range v {
			out[k] = x
		}
	default:
		out["equals"] = v
	}
	return out
}

// Absent matches a field, header or metadata key the request did not
// send (or sent empty); Present one it did.
func Absent() Match  { return Match{"absent": true} }
func Present() Match { return Match{"absent": false} }

// Count is how many requests a pattern must match.
type Count map[string]any

// Exactly, AtLeast, AtMost and Never are counts; AtLeast(a).AtMost(b) a range.
func Exactly(n int) Count { return Count{"exactly": n} }
func AtLeast(n int) Count { return Count{"at_least": n} }
func AtMost(n int) Count  { return Count{"at_most": n} }
func Never() Count        { return Count{"never": true} }
func (c Count) AtMost(n int) Count {
	out := Count{"at_most": n}
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Expectation is one check: a pattern and its count, or a sequence of
// patterns that must match requests in that order (others may come
// between).
type Expectation struct {
	Request  *Pattern  `json:"request,omitempty"`
	Count    Count     `json:"count,omitempty"`
	Sequence []Pattern `json:"sequence,omitempty"`
}

// Verification is POST /__mock/verify's answer.
type Verification struct {
	OK       bool      `json:"ok"`
	Matched  int       `json:"matched"`
	IDs      []string  `json:"ids"`
	Entries  []Request `json:"entries"` // the first 100 matches
	Failures []struct {
		Expectation int              `json:"expectation"`
		Expected    string           `json:"expected"`
		Found       string           `json:"found"`
		IDs         []string         `json:"ids"`
		Closest     []ClosestRequest `json:"closest"`
	} `json:"failures"`
	// Report is the failures as msgmock writes them for a person: what was
	// expected, what was found, the closest requests with each field that
	// differed.
	Report string `json:"report"`
}

// ClosestRequest is a request a failed expectation came close to.
type ClosestRequest struct {
	ID          string       `json:"id"`
	Differences []Difference `json:"differences"`
}

// Difference is a field that differed: what the pattern or rule expected
// (as written: a value, or an operator such as {"contains": "…"}) and
// what the request had (nil: nothing) — msgmock's own type.
type Difference = scenarios.Difference

// NearMiss is a rule that did not answer a request no rule answered, with
// what differed — msgmock's own type.
type NearMiss = scenarios.NearMiss

// Check sends the expectations to POST /__mock/verify, for this session:
// a verification that does not hold is no error (OK is false, Report says
// why); a pattern msgmock refuses is.
func (s *Server) Check(exps ...Expectation) (*Verification, error) {
	var body any = map[string][]Expectation{"expect": exps}
	if len(exps) == 1 {
		body = exps[0]
	}
	var v Verification
	status, data, err := s.call(http.MethodPost, "/__mock/verify", body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK && status != http.StatusUnprocessableEntity {
		var refused struct {
			Error  string   `json:"error"`
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(data, &refused) == nil && refused.Error != "" {
			return nil, fmt.Errorf("mocktest: POST /__mock/verify: %d %s\n%s", status, refused.Error, strings.Join(refused.Errors, "\n"))
		}
		return nil, fmt.Errorf("mocktest: POST /__mock/verify: %d %s", status, data)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("mocktest: POST /__mock/verify: %w", err)
	}
	return &v, nil
}

// Verify fails t, with msgmock's report, unless p matches count requests
// of this session's journal; it returns the requests that matched.
func (s *Server) Verify(t testing.TB, p Pattern, count Count) []Request {
	t.Helper()
	return s.verify(t, Expectation{Request: &p, Count: count})
}

// VerifyInOrder fails t, with msgmock's report, unless the patterns match
// requests of this session's journal in that order (others may come
// between); it returns the requests that matched, one per pattern.
func (s *Server) VerifyInOrder(t testing.TB, steps ...Pattern) []Request {
	t.Helper()
	if len(steps) == 0 {
		t.Fatal("mocktest: VerifyInOrder needs at least one pattern")
	}
	return s.verify(t, Expectation{Sequence: steps})
}

func (s *Server) verify(t testing.TB, e Expectation) []Request {
	t.Helper()
	v, err := s.Check(e)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Error(report(v.Report))
	}
	return v.Entries
}

// UnmatchedRequests are this session's requests that reached their
// scenario's rules and that none answered, each with its near misses;
// path, if given, keeps only those to that path.
func (s *Server) UnmatchedRequests(path string) ([]Request, string, error) {
	target := "/__mock/unmatched"
	if path != "" {
		target += "?path=" + url.QueryEscape(path)
	}
	var out struct {
		Requests []Request `json:"requests"`
		Report   string    `json:"report"`
	}
	if err := s.admin(http.MethodGet, target, nil, &out); err != nil {
		return nil, "", err
	}
	return out.Requests, out.Report, nil
}

// Unmatched fails t, with each request's near misses, when a request of
// this session (to path, if given) matched no rule of its scenario; it
// returns those requests. With the default scenario most requests match
// none: give the path the test scripted rules for.
func (s *Server) Unmatched(t testing.TB, path string) []Request {
	t.Helper()
	reqs, text, err := s.UnmatchedRequests(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) > 0 {
		t.Error(report(text))
	}
	return reqs
}

// Usage is how a scenario's rules were used in this session.
type Usage struct {
	Scenario string `json:"scenario"`
	State    string `json:"state"`
	AllUsed  bool   `json:"all_used"`
	Rules    []struct {
		Name       string `json:"name"`
		Hits       int    `json:"hits"`
		Times      int    `json:"times"`
		Left       int    `json:"left"`
		NeverFired bool   `json:"never_fired"`
	} `json:"rules"`
	NeverFired []string `json:"never_fired"`
	TimesLeft  []string `json:"times_left"`
	Report     string   `json:"report"`
}

// ScenarioUsage reads GET /__mock/scenarios/{name}/usage for this session.
func (s *Server) ScenarioUsage(name string) (*Usage, error) {
	var u Usage
	if err := s.admin(http.MethodGet, "/__mock/scenarios/"+url.PathEscape(name)+"/usage", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// AssertAllUsed fails t, with msgmock's report, unless every rule of the
// scenario fired in this session, each as often as its times: "every stub
// I scripted was used".
func (s *Server) AssertAllUsed(t testing.TB, scenario string) {
	t.Helper()
	u, err := s.ScenarioUsage(scenario)
	if err != nil {
		t.Fatal(err)
	}
	if !u.AllUsed {
		t.Error(report(u.Report))
	}
}

// call is admin for answers that are not errors below 300: the status and
// body as they came.
func (s *Server) call(method, path string, in any) (int, []byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.session != "" {
		req.Header.Set("X-Mock-Session", s.session)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("mocktest: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// report is msgmock's report as t prints it: its lines, without the
// final newline t adds again.
func report(s string) string { return strings.TrimSuffix(s, "\n") }
