package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/msgmock/msgmock/mock/expect"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// What a CI suite asks of a session at its end: POST /__mock/verify (did
// the code send what it should), GET /__mock/unmatched (what no rule
// answered), GET /__mock/scenarios/{name}/usage (what was scripted and
// never used). Each answer carries "report", the text every client prints
// as it is (package expect).

// maxVerifyEntries bounds the entries a verification's answer shows in
// full (its ids list them all), and the ids each failure lists (its
// matched counts them all).
const maxVerifyEntries = 100

// verifyBudget bounds the time one verification works: past it, it stops
// and answers 503 (see the package documentation).
const verifyBudget = 5 * time.Second

// errOverBudget is the cause of a verification's context past verifyBudget.
var errOverBudget = errors.New("verification over its time budget")

type verifyAnswer struct {
	OK               bool            `json:"ok"`
	Matched          int             `json:"matched"`
	IDs              []string        `json:"ids"`
	Entries          []journalEntry  `json:"entries"`
	EntriesTruncated bool            `json:"entries_truncated,omitempty"`
	Failures         []verifyFailure `json:"failures,omitempty"`
	// Closest is the first failure's, for a client that checks one
	// expectation and reads it at the top.
	Closest []closest `json:"closest,omitempty"`
	Report  string    `json:"report,omitempty"`
}

type verifyFailure struct {
	Expectation  int               `json:"expectation"`
	Session      string            `json:"session"`
	Request      json.RawMessage   `json:"request,omitempty"`
	Sequence     []json.RawMessage `json:"sequence,omitempty"`
	Step         *int              `json:"step,omitempty"`
	Expected     string            `json:"expected"`
	Found        string            `json:"found"`
	Matched      int               `json:"matched"`
	IDs          []string          `json:"ids"`
	IDsTruncated bool              `json:"ids_truncated,omitempty"`
	Closest      []closest         `json:"closest"`
}

type closest struct {
	ID          string                 `json:"id"`
	Differences []scenarios.Difference `json:"differences"`
}

// Verify serves POST /__mock/verify: 200 when every expectation holds,
// 422 with each failure when one does not, 400 with each problem of a
// body that is not a verification.
func (a *API) Verify(x *wire.Exchange, r *http.Request) *wire.Problem {
	body, res := x.ReadBody(r, 64<<10)
	if p := bodyProblem(res); p != nil {
		return p
	}
	if res == wire.BodyTooLarge {
		return problem(http.StatusRequestEntityTooLarge, "a verification is at most 64 KiB")
	}
	exps, err := scenarios.ParseVerification(body)
	if err != nil {
		var probs scenarios.Problems
		msgs := []string{err.Error()}
		if errors.As(err, &probs) {
			msgs = probs.Strings()
		}
		return &wire.Problem{Status: http.StatusBadRequest, Message: "the verification has problems", Detail: msgs}
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), verifyBudget, errOverBudget)
	defer cancel()
	result, err := expect.Verify(exps, expect.Options{Session: wire.SessionID(r), Set: x.Set, Journal: a.journalOf(x), Context: ctx})
	switch {
	case r.Context().Err() != nil:
		return &wire.Problem{Status: wire.StatusClientClosed, Message: "the client went away; the verification stopped"}
	case err != nil:
		return problem(http.StatusServiceUnavailable, "the verification stopped after its budget of "+verifyBudget.String()+
			" of work: give its patterns api, method or path (checked before a body is read) and fewer regexes, "+
			"or verify a shorter journal (DELETE /__mock/requests between tests)")
	}
	out := verifyAnswer{OK: result.OK(), Matched: result.Matched, IDs: make([]string, len(result.Matches)), Entries: []journalEntry{}}
	for i, m := range result.Matches {
		out.IDs[i] = journalID(m.Entry.Seq)
		if i < maxVerifyEntries {
			out.Entries = append(out.Entries, journalEntryOf(m.Entry))
		}
	}
	out.EntriesTruncated = len(result.Matches) > maxVerifyEntries
	for _, f := range result.Failures {
		vf := verifyFailure{Expectation: f.Expectation, Session: f.Session, Expected: f.Expected, Found: f.Found,
			Matched: len(f.Matched), IDs: idsOf(f.Matched[:min(len(f.Matched), maxVerifyEntries)]),
			IDsTruncated: len(f.Matched) > maxVerifyEntries, Closest: closestOf(f.Closest)}
		if f.Sequence != nil {
			step := f.Step
			vf.Step = &step
			for _, p := range f.Sequence {
				vf.Sequence = append(vf.Sequence, json.RawMessage(p.Source))
			}
		} else {
			vf.Request = json.RawMessage(f.Request.Source)
		}
		out.Failures = append(out.Failures, vf)
	}
	status := http.StatusOK
	if !out.OK {
		status = http.StatusUnprocessableEntity
		out.Closest = out.Failures[0].Closest
		out.Report = result.Report(len(exps))
	}
	wire.WriteJSON(x, status, out)
	return nil
}

// journalOf reads a session's journal for package expect: the entries
// decoded under the session's lock, the reader's to keep. A session that does not exist reads
// as empty and is not created.
func (a *API) journalOf(x *wire.Exchange) expect.Journal {
	return func(session string) []*state.JournalEntry {
		tx := a.e.BeginRead(x.Set, session)
		defer tx.End()
		return tx.Session().Journal()
	}
}

func idsOf(entries []*state.JournalEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = journalID(e.Seq)
	}
	return out
}

func closestOf(cs []expect.Closest) []closest {
	out := make([]closest, len(cs))
	for i, c := range cs {
		out[i] = closest{ID: journalID(c.Entry.Seq), Differences: c.Differences}
	}
	return out
}

type unmatchedAnswer struct {
	Requests []journalEntry `json:"requests"`
	// Total counts the unmatched requests after ?after= (of ?path=), those
	// past ?limit= too; Truncated is set when requests lists fewer.
	Total     int    `json:"total"`
	Truncated bool   `json:"truncated,omitempty"`
	Report    string `json:"report"`
}

// Pages of GET /__mock/unmatched.
const (
	defaultUnmatchedLimit = 100
	maxUnmatchedLimit     = 1000
)

// Unmatched serves GET /__mock/unmatched[?path=…][&after=req_…][&limit=N]:
// the session's requests that reached their scenario's rules and that
// none answered, oldest first, each with its near misses: the first limit
// (default 100, at most 1000) after the request after names, so that a
// client pages forward with after= the last id it got.
func (a *API) Unmatched(x *wire.Exchange, r *http.Request) *wire.Problem {
	q := r.URL.Query()
	limit, after, p := pageOf(q, defaultUnmatchedLimit, maxUnmatchedLimit)
	if p != nil {
		return p
	}
	path := q.Get("path")
	var picked []*state.JournalEntry
	total := 0
	for _, e := range a.journalOf(x)(wire.SessionID(r)) {
		if e.Unmatched && e.Seq > after && (path == "" || e.Path == path) {
			total++
			if len(picked) < limit {
				picked = append(picked, e)
			}
		}
	}
	out := unmatchedAnswer{Requests: make([]journalEntry, len(picked)), Total: total, Truncated: total > len(picked),
		Report: expect.UnmatchedReport(picked, total)}
	for i, e := range picked {
		out.Requests[i] = journalEntryOf(e)
	}
	wire.WriteJSON(x, http.StatusOK, out)
	return nil
}

type usageAnswer struct {
	Scenario   string      `json:"scenario"`
	Session    string      `json:"session"`
	State      string      `json:"state"`
	AllUsed    bool        `json:"all_used"`
	Rules      []ruleUsage `json:"rules"`
	NeverFired []string    `json:"never_fired"`
	TimesLeft  []string    `json:"times_left"`
	Report     string      `json:"report"`
}

type ruleUsage struct {
	Name       string     `json:"name"`
	Hits       int        `json:"hits"`
	Times      int        `json:"times,omitempty"`
	Left       int        `json:"left,omitempty"`
	NeverFired bool       `json:"never_fired"`
	State      *stateStep `json:"state,omitempty"`
}

type stateStep struct {
	Require string `json:"require,omitempty"`
	Set     string `json:"set,omitempty"`
}

// Usage serves GET /__mock/scenarios/{name}/usage: how often each rule of
// the scenario (the fixtures' or one added over the API) fired in the
// session, flagging those that never fired and those whose times is not
// used up.
func (a *API) Usage(x *wire.Exchange, r *http.Request) *wire.Problem {
	name := x.PathVar("name")
	session := wire.SessionID(r)
	tx := a.e.BeginRead(x.Set, session) // a session that does not exist reads as unused
	sc := tx.Scenario(name)
	if sc == nil {
		tx.End()
		return problem(http.StatusNotFound, "no scenario "+strconv.Quote(name)+"; see GET /__mock/status for the names")
	}
	hits, current := tx.Session().RuleHits(sc)
	u := expect.UsageOf(sc, session, hits, current)
	tx.End()
	out := usageAnswer{Scenario: u.Scenario, Session: u.Session, State: u.State, AllUsed: u.AllUsed(), Rules: make([]ruleUsage, len(u.Rules)),
		NeverFired: u.NeverFired(), TimesLeft: u.TimesLeft(), Report: u.Report()}
	for i, ru := range u.Rules {
		out.Rules[i] = ruleUsage{Name: ru.Name, Hits: ru.Hits, Times: ru.Times, Left: ru.Left, NeverFired: ru.NeverFired()}
		if ru.State != nil {
			out.Rules[i].State = &stateStep{Require: ru.State.Require, Set: ru.State.Set}
		}
	}
	wire.WriteJSON(x, http.StatusOK, out)
	return nil
}
