package conversations

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// API serves the Conversations API on an engine.
type API struct {
	e *engine.Engine
}

// New returns the Conversations API working on e.
func New(e *engine.Engine) *API { return &API{e: e} }

// sendRequest is a validated POST /v1/messages body.
type sendRequest struct {
	ConversationID string
	SenderID       string
	SenderType     string
	Text           string
	ReplyTo        string
	Metadata       json.RawMessage
	AutoReply      bool
}

// The body fields in the documented table order, which is the order of checks.
const (
	fConversationID = iota
	fSenderID
	fSenderType
	fText
	fReplyTo
	fMetadata
	fAutoReply
	fieldCount
)

var fieldNames = [fieldCount]string{"conversation_id", "sender_id", "sender_type", "text", "reply_to_message_id", "metadata", "auto_reply"}

// decodeSend validates a body; a non-empty second result is the 400 message.
func decodeSend(body []byte) (sendRequest, string) {
	var raw [fieldCount][]byte
	if !objectMembers(body, func(key, val []byte) {
		for i, name := range fieldNames {
			if string(key) == name {
				raw[i] = val
				return
			}
		}
	}) {
		return sendRequest{}, msgNotObject
	}
	req := sendRequest{AutoReply: true}
	for i, v := range raw {
		name := fieldNames[i]
		kind := kindOf(v)
		switch i {
		case fConversationID, fReplyTo:
			if kind == kindAbsent || kind == kindNull {
				continue
			}
			if kind != kindString {
				return req, "Field '" + name + "' must be a string."
			}
			if i == fConversationID {
				req.ConversationID = jsonString(v)
			} else {
				req.ReplyTo = jsonString(v)
			}
		case fSenderID, fSenderType, fText:
			if kind == kindAbsent || kind == kindNull || (kind == kindString && len(v) == 2) {
				return req, "Field '" + name + "' is required."
			}
			if kind != kindString {
				return req, "Field '" + name + "' must be a string."
			}
			if i == fSenderType {
				// One of three words: no copy of it.
				switch string(v) {
				case `"user"`:
					req.SenderType = "user"
				case `"agent"`:
					req.SenderType = "agent"
				case `"system"`:
					req.SenderType = "system"
				default:
					if s := jsonString(v); s != "user" && s != "agent" && s != "system" {
						return req, "Field 'sender_type' must be one of: user, agent, system."
					} else {
						req.SenderType = s
					}
				}
				continue
			}
			s := jsonString(v)
			if i == fSenderID {
				req.SenderID = s
			} else {
				req.Text = s
			}
		case fMetadata:
			if kind == kindAbsent || kind == kindNull {
				continue
			}
			if kind != kindObject {
				return req, "Field 'metadata' must be an object."
			}
			// A copy: a slice of the body would keep the whole body alive.
			req.Metadata = append(json.RawMessage(nil), v...)
		case fAutoReply:
			if kind == kindAbsent || kind == kindNull {
				continue
			}
			if kind != kindBool {
				return req, "Field 'auto_reply' must be a boolean."
			}
			req.AutoReply = v[0] == 't'
		}
	}
	return req, ""
}

// authorized checks the Conversations API's bearer token (or, for an
// EventSource, ?access_token=); it returns the rate limits' view of the
// caller when the key is good.
func authorized(r *http.Request, set *scenarios.Set, allowQuery bool) (engine.LimitCheck, bool) {
	key, ok := wire.Bearer(r.Header)
	if !ok && allowQuery {
		key = r.URL.Query().Get("access_token")
	}
	tok, good := set.Settings.Auth.Check(key)
	return limitCheck(key, tok), good
}

// admitRead checks a read's bearer token (allowQuery: an EventSource's
// ?access_token= too) and then its rate limits, as every read endpoint
// does first.
func (a *API) admitRead(x *wire.Exchange, r *http.Request, allowQuery bool) *wire.Problem {
	lc, ok := authorized(r, x.Set, allowQuery)
	if !ok {
		return problem(http.StatusUnauthorized, msgInvalidToken)
	}
	return wire.Limit(x, r, a.e, lc)
}

// limitCheck is a request of this API as its rate limits see it: its key,
// and for key: workspace the key's workspace (this API names none
// itself), else the default one. Characters are counted once the message
// is validated.
func limitCheck(key string, tok scenarios.Token) engine.LimitCheck {
	ws := tok.WorkspaceID
	if ws == "" {
		ws = state.DefaultWorkspace
	}
	return engine.LimitCheck{API: scenarios.APIConversations, APIKey: key, Workspace: ws, Characters: -1}
}

// isJSONMediaType reports whether a Content-Type is application/json,
// parameters such as charset allowed.
func isJSONMediaType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// Send serves POST /v1/messages, checking in SPEC §2's order.
func (a *API) Send(x *wire.Exchange, r *http.Request) *wire.Problem {
	set := x.Set
	lc, ok := authorized(r, set, false)
	if !ok {
		return problem(http.StatusUnauthorized, msgInvalidToken)
	}
	// Rate limits refuse before the request is read, as the gateway in
	// front of a real service does; characters once the text is known.
	lc.Send = true
	if p := wire.Limit(x, r, a.e, lc); p != nil {
		return p
	}
	if !isJSONMediaType(wire.Header(r.Header, "Content-Type")) {
		return problem(http.StatusBadRequest, msgContentType)
	}
	body, res := x.ReadBody(r, set.Settings.BodyLimit)
	switch res {
	case wire.BodyGone:
		return nil
	case wire.BodyTooLarge:
		return problem(http.StatusRequestEntityTooLarge, msgTooLarge)
	case wire.BodyBusy:
		return wire.Status(http.StatusServiceUnavailable)
	}
	x.Body = body
	req, bad := decodeSend(body)
	if bad != "" {
		return problem(http.StatusBadRequest, bad)
	}
	if lc.Characters = utf8.RuneCountInString(req.Text); a.e.LimitsApply(set) {
		if p := wire.Limit(x, r, a.e, lc); p != nil {
			return p
		}
	}
	return a.send(x, r, req)
}

// send runs the checks that need the session (existence, Prefer, scenario
// rules), stores the message and answers.
func (a *API) send(x *wire.Exchange, r *http.Request, req sendRequest) *wire.Problem {
	set := x.Set
	tx := a.e.Begin(set, wire.SessionID(r))
	defer tx.End()
	sess := tx.Session()
	var conv *state.Conversation
	if req.ConversationID != "" {
		if conv = sess.Conversation(scenarios.APIConversations, req.ConversationID); conv == nil {
			tx.End()
			if wire.PassThrough(x, r, a.e, Dialect{}) {
				return nil
			}
			return problem(http.StatusNotFound, "Conversation not found: "+req.ConversationID+".")
		}
	} else if !set.Settings.AutoCreate {
		return problem(http.StatusBadRequest, "Field 'conversation_id' is required.")
	}
	if req.ReplyTo != "" {
		if conv == nil || !sess.MessageIn(req.ReplyTo, conv.ID) {
			return problem(http.StatusNotFound, "Message not found: "+req.ReplyTo+".")
		}
	}
	if code := wire.PreferredCode(r.Header); code != 0 {
		return &wire.Problem{Status: code, Subject: req.ConversationID}
	}
	// 5. Scenario rules.
	facts := scenarios.Facts{
		API: scenarios.APIConversations, Method: r.Method, Path: r.URL.Path, Send: true, Text: req.Text, SenderID: req.SenderID, Role: req.SenderType,
		ConversationID: req.ConversationID, Header: r.Header, MetadataJSON: req.Metadata,
	}
	out, p, done := wire.DecideSend(x, r, a.e, Dialect{}, tx, &facts, req.ConversationID)
	if done {
		return p
	}
	// 6. Store and answer.
	now := a.e.Clock().Now()
	if conv == nil {
		conv = sess.NewConversation(scenarios.APIConversations, "", now)
	}
	m := &state.Message{
		ID: sess.NewMessageID(scenarios.APIConversations), ConversationID: conv.ID, API: scenarios.APIConversations,
		SenderID: req.SenderID, Role: req.SenderType, Text: req.Text, Metadata: req.Metadata,
		ReplyTo: req.ReplyTo, CreatedAt: now,
	}
	stored := tx.Commit(r.Context(), conv, m, out.Rule, req.AutoReply, r.Header)
	if stored.Err != nil {
		if r.Context().Err() != nil {
			return nil
		}
		return wire.Status(http.StatusInternalServerError)
	}
	if wire.Respond(x, r, a.e, out, http.StatusOK) {
		return nil
	}
	writeSent(x, wire.RespondStatus(out.Respond, http.StatusOK), &sent{ConversationID: conv.ID, Message: messageOf(m), AutoReplyEnqueued: stored.Scheduled > 0})
	return nil
}

// Messages serves GET /v1/conversations/{id}/messages.
func (a *API) Messages(x *wire.Exchange, r *http.Request) *wire.Problem {
	if p := a.admitRead(x, r, false); p != nil {
		return p
	}
	limit, p := queryLimit(r, 100)
	if p != nil {
		return p
	}
	id := x.PathVar("id")
	notFound := func() *wire.Problem {
		if wire.PassThrough(x, r, a.e, Dialect{}) {
			return nil
		}
		return problem(http.StatusNotFound, "Conversation not found: "+id+".")
	}
	if !a.holds(x, r, id) {
		return notFound()
	}
	facts := wire.ReadFacts(scenarios.APIConversations, r, id, "")
	resp, p, done := wire.Decide(x, r, a.e, Dialect{}, &facts, id)
	if done {
		return p
	}
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	conv := tx.Session().Conversation(scenarios.APIConversations, id)
	if conv == nil { // evicted while the rules' latency ran
		tx.End()
		return notFound()
	}
	msgs := conv.Tail(limit)
	out := conversationMessages{ConversationID: conv.ID, Messages: make([]message, len(msgs))}
	for i, m := range msgs {
		out.Messages[i] = messageOf(m)
	}
	tx.End()
	writeEnvelope(x, wire.RespondStatus(resp, http.StatusOK), msgRetrieved, out)
	return nil
}

// holds reports whether the request's session holds conversation id.
func (a *API) holds(x *wire.Exchange, r *http.Request, id string) bool {
	tx := a.e.Begin(x.Set, wire.SessionID(r))
	defer tx.End()
	return tx.Session().Conversation(scenarios.APIConversations, id) != nil
}

// queryLimit reads ?limit=N (1–1000).
func queryLimit(r *http.Request, def int) (int, *wire.Problem) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, problem(http.StatusBadRequest, msgLimit)
	}
	return n, nil
}
