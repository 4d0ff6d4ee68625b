package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// DefaultWorkspace is the workspace of requests that name none and whose
// key has none.
const DefaultWorkspace = "wsp_default"

// Message is a message as a writer makes it and a reader gets it. One type
// serves both APIs: each API's wire file renders the fields it documents.
// The session keeps it as a record in its arena; a reader gets a copy
// decoded from it, its own to keep after the session's lock.
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

	// The record a session wrote of it (a streamed reply's chunks are
	// logged before it is stored: storing it rewrites that record, so that
	// its chunks' events show it as stored, as they did when they shared
	// the pointer).
	owner *arena
	rec   handle
	gen   uint32
}

// Size approximates the bytes a message holds while it waits to be stored
// (a scheduled reply): its text and a struct's worth.
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

// Event is one entry of a session's event log, as a reader gets it: a
// message stored, or a chunk of a streamed reply. The log keeps each as a
// fixed-size record (eventRec).
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

// EventID is an event's id without its "evt_" prefix: eight characters
// drawn by NewEventID. The log keeps it as eight bytes.
type EventID [8]byte

const eventIDPrefix = "evt_"

func (id EventID) String() string { return eventIDPrefix + string(id[:]) }

// key is id as the event index's key.
func (id EventID) key() uint64 { return binary.LittleEndian.Uint64(id[:]) }

func parseEventID(s string) (EventID, bool) {
	var id EventID
	rest, ok := strings.CutPrefix(s, eventIDPrefix)
	if !ok || len(rest) != len(id) {
		return id, false
	}
	copy(id[:], rest)
	return id, true
}

// eventRec is an event as the log keeps it: no pointer, a fixed size.
type eventRec struct {
	seq   uint64
	id    EventID
	at    [timeSize]byte
	msg   handle // the message, which the event holds
	delta handle // a chunk's text, 0 when empty
	typ   uint8  // eventCreated or eventDelta
	fault DeliveryFault
}

const (
	eventCreated = iota
	eventDelta
)

var eventTypes = [...]string{eventCreated: MessageCreated, eventDelta: MessageDelta}

// EventFilter selects events by their message: of an API, a conversation,
// a workspace ("": any). Sessions test it on the records, decoding none.
type EventFilter struct {
	API            scenarios.API
	ConversationID string
	WorkspaceID    string
}

func (f *EventFilter) matches(v *msgView) bool {
	return (f.API == "" || string(v.field(fAPI)) == string(f.API)) &&
		(f.ConversationID == "" || string(v.field(fConversationID)) == f.ConversationID) &&
		(f.WorkspaceID == "" || string(v.field(fWorkspaceID)) == f.WorkspaceID)
}

// Conversation is a conversation of one API in one session.
type Conversation struct {
	ID          string
	API         scenarios.API
	WorkspaceID string
	CreatedAt   time.Time
	Fixture     bool // preloaded by the fixtures: never evicted whole

	arena    *arena       // where its messages are: the session's when it was made
	messages ring[handle] // oldest first
}

// Len is how many messages the conversation holds. Call the
// conversation's methods with its session locked.
func (c *Conversation) Len() int { return c.messages.len() }

// Messages returns the conversation's messages, oldest first, decoded:
// the caller's to keep.
func (c *Conversation) Messages() []*Message { return c.Tail(c.Len()) }

// Tail returns the conversation's last n messages (all when it holds
// fewer), oldest first, decoded.
func (c *Conversation) Tail(n int) []*Message {
	n = min(n, c.messages.len())
	out := make([]*Message, n)
	from := c.messages.len() - n
	for i := range out {
		v := viewMessage(c.arena.bytes(c.messages.at(from + i)))
		out[i] = v.decode()
	}
	return out
}

// LastCreatedAt is when its newest message was stored (false: it holds none).
func (c *Conversation) LastCreatedAt() (time.Time, bool) {
	if c.messages.len() == 0 {
		return time.Time{}, false
	}
	return getTime(c.arena.bytes(c.messages.at(c.messages.len() - 1))[1:]), true
}

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
