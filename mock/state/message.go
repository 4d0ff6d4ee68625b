package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// DefaultWorkspace is the workspace of requests that name none and whose
// key has none.
const DefaultWorkspace = "wsp_default"

// Message is a stored message. One type serves both APIs: each API's wire
// file renders the fields it documents. Once stored its fields are never
// changed, so events, the journal and readers may share the pointer
// without locks.
type Message struct {
	ID             string
	ConversationID string
	API            scenarios.API
	SenderID       string
	Role           string // sender_type (Conversations) or role (Workspace)
	Text           string // text or content
	Metadata       json.RawMessage
	ReplyTo        string // reply_to_message_id or parent_message_id
	HasReplyTo     bool   // the Workspace API's parent_message_id was given, even as ""
	CreatedAt      time.Time

	// Workspace API only.
	WorkspaceID string
	OwnerID     string
	MessageType string
	Tags        json.RawMessage
	ToolCalls   json.RawMessage
	Attachments json.RawMessage
	SentAt      time.Time // the request's created_at in the offset it was given in (else when it was stored)
	SentNaive   bool      // created_at was given without an offset (read as UTC)
	Checksum    string

	// What holds it (its conversation, its events), under the session's
	// lock: the message's bytes count while anything does.
	refs int32
	size int64
}

// Size approximates the bytes a message holds, for the memory budget.
func (m *Message) Size() int64 {
	return 400 + int64(len(m.ID)+len(m.ConversationID)+len(m.SenderID)+len(m.Role)+len(m.Text)+len(m.Metadata)+
		len(m.ReplyTo)+len(m.WorkspaceID)+len(m.OwnerID)+len(m.MessageType)+len(m.Tags)+len(m.ToolCalls)+
		len(m.Attachments)+len(m.Checksum))
}

// Checksum is a Workspace API message's checksum: hex SHA-256 of its content.
func Checksum(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// Event types.
const (
	MessageCreated = "message.created"
	MessageDelta   = "message.delta"
)

// Event is one entry of a session's event log: a message stored, or a
// chunk of a streamed reply.
type Event struct {
	ID        string
	Seq       uint64
	Type      string // MessageCreated or MessageDelta
	CreatedAt time.Time
	Message   *Message
	Delta     string // MessageDelta only
	// Fault is what a scripted mid-stream fault does to the chunk as it is
	// delivered live (SSE, webhooks); the log holds the chunk as it is.
	Fault DeliveryFault
}

// DeliveryFault is a set of mid-stream faults scripted on one chunk.
type DeliveryFault uint8

const (
	// FaultDrop: the connection that delivers the chunk drops right after it.
	FaultDrop DeliveryFault = 1 << iota
	// FaultMalformed: the chunk's frame is sent broken.
	FaultMalformed
	// FaultRepeat: the chunk is delivered twice.
	FaultRepeat
)

// eventOverhead is what an event costs besides its message and delta.
const eventOverhead = 160

func (ev *Event) size() int64 { return eventOverhead + int64(len(ev.ID)+len(ev.Delta)) }

// Conversation is a conversation of one API in one session.
type Conversation struct {
	ID          string
	API         scenarios.API
	WorkspaceID string
	CreatedAt   time.Time
	Fixture     bool // preloaded by the fixtures: never evicted whole
	messages    []*Message
}

// Messages returns the conversation's messages, oldest first. The slice is
// the conversation's own: read it, with the session locked, and copy what
// must outlive the lock.
func (c *Conversation) Messages() []*Message { return c.messages }

func fixtureMessage(c *Conversation, fm scenarios.Message) *Message {
	m := &Message{
		ID: fm.ID, ConversationID: c.ID, API: c.API, SenderID: fm.SenderID, Role: fm.Role,
		Text: fm.Text, Metadata: fm.Metadata, ReplyTo: fm.ReplyTo, CreatedAt: fm.CreatedAt,
	}
	if c.API == scenarios.APIWorkspace {
		m.WorkspaceID, m.OwnerID, m.MessageType = c.WorkspaceID, fm.OwnerID, fm.MessageType
		m.ToolCalls, m.Attachments, m.SentAt = fm.ToolCalls, fm.Attachments, fm.CreatedAt
		if fm.Tags != nil {
			m.Tags, _ = json.Marshal(fm.Tags)
		}
		if m.Metadata == nil {
			m.Metadata = json.RawMessage(`{}`)
		}
		m.Checksum = Checksum(m.Text)
	}
	return m
}
