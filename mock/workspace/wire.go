package workspace

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/msgmock/msgmock/mock/pydantic"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// The Workspace Messages API's wire format (seed 001): a FastAPI service.
// Errors are {"detail": …}; validation errors are Pydantic's (package pydantic);
// a body that is not JSON gets CPython's parser message (pydantic.Parse).

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

// writeFastAPI writes v as a FastAPI service does: compact JSON with
// U+2028 and U+2029 written as they are (Go escapes them; Python does not).
func writeFastAPI(w http.ResponseWriter, status int, v any) {
	wire.WriteJSONEdited(w, status, v, unescapeSeparators)
}

// Dialect is the Workspace API's side of what the two APIs answer
// differently (wire.Dialect).
type Dialect struct{}

var _ wire.Dialect = Dialect{}

// API names the Workspace API.
func (Dialect) API() scenarios.API { return scenarios.APIWorkspace }

// WriteProblem answers p as the FastAPI service does: {"detail": …} with
// SPEC §5's text for its status unless p gives one, a validation list
// when p carries one (Detail), Starlette's own texts for routing.
func (Dialect) WriteProblem(w http.ResponseWriter, p *wire.Problem) {
	switch d := p.Detail.(type) {
	case []pydantic.Error:
		writeValidation(w, d)
		return
	case starletteError:
		writeServerError(w)
		return
	}
	if p.Status == http.StatusInternalServerError && p.Kind == wire.Internal {
		writeDetail(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	message := p.Message
	switch p.Kind {
	case wire.NoRoute:
		writeDetail(w, p.Status, "Not Found")
		return
	case wire.NoMethod:
		writeDetail(w, p.Status, "Method Not Allowed")
		return
	case wire.UnknownScenario:
		writeDetail(w, p.Status, "Unknown scenario: "+p.Subject)
		return
	}
	h := w.Header()
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", "Bearer")
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" { // a rate limit's, or a rule's, wins
			h.Set("Retry-After", "1")
		}
	}
	if p.Status == http.StatusUnprocessableEntity && message == "" {
		writeValidation(w, []pydantic.Error{{Type: "value_error", Loc: pydantic.Loc("body"), Msg: "Value error, scripted failure", Input: nil}})
		return
	}
	if message == "" {
		message = defaultDetail(p.Status)
	}
	writeDetail(w, p.Status, message)
}

// MalformedBody is the malformed fault's truncated 201.
func (Dialect) MalformedBody() []byte { return []byte(`[{"conversation_id":"`) }

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

// Problems the API's own checks return.
func problem(status int, message string) *wire.Problem {
	return &wire.Problem{Status: status, Message: message}
}

func invalid(errs ...pydantic.Error) *wire.Problem {
	return &wire.Problem{Status: http.StatusUnprocessableEntity, Detail: errs}
}

// serverError is Starlette's text/plain 500 of an answer FastAPI cannot
// encode.
var serverError = &wire.Problem{Status: http.StatusInternalServerError, Detail: starletteError{}}

type starletteError struct{}

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

// message is a Message as the seed's response lists it: all 17 keys,
// in the response model's order, null where unset.
type message struct {
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

func messageOf(m *state.Message) message {
	ts := Timestamp(m.CreatedAt)
	meta := m.Metadata
	if meta == nil {
		meta = json.RawMessage(`{}`)
	}
	return message{
		ConversationID: m.ConversationID, SenderID: m.SenderID, Content: m.Text, WorkspaceID: m.WorkspaceID,
		CreatedAt: ts, UpdatedAt: ts, ID: m.ID, Role: m.Role, ToolCalls: m.ToolCalls,
		MessageType: m.MessageType, Tags: m.Tags, Checksum: m.Checksum, Attachments: m.Attachments,
		ParentMessageID: parentOf(m), MetaData: meta, SentAt: pydantic.TimeOf(m.SentAt, m.SentNaive).String(), OwnerID: nullable(m.OwnerID),
	}
}

// Message is a stored message as the API shows it.
func (Dialect) Message(m *state.Message) any { return messageOf(m) }

// Timestamp renders an instant as the API writes its timestamps.
func (Dialect) Timestamp(t time.Time) string { return Timestamp(t) }

// Timestamp renders an instant in UTC as Pydantic serialises a datetime.
func Timestamp(t time.Time) string { return pydantic.Timestamp(t) }

// unescapeSeparators turns the escapes \u2028 and \u2029 that
// encoding/json writes back into the characters, leaving an escaped
// backslash followed by "u2028" alone.
func unescapeSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' && i+5 < len(b) && string(b[i+2:i+5]) == "202" && (b[i+5] == '8' || b[i+5] == '9') {
				out = append(out, 0xe2, 0x80, 0xa8+(b[i+5]-'8'))
				i += 5
				continue
			}
			out = append(out, b[i], b[i+1])
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// appendJSON appends m as encoding/json would encode it (see
// wire.AppendJSONString); writeMessages then writes U+2028 and U+2029
// raw, as Python does.
func (m *message) appendJSON(b []byte) []byte {
	str := func(key, v string) {
		b = append(b, key...)
		b = wire.AppendJSONString(b, v)
	}
	raw := func(key string, v json.RawMessage) {
		b = append(b, key...)
		b = wire.AppendJSONRaw(b, v)
	}
	ptr := func(key string, v *string) {
		b = append(b, key...)
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = wire.AppendJSONString(b, *v)
		}
	}
	str(`{"conversation_id":`, m.ConversationID)
	str(`,"sender_id":`, m.SenderID)
	str(`,"content":`, m.Content)
	str(`,"workspace_id":`, m.WorkspaceID)
	str(`,"created_at":`, m.CreatedAt)
	str(`,"updated_at":`, m.UpdatedAt)
	str(`,"id":`, m.ID)
	str(`,"role":`, m.Role)
	raw(`,"tool_calls":`, m.ToolCalls)
	str(`,"message_type":`, m.MessageType)
	raw(`,"tags":`, m.Tags)
	str(`,"checksum":`, m.Checksum)
	raw(`,"attachments":`, m.Attachments)
	ptr(`,"parent_message_id":`, m.ParentMessageID)
	raw(`,"meta_data":`, m.MetaData)
	str(`,"sent_at":`, m.SentAt)
	ptr(`,"owner_id":`, m.OwnerID)
	return append(b, '}')
}

// writeMessages answers a list of messages as the service does.
func writeMessages(w http.ResponseWriter, status int, list []message) {
	wire.WriteAppended(w, status, func(b []byte) []byte {
		b = append(b, '[')
		for i := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = list[i].appendJSON(b)
		}
		return append(b, ']')
	}, unescapeSeparators)
}
