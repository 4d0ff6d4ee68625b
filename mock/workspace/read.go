package workspace

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/openapi"
	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// queryParams validates query parameters as FastAPI's Query(…) does; every
// problem is collected, in parameter order.
type queryParams struct {
	values url.Values // parsed once: every parameter reads it
	pv     pydantic.Validator
}

func newQueryParams(r *http.Request) *queryParams { return &queryParams{values: r.URL.Query()} }

func (q *queryParams) get(name string) (string, bool) {
	vs, ok := q.values[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true // Starlette's QueryParams.get takes the last
}

func (q *queryParams) required(name string) string {
	v, ok := q.get(name)
	if !ok {
		q.pv.Add("missing", pydantic.Loc("query", name), pydantic.MsgMissing, nil, nil)
	}
	return v
}

func (q *queryParams) integer(name string, def int, ge int, le int) int {
	v, ok := q.get(name)
	if !ok {
		return def
	}
	n, problem := pydantic.IntFromString(v)
	switch {
	case problem == "int_parsing_size":
		q.pv.Add(problem, pydantic.Loc("query", name), pydantic.MsgIntParseSize, v, nil)
	case problem != "":
		q.pv.Add(problem, pydantic.Loc("query", name), pydantic.MsgIntParse, v, nil)
	case n < int64(ge):
		q.pv.Add("greater_than_equal", pydantic.Loc("query", name), "Input should be greater than or equal to "+strconv.Itoa(ge), v, map[string]int{"ge": ge})
	case le > 0 && n > int64(le):
		q.pv.Add("less_than_equal", pydantic.Loc("query", name), "Input should be less than or equal to "+strconv.Itoa(le), v, map[string]int{"le": le})
	default:
		return int(min(n, math.MaxInt32)) // a skip past everything lists nothing
	}
	return def
}

// literal checks a Literal[...] parameter; Pydantic lists the choices as
// 'a', 'b' or 'c'.
func (q *queryParams) literal(name, def string, choices ...string) string {
	v, ok := q.get(name)
	if !ok {
		return def
	}
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	quoted := make([]string, len(choices))
	for i, c := range choices {
		quoted[i] = "'" + c + "'"
	}
	expected := strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	q.pv.Add("literal_error", pydantic.Loc("query", name), "Input should be "+expected, v, map[string]string{"expected": expected})
	return def
}

// List serves GET /api/v1/messages.
func (a *API) List(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	tok, p := a.admitRead(x, r, false)
	if p != nil {
		return p
	}
	q := newQueryParams(r)
	convID := q.required("conversation_id")
	skip := q.integer("skip", 0, 0, 0)
	limit := q.integer("limit", 100, 1, 1000)
	orderBy := q.literal("order_by", "created_at", "created_at", "updated_at", "sent_at")
	desc := q.literal("order_direction", "asc", "asc", "desc") == "desc"
	if len(q.pv.Errs) > 0 {
		return invalid(q.pv.Errs...)
	}
	ws, p := workspaceOf(r, set, tok)
	if p != nil {
		return p
	}
	notFound := func() *wire.Problem {
		if wire.PassThrough(x, r, a.e, Dialect{}) {
			return nil
		}
		return problem(http.StatusNotFound, detailConvNotFound)
	}
	if a.messagesOf(x, r, convID, ws) == nil {
		return notFound()
	}
	facts := wire.ReadFacts(scenarios.APIWorkspace, r, convID, ws)
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, convID)
	if done {
		return p
	}
	msgs := a.messagesOf(x, r, convID, ws)
	if msgs == nil { // evicted while the rules' latency ran
		return notFound()
	}
	key := func(m *state.Message) time.Time {
		if orderBy == "sent_at" {
			return m.SentAt // by the moment, not the text: offsets differ
		}
		return m.CreatedAt
	}
	// desc is the exact reverse of asc, so equal timestamps (a frozen
	// clock) list the later message first.
	sort.SliceStable(msgs, func(i, j int) bool { return key(msgs[i]).Before(key(msgs[j])) })
	if desc {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	out := make([]message, 0, limit)
	for i := skip; i < len(msgs) && len(out) < limit; i++ {
		out = append(out, messageOf(msgs[i]))
	}
	writeMessages(x, wire.RespondStatus(resp, http.StatusOK), out)
	return nil
}

// messagesOf is a copy of conversation id's messages, or nil when the
// request's session holds no such conversation in workspace ws.
func (a *API) messagesOf(x *wire.Exchange, r *http.Request, id, ws string) []*state.Message {
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	conv := tx.Session().Conversation(scenarios.APIWorkspace, id)
	if conv == nil || conv.WorkspaceID != ws {
		return nil
	}
	return conv.Messages()
}

// Get serves GET /api/v1/messages/{message_id}.
func (a *API) Get(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	tok, p := a.admitRead(x, r, false)
	if p != nil {
		return p
	}
	ws, p := workspaceOf(r, set, tok)
	if p != nil {
		return p
	}
	tx := a.e.Begin(set, wire.SessionID(r))
	m := tx.Session().Message(x.PathVar("message_id"))
	tx.End()
	if m == nil || m.API != scenarios.APIWorkspace || m.WorkspaceID != ws {
		if wire.PassThrough(x, r, a.e, Dialect{}) {
			return nil
		}
		return problem(http.StatusNotFound, detailMessageNotFound)
	}
	facts := wire.ReadFacts(scenarios.APIWorkspace, r, m.ConversationID, ws)
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, m.ConversationID)
	if done {
		return p
	}
	writeFastAPI(x, wire.RespondStatus(resp, http.StatusOK), messageOf(m))
	return nil
}

type conversation struct {
	ID           string `json:"id"`
	WorkspaceID  string `json:"workspace_id"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	MessageCount int    `json:"message_count"`
}

type conversationList struct {
	Data       []conversation `json:"data"`
	TotalCount int            `json:"total_count"`
}

// Conversations serves GET /api/v1/conversations: the workspace's
// conversations, newest first, with skip and limit.
func (a *API) Conversations(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	tok, p := a.admitRead(x, r, false)
	if p != nil {
		return p
	}
	q := newQueryParams(r)
	skip := q.integer("skip", 0, 0, 0)
	limit := q.integer("limit", 100, 1, 1000)
	if len(q.pv.Errs) > 0 {
		return invalid(q.pv.Errs...)
	}
	ws, p := workspaceOf(r, set, tok)
	if p != nil {
		return p
	}
	facts := wire.ReadFacts(scenarios.APIWorkspace, r, "", ws)
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, "")
	if done {
		return p
	}
	tx := a.e.Begin(set, wire.SessionID(r))
	defer tx.End()
	var all []conversation
	convs := tx.Session().Conversations(scenarios.APIWorkspace)
	// Newest first; among equals (a frozen clock), the later created first.
	for i, j := 0, len(convs)-1; i < j; i, j = i+1, j-1 {
		convs[i], convs[j] = convs[j], convs[i]
	}
	sort.SliceStable(convs, func(i, j int) bool { return convs[i].CreatedAt.After(convs[j].CreatedAt) })
	for _, c := range convs {
		if c.WorkspaceID != ws {
			continue
		}
		updated := c.CreatedAt
		if last, ok := c.LastCreatedAt(); ok && last.After(updated) {
			updated = last
		}
		all = append(all, conversation{ID: c.ID, WorkspaceID: c.WorkspaceID, CreatedAt: Timestamp(c.CreatedAt),
			UpdatedAt: Timestamp(updated), MessageCount: c.Len()})
	}
	tx.End()
	out := conversationList{Data: []conversation{}, TotalCount: len(all)}
	for i := skip; i < len(all) && len(out.Data) < limit; i++ {
		out.Data = append(out.Data, all[i])
	}
	writeFastAPI(x, wire.RespondStatus(resp, http.StatusOK), out)
	return nil
}

// OpenAPI serves GET /openapi.json as the FastAPI service does: its
// document byte for byte; GET and HEAD only.
func (a *API) OpenAPI(x *wire.Exchange, r *http.Request) *wire.Problem {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		x.Header().Set("Allow", "GET, HEAD")
		return &wire.Problem{Status: http.StatusMethodNotAllowed, Kind: wire.NoMethod}
	}
	doc, _ := openapi.Document("workspace")
	x.Header().Set("Content-Type", "application/json")
	x.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = x.Write(doc)
	return nil
}
