// Package capture turns what the two APIs answered into fixtures files:
// the conversations and messages the answers showed, and a scenario whose
// rules give recorded answers again — with every credential seen replaced
// by <redacted>. `msgmock record` feeds it live traffic (mock/record);
// `msgmock import` a browser's HAR (mock/importer). It has no HTTP server
// side and imports nothing of the mock package, so that the admin API can
// use it too.
//
// # Conversations
//
// A Book reads the successful answers of both APIs as record always has:
// a send's answer, a listing, a message, the events feed. A listing
// without ?limit sets a conversation's order; the file lists messages
// oldest first (a tie keeps the order seen). A message that replies to one
// the answers never showed loses its reply_to_message_id /
// parent_message_id, since a fixture may only reply to an earlier message
// of its conversation.
//
// # Redaction
//
// Every credential noted is replaced by <redacted> in every string the
// files hold — values, keys and comments — before the YAML is written, so
// that quoting or escaping cannot hide one; then once more in the written
// text. Noted are: the values of headers, query parameters and JSON
// fields whose name says auth, token, key, secret, password, session,
// csrf, signature or credential (not WWW-Authenticate, a challenge, nor
// the CORS headers that merely name such headers); the token of an
// Authorization value and a Basic one's user and password; a URL's user
// information; a cookie's value when its name is one of those or the
// value is token-long (16 characters or more: theme=dark is not a
// secret). Values shorter than four characters, and the words true,
// false, null, bearer, basic, are never noted: they would redact ordinary
// words.
package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/scenarios"
)

// Book collects what answers showed. It is not safe for concurrent use.
type Book struct {
	convs   map[string]*conversation // by api + " " + id
	order   []*conversation
	secrets map[string]bool
}

type conversation struct {
	api         scenarios.API
	id          string
	workspaceID string
	createdAt   string
	messages    map[string]Message
	order       []string
}

// Message is a message as its API showed it: the keys a fixtures file
// holds, in the order it lists them.
type Message []Field

// Field is one key of a message or a rule, with its value: a string, a
// number, a bool, nil, or JSON as DecodeJSON gives it.
type Field struct {
	Key   string
	Value any
}

// Get is the value at key, or nil.
func (m Message) Get(key string) any {
	for _, f := range m {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// String is the value at key when it is a string, else "".
func (m Message) String(key string) string { s, _ := m.Get(key).(string); return s }

// JSON is the value at key as JSON (keys in the service's order), or nil.
func (m Message) JSON(key string) json.RawMessage {
	for _, f := range m {
		if f.Key == key {
			return encodeOrdered(f.Value)
		}
	}
	return nil
}

// ID is the message's id.
func (m Message) ID() string { return m.String("id") }

// NewBook returns an empty Book.
func NewBook() *Book {
	return &Book{convs: map[string]*conversation{}, secrets: map[string]bool{}}
}

// Observe reads one successful answer of api to method path?query: the
// messages and conversations it shows. It reports whether anything new
// was learnt; an answer it cannot read teaches nothing.
func (b *Book) Observe(api scenarios.API, method, path string, query url.Values, body []byte) bool {
	v, err := decodeOrdered(body)
	if err != nil {
		return false
	}
	changed := false
	add := func(convID, workspaceID string, m *omap) {
		if convID == "" || m == nil {
			return
		}
		if b.addMessage(api, convID, workspaceID, m) {
			changed = true
		}
	}
	if api == scenarios.APIConversations {
		data := obj(obj(v).get("data"))
		switch {
		case method == "POST" && path == "/v1/messages":
			add(str(data.get("conversation_id")), "", obj(data.get("message")))
		case method == "GET" && strings.HasPrefix(path, "/v1/conversations/"):
			convID := str(data.get("conversation_id"))
			var ids []string
			for _, m := range list(data.get("messages")) {
				add(convID, "", obj(m))
				ids = append(ids, str(obj(m).get("id")))
			}
			if convID != "" && !b.HasConversation(api, convID) {
				b.conversation(api, convID, "") // a conversation listed empty is still one
				changed = true
			}
			// Without ?limit the listing is the whole conversation, in order.
			if c := b.convs[string(api)+" "+convID]; c != nil && query.Get("limit") == "" {
				before := strings.Join(c.order, " ")
				c.listed(ids)
				changed = changed || strings.Join(c.order, " ") != before
			}
		case method == "GET" && path == "/v1/events":
			for _, e := range list(data.get("events")) {
				ev := obj(e)
				if str(ev.get("type")) != "message.created" {
					continue
				}
				d := obj(ev.get("data"))
				add(str(d.get("conversation_id")), "", obj(d.get("message")))
			}
		}
		return changed
	}
	switch {
	case path == "/api/v1/messages": // the 201 of a send, or a list
		for _, m := range list(v) {
			mo := obj(m)
			add(str(mo.get("conversation_id")), str(mo.get("workspace_id")), mo)
		}
	case strings.HasPrefix(path, "/api/v1/messages/"):
		mo := obj(v)
		add(str(mo.get("conversation_id")), str(mo.get("workspace_id")), mo)
	case path == "/api/v1/conversations":
		for _, c := range list(obj(v).get("data")) {
			co := obj(c)
			conv := b.conversation(api, str(co.get("id")), str(co.get("workspace_id")))
			if conv != nil && conv.createdAt == "" && str(co.get("created_at")) != "" {
				conv.createdAt = str(co.get("created_at"))
				changed = true
			}
		}
	}
	return changed
}

func (b *Book) conversation(api scenarios.API, id, workspaceID string) *conversation {
	if id == "" {
		return nil
	}
	key := string(api) + " " + id
	c := b.convs[key]
	if c == nil {
		c = &conversation{api: api, id: id, messages: map[string]Message{}}
		b.convs[key] = c
		b.order = append(b.order, c)
	}
	if c.workspaceID == "" {
		c.workspaceID = workspaceID
	}
	return c
}

// addMessage adds or updates a message; it reports whether anything changed.
func (b *Book) addMessage(api scenarios.API, convID, workspaceID string, m *omap) bool {
	id := str(m.get("id"))
	if id == "" {
		return false
	}
	fixture := fixtureMessage(api, m)
	if !loads(api, convID, workspaceID, fixture) {
		return false
	}
	c := b.conversation(api, convID, workspaceID)
	if old, ok := c.messages[id]; ok && canonicalMessage(old) == canonicalMessage(fixture) {
		return false
	} else if !ok {
		c.order = append(c.order, id)
	}
	c.messages[id] = fixture
	return true
}

// loads reports whether msgmock's loader takes m as a message of
// conversation convID: an answer may hold what a fixtures file cannot (a
// message without a sender, a field of another type, a conversation id
// the loader refuses), and such a message is left out rather than making
// the whole file one msgmock refuses. The loader itself decides, so the
// two cannot disagree. A reply link is checked where the file is written
// (ConversationsFile keeps it only after its parent).
func loads(api scenarios.API, convID, workspaceID string, m Message) bool {
	msg := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range m {
		if f.Key != "reply_to_message_id" && f.Key != "parent_message_id" {
			add(msg, f.Key, f.Value)
		}
	}
	co := mapping("id", convID, "api", string(api))
	if workspaceID != "" && api == scenarios.APIWorkspace {
		add(co, "workspace_id", workspaceID)
	}
	co.Content = append(co.Content, scalar("messages"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{msg}})
	data, err := yaml.Marshal(mapping("conversations", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{co}}))
	if err != nil {
		return false
	}
	_, err = scenarios.Load(MemFS{"message.yaml": data}, "")
	return err == nil
}

// listed adopts a full listing's order of a conversation's messages (the
// service's own order); messages seen only elsewhere keep theirs after.
func (c *conversation) listed(ids []string) {
	seen := map[string]bool{}
	order := make([]string, 0, len(c.order))
	for _, id := range ids {
		if _, ok := c.messages[id]; ok && !seen[id] {
			order = append(order, id)
			seen[id] = true
		}
	}
	for _, id := range c.order {
		if !seen[id] {
			order = append(order, id)
		}
	}
	c.order = order
}

// fixtureMessage keeps the keys a fixtures file holds for a message of api.
func fixtureMessage(api scenarios.API, m *omap) Message {
	keys := []string{"id", "sender_id", "sender_type", "text", "metadata", "reply_to_message_id", "created_at"}
	if api == scenarios.APIWorkspace {
		keys = []string{"id", "sender_id", "role", "content", "meta_data", "parent_message_id", "message_type", "tags", "tool_calls", "attachments", "owner_id", "created_at"}
	}
	var out Message
	for _, k := range keys {
		if v := m.get(k); v != nil {
			out = append(out, Field{k, v})
		}
	}
	return out
}

// HasConversation reports whether the answers showed conversation id of api.
func (b *Book) HasConversation(api scenarios.API, id string) bool {
	return b.convs[string(api)+" "+id] != nil
}

// HasMessage reports whether the answers showed message id of api.
func (b *Book) HasMessage(api scenarios.API, id string) bool {
	for _, c := range b.order {
		if _, ok := c.messages[id]; ok && c.api == api {
			return true
		}
	}
	return false
}

// Messages are the messages of a conversation, in the file's order.
func (b *Book) Messages(api scenarios.API, convID string) []Message {
	c := b.convs[string(api)+" "+convID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, id := range c.sorted() {
		out = append(out, c.messages[id])
	}
	return out
}

// Forget leaves messages out of the files; with no message ids, the whole
// conversation.
func (b *Book) Forget(api scenarios.API, convID string, messageIDs ...string) {
	key := string(api) + " " + convID
	c := b.convs[key]
	if c == nil {
		return
	}
	if len(messageIDs) == 0 {
		delete(b.convs, key)
		for i, o := range b.order {
			if o == c {
				b.order = append(b.order[:i:i], b.order[i+1:]...)
				break
			}
		}
		return
	}
	for _, id := range messageIDs {
		delete(c.messages, id)
	}
	kept := c.order[:0:0]
	for _, id := range c.order {
		if _, ok := c.messages[id]; ok {
			kept = append(kept, id)
		}
	}
	c.order = kept
}

// Counts are how many conversations and messages the files hold.
func (b *Book) Counts() (conversations, messages int) {
	for _, c := range b.order {
		messages += len(c.messages)
	}
	return len(b.order), messages
}

// sorted is the conversation's message ids oldest first; a tie keeps the
// order seen.
func (c *conversation) sorted() []string {
	type item struct {
		id string
		at time.Time
		ok bool // created_at parsed
	}
	items := make([]item, len(c.order))
	for i, id := range c.order {
		at, err := time.Parse(time.RFC3339Nano, c.messages[id].String("created_at"))
		items[i] = item{id, at, err == nil}
	}
	// Each time parsed once, not at every comparison: a HAR of thousands
	// of sends to one conversation sorts it once per send.
	sort.SliceStable(items, func(i, j int) bool {
		return items[i].ok && items[j].ok && items[i].at.Before(items[j].at)
	})
	order := make([]string, len(items))
	for i, it := range items {
		order[i] = it.id
	}
	return order
}

// earliest is the creation time of the conversation's oldest message.
func (c *conversation) earliest() string {
	best := ""
	var bestT time.Time
	for _, m := range c.messages {
		s := m.String("created_at")
		t, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && (best == "" || t.Before(bestT)) {
			best, bestT = s, t
		}
	}
	return best
}

// SchemaLine is the first line of every file written: editors that know
// yaml-language-server check it against msgmock's fixtures schema.
const SchemaLine = "# yaml-language-server: $schema=http://127.0.0.1:8080/__mock/schema/fixtures.json\n"

// ConversationsFile is the fixtures file of every conversation seen, after
// the comment lines given.
func (b *Book) ConversationsFile(comments ...string) []byte {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range b.order {
		co := mapping("id", c.id, "api", string(c.api))
		if c.api == scenarios.APIWorkspace {
			// The Workspace API shows a conversation's creation time; the
			// Conversations API never does.
			created := c.createdAt
			if created == "" {
				created = c.earliest()
			}
			if c.workspaceID != "" {
				add(co, "workspace_id", c.workspaceID)
			}
			if created != "" {
				add(co, "created_at", created)
			}
		}
		msgs := &yaml.Node{Kind: yaml.SequenceNode}
		seen := map[string]bool{}
		replyKey := "reply_to_message_id"
		if c.api == scenarios.APIWorkspace {
			replyKey = "parent_message_id"
		}
		for _, id := range c.sorted() {
			m := &yaml.Node{Kind: yaml.MappingNode}
			for _, f := range c.messages[id] {
				if f.Key == replyKey && !seen[str(f.Value)] {
					continue // its parent is not an earlier message here
				}
				add(m, f.Key, f.Value)
			}
			msgs.Content = append(msgs.Content, m)
			seen[id] = true
		}
		if len(msgs.Content) > 0 {
			co.Content = append(co.Content, scalar("messages"), msgs)
		}
		seq.Content = append(seq.Content, co)
	}
	if len(seq.Content) == 0 {
		seq.Style = yaml.FlowStyle
	}
	return b.file(comments, mapping("conversations", seq))
}

// file renders a document after the schema line and comments, every
// credential redacted.
func (b *Book) file(comments []string, doc *yaml.Node) []byte {
	secrets := b.secretList()
	redactNode(doc, secrets)
	var out bytes.Buffer
	out.WriteString(SchemaLine)
	for _, c := range comments {
		for _, line := range strings.Split(c, "\n") {
			fmt.Fprintf(&out, "# %s\n", strings.TrimRight(line, " "))
		}
	}
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	_ = enc.Encode(doc)
	_ = enc.Close()
	return []byte(redactText(out.String(), secrets))
}

// mapping builds a YAML mapping of key, value pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		add(n, kv[i].(string), kv[i+1])
	}
	return n
}

// add appends key: value to a mapping; value is a node or anything toNode takes.
func add(n *yaml.Node, key string, value any) {
	v, ok := value.(*yaml.Node)
	if !ok {
		v = toNode(value)
	}
	n.Content = append(n.Content, scalar(key), v)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func canonicalMessage(m Message) string {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range m {
		add(n, f.Key, f.Value)
	}
	b, _ := yaml.Marshal(n)
	return string(b)
}

func str(v any) string { s, _ := v.(string); return s }
func obj(v any) *omap  { m, _ := v.(*omap); return m }
func list(v any) []any { l, _ := v.([]any); return l }
