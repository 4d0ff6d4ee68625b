package scenarios

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	"gopkg.in/yaml.v3"
)

// API names one of the two APIs msgmock serves.
type API string

const (
	// APIConversations is the Conversations API (POST /v1/messages).
	APIConversations API = "conversations"
	// APIWorkspace is the Workspace Messages API (POST /api/v1/messages).
	APIWorkspace API = "workspace"
)

// FixtureEpoch stamps preloaded conversations that give no created_at, so
// that fixtures render the same on every run whatever the clock says.
var FixtureEpoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// Conversation is a conversation the fixtures preload.
type Conversation struct {
	ID          string
	API         API
	WorkspaceID string // workspace API only; "" means wsp_default
	CreatedAt   time.Time
	Messages    []Message
	File        string
}

// Message is a preloaded message. Role is sender_type for the Conversations
// API and role for the Workspace API; Text is text or content.
type Message struct {
	ID          string
	SenderID    string
	Role        string
	Text        string
	Metadata    json.RawMessage
	ReplyTo     string
	MessageType string
	Tags        []string
	ToolCalls   json.RawMessage
	Attachments json.RawMessage
	OwnerID     string
	CreatedAt   time.Time
}

var (
	conversationKeys = []string{"id", "api", "workspace_id", "created_at", "messages", "generate"}
	messageKeysA     = []string{"id", "sender_id", "sender_type", "text", "metadata", "reply_to_message_id", "created_at"}
	messageKeysB     = []string{"id", "sender_id", "role", "content", "meta_data", "parent_message_id", "message_type", "tags", "tool_calls", "attachments", "owner_id", "created_at"}
)

func (r *reader) conversations(n *yaml.Node) []Conversation {
	var out []Conversation
	for i, item := range r.seq(n, "conversations") {
		out = append(out, r.conversation(item, i)...)
	}
	return out
}

func (r *reader) conversation(n *yaml.Node, index int) []Conversation {
	what := fmt.Sprintf("conversations[%d]", index)
	f := r.fields(n, what, conversationKeys...)
	if f == nil {
		return nil
	}
	c := Conversation{API: APIConversations, CreatedAt: FixtureEpoch, File: r.file}
	if v := f["api"]; v != nil {
		if s, ok := r.str(v, what+".api"); ok {
			switch API(s) {
			case APIConversations, APIWorkspace:
				c.API = API(s)
			default:
				r.errorf(v, "%s.api must be conversations or workspace, got %q", what, s)
			}
		}
	}
	if v := f["workspace_id"]; v != nil {
		if c.API != APIWorkspace {
			r.errorf(v, "%s.workspace_id applies only to api: workspace", what)
		}
		c.WorkspaceID, _ = r.nonEmpty(v, what+".workspace_id")
	}
	if v := f["created_at"]; v != nil {
		if t, ok := r.timestamp(v, what+".created_at"); ok {
			c.CreatedAt = t
		}
	}
	if g := f["generate"]; g != nil {
		for _, k := range []string{"id", "messages"} {
			if f[k] != nil {
				r.errorf(f[k], "%s: %s cannot be combined with generate", what, k)
			}
		}
		return r.generate(g, what, index, c)
	}
	idNode := f["id"]
	if idNode == nil {
		r.errorf(n, "%s: id is required (or use generate: {count, messages})", what)
		return nil
	}
	c.ID, _ = r.nonEmpty(idNode, what+".id")
	if v := f["messages"]; v != nil {
		seen := map[string]bool{}
		for j, m := range r.seq(v, what+".messages") {
			msg, ok := r.message(m, fmt.Sprintf("%s.messages[%d]", what, j), c, j)
			if !ok {
				continue
			}
			if seen[msg.ID] {
				r.errorf(m, "%s.messages[%d]: duplicate message id %q", what, j, msg.ID)
				continue
			}
			if msg.ReplyTo != "" && !seen[msg.ReplyTo] {
				r.errorf(m, "%s.messages[%d]: replies to %q, which is not an earlier message of this conversation", what, j, msg.ReplyTo)
			}
			seen[msg.ID] = true
			c.Messages = append(c.Messages, msg)
		}
	}
	return []Conversation{c}
}

func (r *reader) message(n *yaml.Node, what string, c Conversation, index int) (Message, bool) {
	keys := messageKeysA
	if c.API == APIWorkspace {
		keys = messageKeysB
	}
	f := r.fields(n, what, keys...)
	if f == nil {
		return Message{}, false
	}
	before := len(*r.probs)
	m := Message{
		ID:        stableID(c.API, "msg", fmt.Sprintf("%s/%d", c.ID, index)),
		CreatedAt: c.CreatedAt.Add(time.Duration(index) * time.Minute),
	}
	roleKey, textKey, metaKey, replyKey := "sender_type", "text", "metadata", "reply_to_message_id"
	if c.API == APIWorkspace {
		roleKey, textKey, metaKey, replyKey = "role", "content", "meta_data", "parent_message_id"
		m.Role, m.MessageType = "user", "text"
	}
	if v := f["id"]; v != nil {
		m.ID, _ = r.nonEmpty(v, what+".id")
	}
	for _, req := range []string{"sender_id", textKey} {
		if f[req] == nil {
			r.errorf(n, "%s: %s is required", what, req)
		}
	}
	if v := f["sender_id"]; v != nil {
		m.SenderID, _ = r.nonEmpty(v, what+".sender_id")
	}
	if v := f[textKey]; v != nil {
		m.Text, _ = r.str(v, what+"."+textKey)
	}
	if v := f[roleKey]; v != nil {
		m.Role, _ = r.nonEmpty(v, what+"."+roleKey)
		if c.API == APIConversations && m.Role != "" && m.Role != "user" && m.Role != "agent" && m.Role != "system" {
			r.errorf(v, "%s.sender_type must be one of: user, agent, system; got %q", what, m.Role)
		}
	} else if c.API == APIConversations {
		r.errorf(n, "%s: sender_type is required", what)
	}
	if v := f[metaKey]; v != nil {
		m.Metadata, _ = r.jsonObject(v, what+"."+metaKey)
	}
	if v := f[replyKey]; v != nil {
		m.ReplyTo, _ = r.nonEmpty(v, what+"."+replyKey)
	}
	if v := f["message_type"]; v != nil {
		m.MessageType, _ = r.nonEmpty(v, what+".message_type")
	}
	if v := f["tags"]; v != nil {
		m.Tags, _ = r.strList(v, what+".tags")
	}
	if v := f["tool_calls"]; v != nil {
		m.ToolCalls, _ = r.jsonValue(v, what+".tool_calls")
	}
	if v := f["attachments"]; v != nil {
		m.Attachments, _ = r.jsonValue(v, what+".attachments")
	}
	if v := f["owner_id"]; v != nil {
		m.OwnerID, _ = r.str(v, what+".owner_id")
	}
	if v := f["created_at"]; v != nil {
		if t, ok := r.timestamp(v, what+".created_at"); ok {
			m.CreatedAt = t
		}
	}
	return m, len(*r.probs) == before
}

func (r *reader) generate(n *yaml.Node, what string, index int, proto Conversation) []Conversation {
	f := r.fields(n, what+".generate", "count", "messages")
	if f == nil {
		return nil
	}
	count, messages := 3, 4
	if v := f["count"]; v != nil {
		count, _ = r.integer(v, what+".generate.count", 1, 1000)
	}
	if v := f["messages"]; v != nil {
		messages, _ = r.integer(v, what+".generate.messages", 0, 1000)
	}
	// Every session holds its own copy of the fixtures: a few lines of YAML
	// must not ask for millions of messages.
	if count*messages > maxGenerated {
		r.errorf(n, "%s.generate asks for %d messages (count × messages); at most %d", what, count*messages, maxGenerated)
		return nil
	}
	// Seeded from the file and position, not from --seed, so that generated
	// fixtures are the same on every run and across reloads of other files.
	h := fnv.New64a()
	fmt.Fprintf(h, "%s#%d", r.file, index)
	fake := gofakeit.New(h.Sum64() | 1)
	out := make([]Conversation, 0, count)
	for i := 0; i < count; i++ {
		c := proto
		c.ID = stableID(proto.API, "conv", fmt.Sprintf("%s#%d/%d", r.file, index, i))
		c.CreatedAt = proto.CreatedAt.Add(time.Duration(i) * time.Hour)
		user := "usr_" + fake.Password(true, false, true, false, false, 6)
		for j := 0; j < messages; j++ {
			m := Message{
				ID:        stableID(proto.API, "msg", fmt.Sprintf("%s/%d", c.ID, j)),
				SenderID:  user,
				Role:      "user",
				Text:      fake.Question(),
				CreatedAt: c.CreatedAt.Add(time.Duration(j) * time.Minute),
			}
			if j%2 == 1 {
				m.SenderID, m.Text = "agt_assistant", fake.Sentence()
				m.Role = "agent"
				if proto.API == APIWorkspace {
					m.Role = "assistant"
				}
			}
			if proto.API == APIWorkspace {
				m.MessageType = "text"
			}
			c.Messages = append(c.Messages, m)
		}
		out = append(out, c)
	}
	return out
}

// maxGenerated bounds the messages one generate entry makes.
const maxGenerated = 20_000

// stableID derives an id in the API's format from a fixture's position, so
// that fixtures without explicit ids keep the same ids on every load.
func stableID(api API, kind, key string) string {
	sum := sha256.Sum256([]byte(kind + ":" + key))
	if api == APIWorkspace {
		prefix := "msg_"
		if kind == "conv" {
			prefix = "conv_"
		}
		return prefix + fmt.Sprintf("%x", sum[:8])
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	prefix, n := "msg_", 6
	if kind == "conv" {
		prefix, n = "con_", 7
	}
	b := []byte(prefix)
	for i := 0; i < n; i++ {
		b = append(b, alphabet[int(sum[i])%len(alphabet)])
	}
	return string(b)
}
