package mock

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// The Conversations API's wire format (seed 000): the envelope, its
// messages, and the documented error texts. Error messages are data,
// written here once, never built from Go errors.

const (
	msgSent             = "Message sent successfully."
	msgRetrieved        = "Messages retrieved successfully."
	msgEventsRetrieved  = "Events retrieved successfully."
	msgInvalidToken     = "Invalid or expired token."
	msgContentType      = "Header 'Content-Type' must be application/json."
	msgTooLarge         = "Request body too large."
	msgNotObject        = "Request body must be a valid JSON object."
	msgEnqueueFailed    = "Failed to enqueue message. Please retry."
	msgResourceNotFound = "Resource not found."
	msgMethodNotAllowed = "Method not allowed."
)

type envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func writeEnvelopeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, envelope{Status: "error", Message: message, Data: nil})
}

func writeEnvelope(w http.ResponseWriter, status int, message string, data any) {
	writeJSON(w, status, envelope{Status: "success", Message: message, Data: data})
}

// conversationsError answers status in the envelope with the documented
// default message (SPEC §5's table); convID names the conversation a 404 is about.
func conversationsError(w http.ResponseWriter, status int, message, convID string) {
	if message == "" {
		message = defaultMessageA(status, convID)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeEnvelopeError(w, status, message)
}

func defaultMessageA(status int, convID string) string {
	switch status {
	case 400:
		return "Bad request."
	case 401:
		return msgInvalidToken
	case 403:
		return "Forbidden."
	case 404:
		if convID != "" {
			return "Conversation not found: " + convID + "."
		}
		return msgResourceNotFound
	case 413:
		return msgTooLarge
	case 422:
		return "Unprocessable request."
	case 429:
		return "Rate limit exceeded. Please retry later."
	case 500:
		return msgEnqueueFailed
	case 503:
		return "Service temporarily unavailable. Please retry."
	}
	if text := http.StatusText(status); text != "" {
		return text + "."
	}
	return "Error " + strconv.Itoa(status) + "."
}

// wireMessageA is a message as the Conversations API shows it.
type wireMessageA struct {
	ID         string          `json:"id"`
	SenderID   string          `json:"sender_id"`
	SenderType string          `json:"sender_type"`
	Text       string          `json:"text"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	ReplyTo    string          `json:"reply_to_message_id,omitempty"`
	CreatedAt  string          `json:"created_at"`
}

func messageA(m *state.Message) wireMessageA {
	return wireMessageA{
		ID: m.ID, SenderID: m.SenderID, SenderType: m.Role, Text: m.Text,
		Metadata: m.Metadata, ReplyTo: m.ReplyTo, CreatedAt: timestampA(m.CreatedAt),
	}
}

type sentA struct {
	ConversationID    string       `json:"conversation_id"`
	Message           wireMessageA `json:"message"`
	AutoReplyEnqueued bool         `json:"auto_reply_enqueued"`
}

type conversationMessagesA struct {
	ConversationID string         `json:"conversation_id"`
	Messages       []wireMessageA `json:"messages"`
}

// sendRequestA is a validated POST /v1/messages body.
type sendRequestA struct {
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
	fieldCountA
)

var fieldNamesA = [fieldCountA]string{"conversation_id", "sender_id", "sender_type", "text", "reply_to_message_id", "metadata", "auto_reply"}

// decodeSendA validates a body; a non-empty second result is the 400 message.
func decodeSendA(body []byte) (sendRequestA, string) {
	var raw [fieldCountA][]byte
	if !objectMembers(body, func(key, val []byte) {
		for i, name := range fieldNamesA {
			if string(key) == name {
				raw[i] = val
				return
			}
		}
	}) {
		return sendRequestA{}, msgNotObject
	}
	req := sendRequestA{AutoReply: true}
	for i, v := range raw {
		name := fieldNamesA[i]
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

// authorizeA checks the Conversations API's bearer token.
func authorizeA(r *http.Request, set *scenarios.Set, allowQuery bool) bool {
	key, ok := bearer(r.Header)
	if !ok && allowQuery {
		key = r.URL.Query().Get("access_token")
	}
	_, good := checkKey(set, key)
	return good
}

// handleSendA serves POST /v1/messages, checking in SPEC §2's order.
func (s *Server) handleSendA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := exchangeOf(w)
		set := s.config(w)
		if !authorizeA(r, set, false) {
			writeEnvelopeError(w, http.StatusUnauthorized, msgInvalidToken)
			return
		}
		if !isJSONMediaType(r.Header.Get("Content-Type")) {
			writeEnvelopeError(w, http.StatusBadRequest, msgContentType)
			return
		}
		body, tooLarge, ok := readBody(r, set.Settings.BodyLimit)
		if !ok {
			return
		}
		ex.body = body
		if tooLarge {
			writeEnvelopeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return
		}
		req, problem := decodeSendA(body)
		if problem != "" {
			writeEnvelopeError(w, http.StatusBadRequest, problem)
			return
		}
		s.sendA(w, r, set, req)
	})
}

// sendA runs the checks that need the session (existence, scenario rules)
// and stores the message.
func (s *Server) sendA(w http.ResponseWriter, r *http.Request, set *scenarios.Set, req sendRequestA) {
	sess := s.lockSession(r, set)
	var conv *state.Conversation
	if req.ConversationID != "" {
		if conv = sess.Conversation(scenarios.APIConversations, req.ConversationID); conv == nil {
			sess.Unlock()
			if !s.passThrough(w, r, set, scenarios.APIConversations) {
				writeEnvelopeError(w, http.StatusNotFound, "Conversation not found: "+req.ConversationID+".")
			}
			return
		}
	} else if !set.Settings.AutoCreate {
		sess.Unlock()
		writeEnvelopeError(w, http.StatusBadRequest, "Field 'conversation_id' is required.")
		return
	}
	if req.ReplyTo != "" {
		if m := sess.Message(req.ReplyTo); m == nil || conv == nil || m.ConversationID != conv.ID {
			sess.Unlock()
			writeEnvelopeError(w, http.StatusNotFound, "Message not found: "+req.ReplyTo+".")
			return
		}
	}
	if code := preferredCode(r.Header); code != 0 {
		sess.Unlock()
		conversationsError(w, code, "", req.ConversationID)
		return
	}
	// 5. Scenario rules.
	facts := factsA(r, req)
	outcome, done := s.applyRules(w, r, set, sess, &facts, req.ConversationID)
	if done {
		return
	}
	// 6. Store and answer.
	now := s.clock.Now()
	if conv == nil {
		conv = sess.NewConversation(scenarios.APIConversations, "", now)
	}
	m := &state.Message{
		ID: sess.NewMessageID(scenarios.APIConversations), ConversationID: conv.ID, API: scenarios.APIConversations,
		SenderID: req.SenderID, Role: req.SenderType, Text: req.Text, Metadata: req.Metadata,
		ReplyTo: req.ReplyTo, CreatedAt: now,
	}
	_, scheduled := s.storeWithReplies(sess, conv, m, outcome.rule, req.AutoReply, r, now)
	if !s.clock.Sleep(r.Context(), outcome.latency) {
		return
	}
	resp := outcome.respond
	applyHeaders(w, resp)
	if resp != nil && resp.Body != nil {
		writeRaw(w, respondStatus(resp, http.StatusOK), resp.Body)
		return
	}
	writeEnvelope(w, respondStatus(resp, http.StatusOK), msgSent, sentA{ConversationID: conv.ID, Message: messageA(m), AutoReplyEnqueued: scheduled > 0})
}

// handleConversationMessagesA serves GET /v1/conversations/{id}/messages.
func (s *Server) handleConversationMessagesA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := s.config(w)
		if !authorizeA(r, set, false) {
			writeEnvelopeError(w, http.StatusUnauthorized, msgInvalidToken)
			return
		}
		limit, ok := queryLimitA(w, r, 100)
		if !ok {
			return
		}
		id := pathVar(w, "id")
		sess := s.lockSession(r, set)
		conv := sess.Conversation(scenarios.APIConversations, id)
		if conv == nil {
			sess.Unlock()
			if !s.passThrough(w, r, set, scenarios.APIConversations) {
				writeEnvelopeError(w, http.StatusNotFound, "Conversation not found: "+id+".")
			}
			return
		}
		msgs := conv.Messages()
		if len(msgs) > limit {
			msgs = msgs[len(msgs)-limit:]
		}
		out := conversationMessagesA{ConversationID: conv.ID, Messages: make([]wireMessageA, len(msgs))}
		for i, m := range msgs {
			out.Messages[i] = messageA(m)
		}
		sess.Unlock()
		writeEnvelope(w, http.StatusOK, msgRetrieved, out)
	})
}

// queryLimitA reads ?limit=N (1–1000); a bad value answers 400 in the envelope.
func queryLimitA(w http.ResponseWriter, r *http.Request, def int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		writeEnvelopeError(w, http.StatusBadRequest, "Query parameter 'limit' must be an integer from 1 to 1000.")
		return 0, false
	}
	return n, true
}
