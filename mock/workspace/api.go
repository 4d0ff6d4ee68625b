package workspace

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// createRequest is a validated POST /api/v1/messages body.
type createRequest struct {
	Content         string
	SenderID        string
	SentAt          pydantic.Time // the request's created_at
	HasSentAt       bool
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
func (req *createRequest) written(v *pydantic.Value, t pydantic.Type) json.RawMessage {
	b, ok := pydantic.Serialize(v, t)
	req.Unwritable = req.Unwritable || !ok
	return b
}

// str is a str field; a lone surrogate in it cannot be written back.
func (req *createRequest) str(s string) string {
	req.Unwritable = req.Unwritable || !pydantic.ValidStr(s)
	return s
}

// validateCreate checks the body against the service's models, in their
// field order, collecting every problem as Pydantic does.
func validateCreate(body *pydantic.Value) (createRequest, []pydantic.Error) {
	pv := &pydantic.Validator{}
	req := createRequest{Role: "user", MessageType: "text"}
	if body.Kind != pydantic.Object {
		pv.Add("model_attributes_type", pydantic.Loc("body"), pydantic.MsgModelAttrs, body, nil)
		return req, pv.Errs
	}
	if c := pv.Field(body, "content", locBodyContent, true); c != nil {
		if c.Kind != pydantic.Object {
			pv.Add("model_attributes_type", locBodyContent, pydantic.MsgModelAttrs, c, nil)
		} else {
			validateContent(pv, c, &req)
		}
	}
	if v := pv.Field(body, "conversation_id", locConversationID, false); v != nil {
		req.ConversationID, req.HasConversation = pv.Str(v, locConversationID, true)
	}
	if v := pv.Field(body, "enable_memories", locEnableMemories, false); v != nil {
		pv.Boolean(v, locEnableMemories, true)
	}
	return req, pv.Errs
}

// The locations of the body's fields in errors, made once: a request
// names them for every field it validates, and a location is only read
// (pydantic copies it to add a list index).
var (
	locBodyContent    = pydantic.Loc("body", "content")
	locConversationID = pydantic.Loc("body", "conversation_id")
	locEnableMemories = pydantic.Loc("body", "enable_memories")
)

// contentLocs are those of the content's fields, by name.
var contentLocs = func() map[string][]any {
	m := map[string][]any{}
	for _, name := range []string{"content", "sender_id", "created_at", "role", "message_type", "tool_calls", "parent_message_id", "tags", "meta_data", "attachments"} {
		m[name] = pydantic.Loc("body", "content", name)
	}
	return m
}()

func validateContent(pv *pydantic.Validator, c *pydantic.Value, req *createRequest) {
	at := func(name string) []any { return contentLocs[name] }
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
			req.SentAt, req.HasSentAt = t, true
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

// API serves the Workspace Messages API on an engine.
type API struct {
	e *engine.Engine
}

// New returns the Workspace API working on e.
func New(e *engine.Engine) *API { return &API{e: e} }

// authorize authenticates as the service's dependencies do: FastAPI's
// HTTPBearer and APIKeyHeader, both with auto_error=False. A Bearer
// Authorization (scheme in any case, a token after the first space) gives
// the key; else x-api-key does (else, for EventSource, ?access_token=);
// with none, 401 Not authenticated. Another scheme, or Bearer without a
// token, counts as no Authorization at all.
func authorize(r *http.Request, set *scenarios.Set, allowQuery bool) (scenarios.Token, *wire.Problem) {
	key := ""
	if scheme, cred, _ := strings.Cut(wire.Header(r.Header, "Authorization"), " "); strings.EqualFold(scheme, "bearer") {
		key = strings.TrimSpace(cred) // get_authorization_scheme_param strips the token
	}
	if key == "" {
		key = wire.Header(r.Header, "X-Api-Key")
	}
	if key == "" && allowQuery {
		key = r.URL.Query().Get("access_token")
	}
	if key == "" {
		return scenarios.Token{}, problem(http.StatusUnauthorized, detailNotAuthenticated)
	}
	tok, ok := set.Settings.Auth.Check(key)
	if !ok {
		return tok, problem(http.StatusUnauthorized, detailInvalidCredentials)
	}
	tok.Token = key // an unlisted key (mode any) too: the rate limits count by it
	return tok, nil
}

// admitRead checks a read's credentials (allowQuery: an EventSource's
// ?access_token= too) and then its rate limits, as every read endpoint
// does first.
func (a *API) admitRead(x *wire.Exchange, r *http.Request, allowQuery bool) (scenarios.Token, *wire.Problem) {
	tok, p := authorize(r, x.Set, allowQuery)
	if p != nil {
		return tok, p
	}
	return tok, a.limit(x, r, tok, false, -1)
}

// limit counts an authenticated request against its rate limits, as a
// FastAPI dependency declared after the auth one would: after auth and
// before validation (FastAPI raises a dependency's exception before the
// validation errors it collected). A send's characters are counted by a
// second call once it is validated (characters >= 0).
func (a *API) limit(x *wire.Exchange, r *http.Request, tok scenarios.Token, send bool, characters int) *wire.Problem {
	if !a.e.LimitsApply(x.Set) {
		return nil
	}
	return wire.Limit(x, r, a.e, engine.LimitCheck{API: scenarios.APIWorkspace, APIKey: tok.Token,
		Workspace: requestedWorkspace(r, tok), Send: send, Characters: characters})
}

// ReservedForbiddenWorkspace always answers 403, whatever the settings, so
// that QA can reproduce the documented 403 with any fixtures.
const ReservedForbiddenWorkspace = "wsp_forbidden"

// workspaceOf picks the request's workspace: X-Workspace-Id, else the key's,
// else the default one; 403 when the settings list workspaces and this one
// is not among them.
func workspaceOf(r *http.Request, set *scenarios.Set, tok scenarios.Token) (string, *wire.Problem) {
	ws := requestedWorkspace(r, tok)
	if ws == ReservedForbiddenWorkspace || !set.Settings.WorkspaceAllowed(ws) {
		return "", problem(http.StatusForbidden, detailWorkspaceForbidden)
	}
	return ws, nil
}

// requestedWorkspace is the workspace a request asks for: X-Workspace-Id,
// else the key's, else the default one (allowed or not).
func requestedWorkspace(r *http.Request, tok scenarios.Token) string {
	ws := strings.TrimSpace(wire.Header(r.Header, "X-Workspace-Id"))
	if ws == "" {
		ws = tok.WorkspaceID
	}
	if ws == "" {
		ws = state.DefaultWorkspace
	}
	return ws
}

// Create serves POST /api/v1/messages in FastAPI's order of checks.
func (a *API) Create(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	body, res := x.ReadBody(r, set.Settings.BodyLimit)
	switch res {
	case wire.BodyGone:
		return nil
	case wire.BodyTooLarge:
		return wire.Status(http.StatusRequestEntityTooLarge)
	case wire.BodyBusy:
		return wire.Status(http.StatusServiceUnavailable)
	}
	x.Body = body
	// 1. JSON: parsed before any dependency runs, so before auth.
	var parsed *pydantic.Value
	rawBody := false
	if len(body) > 0 {
		if ct := wire.Header(r.Header, "Content-Type"); ct != "" && isFastAPIJSON(ct) {
			v, jerr, decodable := pydantic.Parse(body)
			if !decodable || (jerr != nil && jerr.Msg == "maximum recursion depth exceeded") {
				return problem(http.StatusBadRequest, detailBodyParse)
			}
			if jerr != nil {
				return invalid(pydantic.Error{Type: "json_invalid", Loc: pydantic.Loc("body", jerr.Pos), Msg: "JSON decode error",
					Input: struct{}{}, Ctx: map[string]string{"error": jerr.Msg}})
			}
			parsed = &v
		} else {
			rawBody = true
		}
	}
	// 2. Auth, then the rate limits' request windows.
	tok, p := authorize(r, set, false)
	if p != nil {
		return p
	}
	if p := a.limit(x, r, tok, true, -1); p != nil {
		return p
	}
	// 3. Validation.
	var req createRequest
	switch {
	case rawBody && !utf8.Valid(body):
		// FastAPI's jsonable_encoder decodes the bytes it echoes as UTF-8,
		// strictly, and fails: Starlette's 500.
		return serverError
	case rawBody:
		return invalid(pydantic.Error{Type: "model_attributes_type", Loc: pydantic.Loc("body"), Msg: pydantic.MsgModelAttrs, Input: string(body)})
	case parsed == nil || parsed.Kind == pydantic.Null:
		return invalid(pydantic.Error{Type: "missing", Loc: pydantic.Loc("body"), Msg: pydantic.MsgMissing, Input: nil})
	default:
		var errs []pydantic.Error
		if req, errs = validateCreate(parsed); len(errs) > 0 {
			return invalid(errs...)
		}
	}
	// The characters windows, once the content is known.
	if a.e.LimitsApply(set) {
		if p := a.limit(x, r, tok, true, utf8.RuneCountInString(req.Content)); p != nil {
			return p
		}
	}
	// 4. Workspace.
	ws, p := workspaceOf(r, set, tok)
	if p != nil {
		return p
	}
	return a.create(x, r, req, ws, tok, parsed)
}

// create runs the checks that need the session (existence, Prefer,
// scenario rules), stores the message and answers.
func (a *API) create(x *wire.Exchange, r *http.Request, req createRequest, ws string, tok scenarios.Token, body *pydantic.Value) *wire.Problem {
	set := x.Set
	tx := a.e.Begin(set, wire.SessionID(r))
	defer tx.End()
	sess := tx.Session()
	var conv *state.Conversation
	if req.HasConversation {
		if conv = sess.Conversation(scenarios.APIWorkspace, req.ConversationID); conv == nil || conv.WorkspaceID != ws {
			tx.End()
			if wire.PassThrough(x, r, a.e, Dialect{}) {
				return nil
			}
			return problem(http.StatusNotFound, detailConvNotFound)
		}
	} else if !set.Settings.AutoCreate {
		return invalid(pydantic.Error{Type: "missing", Loc: pydantic.Loc("body", "conversation_id"), Msg: pydantic.MsgMissing, Input: body})
	}
	if code := wire.PreferredCode(r.Header); code != 0 {
		return wire.Status(code)
	}
	// 6. Scenario rules.
	facts := scenarios.Facts{
		API: scenarios.APIWorkspace, Method: r.Method, Path: r.URL.Path, Send: true, Text: req.Content, SenderID: req.SenderID, Role: req.Role,
		ConversationID: req.ConversationID, WorkspaceID: ws, Header: r.Header, MetadataJSON: req.MetaData,
	}
	out, p, done := wire.DecideSend(x, r, a.e, Dialect{}, tx, &facts, req.ConversationID)
	if done {
		return p
	}
	// 7. Store and answer. A lone surrogate (\ud800) passes validation but
	// cannot be written back as UTF-8, nor can an Any value nested deeper
	// than pydantic-core recurses: the service fails with a 500 then.
	if req.Unwritable {
		return serverError
	}
	now := a.e.Clock().Now()
	if conv == nil {
		conv = sess.NewConversation(scenarios.APIWorkspace, ws, now)
	}
	sentAt, naive := now, false
	if req.HasSentAt {
		sentAt, naive = req.SentAt.Instant(), req.SentAt.Naive()
	}
	m := &state.Message{
		ID: sess.NewMessageID(scenarios.APIWorkspace), ConversationID: conv.ID, API: scenarios.APIWorkspace,
		SenderID: req.SenderID, Role: req.Role, Text: req.Content, Metadata: req.MetaData, ReplyTo: req.ParentID, HasReplyTo: req.HasParentID,
		CreatedAt: now, WorkspaceID: ws, OwnerID: tok.OwnerID, MessageType: req.MessageType,
		Tags: req.Tags, ToolCalls: req.ToolCalls, Attachments: req.Attachments, SentAt: sentAt, SentNaive: naive, Checksum: state.Checksum(req.Content),
	}
	stored := tx.Commit(r.Context(), conv, m, out.Rule, true, r.Header)
	if stored.Err != nil {
		if r.Context().Err() != nil {
			return nil
		}
		return wire.Status(http.StatusInternalServerError)
	}
	if wire.Respond(x, r, a.e, out, http.StatusCreated) {
		return nil
	}
	list := make([]message, 0, 1+len(stored.Inline))
	list = append(list, messageOf(m))
	for _, reply := range stored.Inline {
		list = append(list, messageOf(reply))
	}
	writeMessages(x, wire.RespondStatus(out.Respond, http.StatusCreated), list)
	return nil
}
