package mock

import (
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// The Workspace Messages API's wire format (seed 001): a FastAPI service.
// Errors are {"detail": …}; validation errors are Pydantic's (package pydantic);
// a body that is not JSON gets CPython's parser message (pydantic.Parse).

// DefaultWorkspace is the workspace of requests that name none and whose
// key has none.
const DefaultWorkspace = state.DefaultWorkspace

const (
	detailNotAuthenticated   = "Not authenticated"
	detailInvalidCredentials = "Invalid authentication credentials"
	detailWorkspaceForbidden = "Not authorized for this workspace"
	detailConvNotFound       = "Conversation not found"
	detailMessageNotFound    = "Message not found"
	detailBodyParse          = "There was an error parsing the body"
	detailTooLarge           = "Request Entity Too Large"
)

// detail is FastAPI's error body.
type detail struct {
	Detail any `json:"detail"`
}

func writeDetail(w http.ResponseWriter, status int, message string) {
	writeFastAPI(w, status, detail{Detail: message})
}

func writeValidation(w http.ResponseWriter, errs []pydantic.Error) {
	for _, e := range errs {
		if v, ok := e.Input.(*pydantic.Value); ok && !v.Encodable() {
			// FastAPI's JSONResponse cannot write NaN, an infinity or a
			// lone surrogate back: the service fails with Starlette's 500.
			writeServerError(w)
			return
		}
	}
	writeFastAPI(w, http.StatusUnprocessableEntity, pydantic.ValidationErrors{Detail: errs})
}

// writeServerError is Starlette's ServerErrorMiddleware answer.
func writeServerError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", "21")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, "Internal Server Error")
}

// workspaceError answers status in the detail shape with SPEC §5's default
// for the Workspace API (Prefer: code=NNN, scripted responses).
func workspaceError(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	switch status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", "Bearer")
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	if status == http.StatusUnprocessableEntity && message == "" {
		writeValidation(w, []pydantic.Error{{Type: "value_error", Loc: pydantic.Loc("body"), Msg: "Value error, scripted failure", Input: nil}})
		return
	}
	if message == "" {
		message = defaultDetail(status)
	}
	writeDetail(w, status, message)
}

func defaultDetail(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 401:
		return detailNotAuthenticated
	case 403:
		return "Forbidden"
	case 404:
		return detailConvNotFound
	case 413:
		return detailTooLarge
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "Error " + strconv.Itoa(status)
}

// wireMessageB is a Message as the seed's response lists it: all 17 keys,
// in the response model's order, null where unset.
type wireMessageB struct {
	ConversationID  string          `json:"conversation_id"`
	SenderID        string          `json:"sender_id"`
	Content         string          `json:"content"`
	WorkspaceID     string          `json:"workspace_id"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
	ID              string          `json:"id"`
	Role            string          `json:"role"`
	ToolCalls       json.RawMessage `json:"tool_calls"`
	MessageType     string          `json:"message_type"`
	Tags            json.RawMessage `json:"tags"`
	Checksum        string          `json:"checksum"`
	Attachments     json.RawMessage `json:"attachments"`
	ParentMessageID *string         `json:"parent_message_id"`
	MetaData        json.RawMessage `json:"meta_data"`
	SentAt          string          `json:"sent_at"`
	OwnerID         *string         `json:"owner_id"`
}

// parentOf is a message's parent_message_id: null unless one was given
// (an empty string stays "", as Pydantic keeps it).
func parentOf(m *state.Message) *string {
	if !m.HasReplyTo && m.ReplyTo == "" {
		return nil
	}
	return &m.ReplyTo
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func messageB(m *state.Message) wireMessageB {
	ts := pydantic.Timestamp(m.CreatedAt)
	meta := m.Metadata
	if meta == nil {
		meta = json.RawMessage(`{}`)
	}
	return wireMessageB{
		ConversationID: m.ConversationID, SenderID: m.SenderID, Content: m.Text, WorkspaceID: m.WorkspaceID,
		CreatedAt: ts, UpdatedAt: ts, ID: m.ID, Role: m.Role, ToolCalls: m.ToolCalls,
		MessageType: m.MessageType, Tags: m.Tags, Checksum: m.Checksum, Attachments: m.Attachments,
		ParentMessageID: parentOf(m), MetaData: meta, SentAt: m.SentAt, OwnerID: nullable(m.OwnerID),
	}
}

// createRequestB is a validated POST /api/v1/messages body.
type createRequestB struct {
	Content         string
	SenderID        string
	SentAt          string // the request's created_at as Pydantic renders it, or ""
	SentInstant     time.Time
	Role            string
	MessageType     string
	ToolCalls       json.RawMessage
	ParentID        string
	HasParentID     bool // given and not null ("" is kept as "")
	Tags            json.RawMessage
	MetaData        json.RawMessage
	Attachments     json.RawMessage
	ConversationID  string
	HasConversation bool // given and not null: "" names a conversation too (and is not found)
	// Unwritable: pydantic-core cannot write the message back (a lone
	// surrogate, an Any value nested too deep): the service answers 500.
	Unwritable bool
}

// written is a field as pydantic-core writes it in the response.
func (req *createRequestB) written(v *pydantic.Value, t pydantic.Type) json.RawMessage {
	b, ok := pydantic.Serialize(v, t)
	req.Unwritable = req.Unwritable || !ok
	return b
}

// str is a str field; a lone surrogate in it cannot be written back.
func (req *createRequestB) str(s string) string {
	req.Unwritable = req.Unwritable || !pydantic.ValidStr(s)
	return s
}

// validateCreateB checks the body against the service's models, in their
// field order, collecting every problem as Pydantic does.
func validateCreateB(body *pydantic.Value) (createRequestB, []pydantic.Error) {
	pv := &pydantic.Validator{}
	req := createRequestB{Role: "user", MessageType: "text"}
	if body.Kind != pydantic.Object {
		pv.Add("model_attributes_type", pydantic.Loc("body"), pydantic.MsgModelAttrs, body, nil)
		return req, pv.Errs
	}
	if c := pv.Field(body, "content", pydantic.Loc("body", "content"), true); c != nil {
		if c.Kind != pydantic.Object {
			pv.Add("model_attributes_type", pydantic.Loc("body", "content"), pydantic.MsgModelAttrs, c, nil)
		} else {
			validateContentB(pv, c, &req)
		}
	}
	if v := pv.Field(body, "conversation_id", pydantic.Loc("body", "conversation_id"), false); v != nil {
		req.ConversationID, req.HasConversation = pv.Str(v, pydantic.Loc("body", "conversation_id"), true)
	}
	if v := pv.Field(body, "enable_memories", pydantic.Loc("body", "enable_memories"), false); v != nil {
		pv.Boolean(v, pydantic.Loc("body", "enable_memories"), true)
	}
	return req, pv.Errs
}

func validateContentB(pv *pydantic.Validator, c *pydantic.Value, req *createRequestB) {
	at := func(name string) []any { return pydantic.Loc("body", "content", name) }
	if v := pv.Field(c, "content", at("content"), true); v != nil {
		content, _ := pv.Str(v, at("content"), false)
		req.Content = req.str(content)
	}
	if v := pv.Field(c, "sender_id", at("sender_id"), true); v != nil {
		sender, _ := pv.Str(v, at("sender_id"), false)
		req.SenderID = req.str(sender)
	}
	if v := pv.Field(c, "created_at", at("created_at"), false); v != nil {
		if t, ok := pv.Datetime(v, at("created_at")); ok {
			req.SentAt, req.SentInstant = t.String(), t.Instant()
		}
	}
	if v := pv.Field(c, "role", at("role"), false); v != nil {
		if s, ok := pv.Str(v, at("role"), false); ok {
			req.Role = req.str(s)
		}
	}
	if v := pv.Field(c, "message_type", at("message_type"), false); v != nil {
		if s, ok := pv.Str(v, at("message_type"), false); ok {
			req.MessageType = req.str(s)
		}
	}
	if v := pv.Field(c, "tool_calls", at("tool_calls"), false); v != nil && pv.List(v, at("tool_calls"), pydantic.Object) {
		req.ToolCalls = req.written(v, pydantic.TypeDictList)
	}
	if v := pv.Field(c, "parent_message_id", at("parent_message_id"), false); v != nil {
		req.ParentID, req.HasParentID = pv.Str(v, at("parent_message_id"), true)
		req.ParentID = req.str(req.ParentID)
	}
	if v := pv.Field(c, "tags", at("tags"), false); v != nil && pv.List(v, at("tags"), pydantic.String) {
		req.Tags = req.written(v, pydantic.TypeStrList)
	}
	if v := pv.Field(c, "meta_data", at("meta_data"), false); v != nil && pv.Dict(v, at("meta_data"), false) {
		req.MetaData = req.written(v, pydantic.TypeDict)
	}
	if v := pv.Field(c, "attachments", at("attachments"), false); v != nil && pv.List(v, at("attachments"), pydantic.Object) {
		req.Attachments = req.written(v, pydantic.TypeDictList)
	}
}

// isFastAPIJSON reports whether FastAPI would parse a body of this
// Content-Type as JSON: application/json or application/*+json.
func isFastAPIJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	main, sub, _ := strings.Cut(mt, "/")
	return main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}

// authorizeB authenticates as the service's dependencies do: FastAPI's
// HTTPBearer and APIKeyHeader, both with auto_error=False. A Bearer
// Authorization (scheme in any case, a token after the first space) gives
// the key; else x-api-key does (else, for EventSource, ?access_token=);
// with none, 401 Not authenticated. Another scheme, or Bearer without a
// token, counts as no Authorization at all. It answers the 401 itself.
func authorizeB(w http.ResponseWriter, r *http.Request, set *scenarios.Set, allowQuery bool) (scenarios.Token, bool) {
	key := ""
	if scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "bearer") {
		key = strings.TrimSpace(cred) // get_authorization_scheme_param strips the token
	}
	if key == "" {
		key = r.Header.Get("X-Api-Key")
	}
	if key == "" && allowQuery {
		key = r.URL.Query().Get("access_token")
	}
	if key == "" {
		workspaceError(w, http.StatusUnauthorized, detailNotAuthenticated)
		return scenarios.Token{}, false
	}
	tok, ok := checkKey(set, key)
	if !ok {
		workspaceError(w, http.StatusUnauthorized, detailInvalidCredentials)
		return tok, false
	}
	return tok, true
}

// ReservedForbiddenWorkspace always answers 403, whatever the settings, so
// that QA can reproduce the documented 403 with any fixtures.
const ReservedForbiddenWorkspace = "wsp_forbidden"

// workspaceOf picks the request's workspace and answers 403 when the
// settings list workspaces and this one is not among them.
func workspaceOf(w http.ResponseWriter, r *http.Request, set *scenarios.Set, tok scenarios.Token) (string, bool) {
	ws := strings.TrimSpace(r.Header.Get("X-Workspace-Id"))
	if ws == "" {
		ws = tok.WorkspaceID
	}
	if ws == "" {
		ws = DefaultWorkspace
	}
	if ws == ReservedForbiddenWorkspace || !set.Settings.WorkspaceAllowed(ws) {
		workspaceError(w, http.StatusForbidden, detailWorkspaceForbidden)
		return "", false
	}
	return ws, true
}

// handleCreateB serves POST /api/v1/messages in FastAPI's order of checks.
func (s *Server) handleCreateB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := exchangeOf(w)
		set := s.config(w)
		body, tooLarge, ok := readBody(r, set.Settings.BodyLimit)
		if !ok {
			return
		}
		ex.body = body
		if tooLarge {
			workspaceError(w, http.StatusRequestEntityTooLarge, "")
			return
		}
		// 1. JSON: parsed before any dependency runs, so before auth.
		var parsed *pydantic.Value
		rawBody := false
		if len(body) > 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" && isFastAPIJSON(ct) {
				v, jerr, decodable := pydantic.Parse(body)
				if !decodable || (jerr != nil && jerr.Msg == "maximum recursion depth exceeded") {
					workspaceError(w, http.StatusBadRequest, detailBodyParse)
					return
				}
				if jerr != nil {
					writeValidation(w, []pydantic.Error{{Type: "json_invalid", Loc: pydantic.Loc("body", jerr.Pos), Msg: "JSON decode error",
						Input: struct{}{}, Ctx: map[string]string{"error": jerr.Msg}}})
					return
				}
				parsed = &v
			} else {
				rawBody = true
			}
		}
		// 2. Auth.
		tok, ok := authorizeB(w, r, set, false)
		if !ok {
			return
		}
		// 3. Validation.
		var req createRequestB
		switch {
		case rawBody && !utf8.Valid(body):
			// FastAPI's jsonable_encoder decodes the bytes it echoes as
			// UTF-8, strictly, and fails: Starlette's 500.
			writeServerError(w)
			return
		case rawBody:
			writeValidation(w, []pydantic.Error{{Type: "model_attributes_type", Loc: pydantic.Loc("body"), Msg: pydantic.MsgModelAttrs, Input: string(body)}})
			return
		case parsed == nil || parsed.Kind == pydantic.Null:
			writeValidation(w, []pydantic.Error{{Type: "missing", Loc: pydantic.Loc("body"), Msg: pydantic.MsgMissing, Input: nil}})
			return
		default:
			var errs []pydantic.Error
			if req, errs = validateCreateB(parsed); len(errs) > 0 {
				writeValidation(w, errs)
				return
			}
		}
		// 4. Workspace.
		ws, ok := workspaceOf(w, r, set, tok)
		if !ok {
			return
		}
		s.createB(w, r, set, req, ws, tok, parsed)
	})
}

// createB runs the checks that need the session and stores the message.
func (s *Server) createB(w http.ResponseWriter, r *http.Request, set *scenarios.Set, req createRequestB, ws string, tok scenarios.Token, body *pydantic.Value) {
	sess := s.lockSession(r, set)
	var conv *state.Conversation
	if req.HasConversation {
		if conv = sess.Conversation(scenarios.APIWorkspace, req.ConversationID); conv == nil || conv.WorkspaceID != ws {
			sess.Unlock()
			if !s.passThrough(w, r, set, scenarios.APIWorkspace) {
				writeDetail(w, http.StatusNotFound, detailConvNotFound)
			}
			return
		}
	} else if !set.Settings.AutoCreate {
		sess.Unlock()
		writeValidation(w, []pydantic.Error{{Type: "missing", Loc: pydantic.Loc("body", "conversation_id"), Msg: pydantic.MsgMissing, Input: body}})
		return
	}
	if code := preferredCode(r.Header); code != 0 {
		sess.Unlock()
		workspaceError(w, code, "")
		return
	}
	// 6. Scenario rules.
	facts := scenarios.Facts{
		API: scenarios.APIWorkspace, Text: req.Content, SenderID: req.SenderID, Role: req.Role,
		ConversationID: req.ConversationID, WorkspaceID: ws, Header: r.Header, MetadataJSON: req.MetaData,
	}
	outcome, done := s.applyRules(w, r, set, sess, &facts, req.ConversationID)
	if done {
		return
	}
	// 7. Store and answer. A lone surrogate (\ud800) passes validation but
	// cannot be written back as UTF-8, nor can an Any value nested deeper
	// than pydantic-core recurses: the service fails with a 500 then.
	if req.Unwritable {
		sess.Unlock()
		writeServerError(w)
		return
	}
	now := s.clock.Now()
	if conv == nil {
		conv = sess.NewConversation(scenarios.APIWorkspace, ws, now)
	}
	sentAt, sentInstant := req.SentAt, req.SentInstant
	if sentAt == "" {
		sentAt, sentInstant = pydantic.Timestamp(now), now
	}
	m := &state.Message{
		ID: sess.NewMessageID(scenarios.APIWorkspace), ConversationID: conv.ID, API: scenarios.APIWorkspace,
		SenderID: req.SenderID, Role: req.Role, Text: req.Content, Metadata: req.MetaData, ReplyTo: req.ParentID, HasReplyTo: req.HasParentID,
		CreatedAt: now, WorkspaceID: ws, OwnerID: tok.OwnerID, MessageType: req.MessageType,
		Tags: req.Tags, ToolCalls: req.ToolCalls, Attachments: req.Attachments, SentAt: sentAt, SentInstant: sentInstant, Checksum: state.Checksum(req.Content),
	}
	inline, _ := s.storeWithReplies(sess, conv, m, outcome.rule, true, r, now)
	if !s.clock.Sleep(r.Context(), outcome.latency) {
		return
	}
	resp := outcome.respond
	applyHeaders(w, resp)
	if resp != nil && resp.Body != nil {
		writeRaw(w, respondStatus(resp, http.StatusCreated), resp.Body)
		return
	}
	out := make([]wireMessageB, 0, 1+len(inline))
	out = append(out, messageB(m))
	for _, reply := range inline {
		out = append(out, messageB(reply))
	}
	writeFastAPI(w, respondStatus(resp, http.StatusCreated), out)
}

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

// handleListB serves GET /api/v1/messages.
func (s *Server) handleListB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		tok, ok := authorizeB(w, r, set, false)
		if !ok {
			return
		}
		q := newQueryParams(r)
		convID := q.required("conversation_id")
		skip := q.integer("skip", 0, 0, 0)
		limit := q.integer("limit", 100, 1, 1000)
		orderBy := q.literal("order_by", "created_at", "created_at", "updated_at", "sent_at")
		desc := q.literal("order_direction", "asc", "asc", "desc") == "desc"
		if len(q.pv.Errs) > 0 {
			writeValidation(w, q.pv.Errs)
			return
		}
		ws, ok := workspaceOf(w, r, set, tok)
		if !ok {
			return
		}
		sess := s.lockSession(r, set)
		conv := sess.Conversation(scenarios.APIWorkspace, convID)
		if conv == nil || conv.WorkspaceID != ws {
			sess.Unlock()
			if !s.passThrough(w, r, set, scenarios.APIWorkspace) {
				writeDetail(w, http.StatusNotFound, detailConvNotFound)
			}
			return
		}
		msgs := append([]*state.Message(nil), conv.Messages()...)
		sess.Unlock()
		key := func(m *state.Message) time.Time {
			if orderBy == "sent_at" {
				return m.SentInstant // by the moment, not the text: offsets differ
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
		out := make([]wireMessageB, 0, limit)
		for i := skip; i < len(msgs) && len(out) < limit; i++ {
			out = append(out, messageB(msgs[i]))
		}
		writeFastAPI(w, http.StatusOK, out)
	})
}

// handleGetB serves GET /api/v1/messages/{message_id}.
func (s *Server) handleGetB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		tok, ok := authorizeB(w, r, set, false)
		if !ok {
			return
		}
		ws, ok := workspaceOf(w, r, set, tok)
		if !ok {
			return
		}
		sess := s.lockSession(r, set)
		m := sess.Message(pathVar(w, "message_id"))
		sess.Unlock()
		if m == nil || m.API != scenarios.APIWorkspace || m.WorkspaceID != ws {
			if !s.passThrough(w, r, set, scenarios.APIWorkspace) {
				writeDetail(w, http.StatusNotFound, detailMessageNotFound)
			}
			return
		}
		writeFastAPI(w, http.StatusOK, messageB(m))
	})
}

type wireConversationB struct {
	ID           string `json:"id"`
	WorkspaceID  string `json:"workspace_id"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	MessageCount int    `json:"message_count"`
}

type conversationsB struct {
	Data       []wireConversationB `json:"data"`
	TotalCount int                 `json:"total_count"`
}

// handleConversationsB serves GET /api/v1/conversations: the workspace's
// conversations, newest first, with skip and limit.
func (s *Server) handleConversationsB() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		tok, ok := authorizeB(w, r, set, false)
		if !ok {
			return
		}
		q := newQueryParams(r)
		skip := q.integer("skip", 0, 0, 0)
		limit := q.integer("limit", 100, 1, 1000)
		if len(q.pv.Errs) > 0 {
			writeValidation(w, q.pv.Errs)
			return
		}
		ws, ok := workspaceOf(w, r, set, tok)
		if !ok {
			return
		}
		sess := s.lockSession(r, set)
		var all []wireConversationB
		convs := sess.Conversations(scenarios.APIWorkspace)
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
			if n := len(c.Messages()); n > 0 && c.Messages()[n-1].CreatedAt.After(updated) {
				updated = c.Messages()[n-1].CreatedAt
			}
			all = append(all, wireConversationB{ID: c.ID, WorkspaceID: c.WorkspaceID, CreatedAt: pydantic.Timestamp(c.CreatedAt),
				UpdatedAt: pydantic.Timestamp(updated), MessageCount: len(c.Messages())})
		}
		sess.Unlock()
		out := conversationsB{Data: []wireConversationB{}, TotalCount: len(all)}
		for i := skip; i < len(all) && len(out.Data) < limit; i++ {
			out.Data = append(out.Data, all[i])
		}
		writeFastAPI(w, http.StatusOK, out)
	})
}
