package conversations

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
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
	msgLimit            = "Query parameter 'limit' must be an integer from 1 to 1000."
)

type envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func writeEnvelope(w http.ResponseWriter, status int, message string, data any) {
	wire.WriteJSON(w, status, envelope{Status: "success", Message: message, Data: data})
}

// Dialect is the Conversations API's side of what the two APIs answer
// differently (wire.Dialect).
type Dialect struct{}

var _ wire.Dialect = Dialect{}

// API names the Conversations API.
func (Dialect) API() scenarios.API { return scenarios.APIConversations }

// WriteProblem answers p in the envelope, with SPEC §5's text for its
// status unless p gives one; 429 and 503 say when to retry (Retry-After:
// 1, unless the caller set one: a rate limit or a rule).
func (Dialect) WriteProblem(w http.ResponseWriter, p *wire.Problem) {
	message := p.Message
	if message == "" {
		switch p.Kind {
		case wire.NoRoute:
			message = msgResourceNotFound
		case wire.NoMethod:
			message = msgMethodNotAllowed
		case wire.UnknownScenario:
			message = "Unknown scenario: " + p.Subject + "."
		default:
			message = defaultMessage(p.Status, p.Subject)
		}
	}
	if (p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	wire.WriteJSON(w, p.Status, envelope{Status: "error", Message: message, Data: nil})
}

// defaultMessage is SPEC §5's text for status; a 404 names the
// conversation the request names, if any.
func defaultMessage(status int, convID string) string {
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

// problem is a 4xx with its documented text.
func problem(status int, message string) *wire.Problem {
	return &wire.Problem{Status: status, Message: message}
}

// MalformedBody is the malformed fault's truncated 200.
func (Dialect) MalformedBody() []byte {
	return []byte(`{"status":"success","message":"Message sent successfully.","data":{"conversation_id":"`)
}

// message is a message as the Conversations API shows it.
type message struct {
	ID         string          `json:"id"`
	SenderID   string          `json:"sender_id"`
	SenderType string          `json:"sender_type"`
	Text       string          `json:"text"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	ReplyTo    string          `json:"reply_to_message_id,omitempty"`
	CreatedAt  string          `json:"created_at"`
}

func messageOf(m *state.Message) message {
	return message{
		ID: m.ID, SenderID: m.SenderID, SenderType: m.Role, Text: m.Text,
		Metadata: m.Metadata, ReplyTo: m.ReplyTo, CreatedAt: Timestamp(m.CreatedAt),
	}
}

// Message is a stored message as the API shows it.
func (Dialect) Message(m *state.Message) any { return messageOf(m) }

// Timestamp renders an instant as the API writes its timestamps.
func (Dialect) Timestamp(t time.Time) string { return Timestamp(t) }

// Timestamp renders a Conversations API timestamp: RFC 3339, UTC, whole
// seconds. The last second rendered is kept: under load most requests of a
// second share it instead of formatting it again.
func Timestamp(t time.Time) string {
	sec := t.Unix()
	if c := lastStamp.Load(); c != nil && c.sec == sec {
		return c.text
	}
	text := t.UTC().Truncate(time.Second).Format(time.RFC3339)
	lastStamp.Store(&stamp{sec: sec, text: text})
	return text
}

type stamp struct {
	sec  int64
	text string
}

var lastStamp atomic.Pointer[stamp]

type sent struct {
	ConversationID    string  `json:"conversation_id"`
	Message           message `json:"message"`
	AutoReplyEnqueued bool    `json:"auto_reply_enqueued"`
}

type conversationMessages struct {
	ConversationID string    `json:"conversation_id"`
	Messages       []message `json:"messages"`
}

// appendJSON appends m as encoding/json would encode it (see
// wire.AppendJSONString).
func (m *message) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = wire.AppendJSONString(b, m.ID)
	b = append(b, `,"sender_id":`...)
	b = wire.AppendJSONString(b, m.SenderID)
	b = append(b, `,"sender_type":`...)
	b = wire.AppendJSONString(b, m.SenderType)
	b = append(b, `,"text":`...)
	b = wire.AppendJSONString(b, m.Text)
	if len(m.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		b = wire.AppendJSONRaw(b, m.Metadata)
	}
	if m.ReplyTo != "" {
		b = append(b, `,"reply_to_message_id":`...)
		b = wire.AppendJSONString(b, m.ReplyTo)
	}
	b = append(b, `,"created_at":`...)
	b = wire.AppendJSONString(b, m.CreatedAt)
	return append(b, '}')
}

// writeSent answers a stored message: the envelope of sent, by hand.
func writeSent(w http.ResponseWriter, status int, s *sent) {
	wire.WriteAppended(w, status, func(b []byte) []byte {
		b = append(b, `{"status":"success","message":"`+msgSent+`","data":{"conversation_id":`...)
		b = wire.AppendJSONString(b, s.ConversationID)
		b = append(b, `,"message":`...)
		b = s.Message.appendJSON(b)
		if s.AutoReplyEnqueued {
			return append(b, `,"auto_reply_enqueued":true}}`...)
		}
		return append(b, `,"auto_reply_enqueued":false}}`...)
	}, nil)
}
