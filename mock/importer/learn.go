package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

// learn feeds the fixtures with every successful answer, then leaves out
// what replaying the HAR's own sends creates again: the message each
// stored, the replies to it (scripted on the send's rule instead), and a
// conversation a send created.
func (im *harImport) learn() {
	for _, x := range im.exchanges {
		if !x.success() {
			continue
		}
		if x.rbody == nil {
			if x.ep.kind == kindStream {
				x.drop("a stream whose events the HAR did not record")
			} else if x.ep.kind == kindRead {
				x.drop(x.rproblem)
			}
			continue
		}
		switch x.ep.kind {
		case kindStream:
			if im.observeStream(x) == 0 {
				x.drop("a stream whose events the HAR did not record")
				continue
			}
			x.use("fixtures (stream events)")
		case kindRead:
			if x.shapeProblem() != "" {
				continue // an unusual answer: plan makes it a rule
			}
			im.book.Observe(x.ep.api, x.ep.method, x.url.Path, x.url.Query(), x.rbody)
			x.use("fixtures")
		case kindSend:
			if x.shapeProblem() == "" {
				im.book.Observe(x.ep.api, x.ep.method, x.url.Path, x.url.Query(), x.rbody)
			}
		}
	}
	type forget struct {
		api      scenarios.API
		conv     string
		messages []string // none: the whole conversation
	}
	var forgets []forget
	// The replies the answers showed to each message, by api, conversation
	// and the message replied to, in the file's order: read once per
	// conversation, not once per send (a HAR of thousands of sends to one
	// conversation would sort it thousands of times). The book does not
	// change in this loop: what it forgets goes after.
	repliesTo := map[string][]capture.Message{}
	indexed := map[string]bool{}
	for _, x := range im.exchanges {
		sent, ok := x.sentMessage()
		if !ok {
			continue
		}
		api := x.ep.api
		ids := []string{sent.id}
		for _, rep := range sent.inline {
			x.replies = append(x.replies, rep.reply)
			ids = append(ids, rep.id)
		}
		replyKey := "reply_to_message_id"
		if api == scenarios.APIWorkspace {
			replyKey = "parent_message_id"
		}
		conv := string(api) + " " + sent.conversation
		if !indexed[conv] {
			indexed[conv] = true
			for _, m := range im.book.Messages(api, sent.conversation) {
				if to := m.String(replyKey); to != "" {
					repliesTo[conv+" "+to] = append(repliesTo[conv+" "+to], m)
				}
			}
		}
		for _, m := range repliesTo[conv+" "+sent.id] {
			if contains(ids, m.ID()) {
				continue
			}
			x.replies = append(x.replies, replyOf(api, m, sent.createdAt))
			ids = append(ids, m.ID())
		}
		for _, id := range ids {
			im.minted[string(api)+" "+id] = true
		}
		forgets = append(forgets, forget{api, sent.conversation, ids})
		if sent.newConversation {
			im.minted[string(api)+" "+sent.conversation] = true
			forgets = append(forgets, forget{api: api, conv: sent.conversation})
		}
		what := "a send: replaying it stores its message again"
		if len(x.replies) > 0 {
			what += fmt.Sprintf(" (and its %d %s)", len(x.replies), plural(len(x.replies), "reply", "replies"))
		}
		x.use(what)
	}
	// One Forget per conversation: each rewrites the conversation's order.
	merged := map[string]*forget{}
	var convs []*forget
	for _, f := range forgets {
		key := string(f.api) + " " + f.conv
		m := merged[key]
		if m == nil {
			m = &forget{api: f.api, conv: f.conv, messages: []string{}}
			merged[key] = m
			convs = append(convs, m)
		}
		if len(f.messages) == 0 {
			m.messages = nil // the whole conversation
		} else if m.messages != nil {
			m.messages = append(m.messages, f.messages...)
		}
	}
	for _, f := range convs {
		im.book.Forget(f.api, f.conv, f.messages...)
	}
	for _, x := range im.exchanges {
		if x.ep.kind != kindRead || x.skipped || x.note.Note != "fixtures" {
			continue
		}
		id := x.url.Query().Get("conversation_id")
		if m := idInPath.FindStringSubmatch(x.url.Path); m != nil {
			id = m[2]
		}
		if id != "" && im.minted[string(x.ep.api)+" "+id] {
			x.use("a read of what the replayed sends create again: nothing to preload")
		}
	}
}

// sent is what a successful send created.
type sent struct {
	id, conversation string
	createdAt        string
	newConversation  bool // the request named none
	inline           []inlineReply
}

type inlineReply struct {
	id    string
	reply capture.Reply
}

// sentMessage reads the message a send created from its answer, when the
// answer is the API's usual success.
func (x *exchange) sentMessage() (sent, bool) {
	if x.ep.kind != kindSend || !x.success() || x.rbody == nil || x.shapeProblem() != "" {
		return sent{}, false
	}
	req := decodeJSON(x.body)
	s := sent{newConversation: fieldStr(req, "conversation_id") == ""}
	if x.ep.api == scenarios.APIConversations {
		ans := decodeJSON(x.rbody)
		s.id, s.conversation = fieldStr(ans, "data", "message", "id"), fieldStr(ans, "data", "conversation_id")
		s.createdAt = fieldStr(ans, "data", "message", "created_at")
		return s, true
	}
	var list []json.RawMessage
	if json.Unmarshal(x.rbody, &list) != nil || len(list) == 0 {
		return sent{}, false
	}
	first := decodeJSON(list[0])
	s.id, s.conversation, s.createdAt = fieldStr(first, "id"), fieldStr(first, "conversation_id"), fieldStr(first, "created_at")
	for _, raw := range list[1:] {
		var m struct {
			ID       string          `json:"id"`
			Content  string          `json:"content"`
			SenderID string          `json:"sender_id"`
			Role     string          `json:"role"`
			MetaData json.RawMessage `json:"meta_data"`
		}
		if json.Unmarshal(raw, &m) != nil || m.ID == "" {
			continue
		}
		rep := capture.Reply{Inline: true, Text: m.Content, SenderID: m.SenderID, Role: m.Role}
		if isObject(m.MetaData) && string(m.MetaData) != "{}" {
			rep.Metadata = m.MetaData
		}
		s.inline = append(s.inline, inlineReply{m.ID, rep})
	}
	return s, true
}

// replyOf scripts a stored reply as the rule's reply: its text, sender
// and metadata, after the time that separated it from the message sent.
func replyOf(api scenarios.API, m capture.Message, sentAt string) capture.Reply {
	rep := capture.Reply{SenderID: m.String("sender_id")}
	if api == scenarios.APIWorkspace {
		rep.Text, rep.Role = m.String("content"), m.String("role")
		if meta := m.JSON("meta_data"); isObject(meta) && string(meta) != "{}" {
			rep.Metadata = meta
		}
	} else {
		rep.Text, rep.SenderType = m.String("text"), m.String("sender_type")
		if meta := m.JSON("metadata"); isObject(meta) {
			rep.Metadata = meta
		}
	}
	t0, err0 := time.Parse(time.RFC3339Nano, sentAt)
	t1, err1 := time.Parse(time.RFC3339Nano, m.String("created_at"))
	if err0 == nil && err1 == nil && !t1.Before(t0) && t1.Sub(t0) <= 24*time.Hour {
		d := t1.Sub(t0)
		rep.After = &d
	}
	return rep
}

// observeStream reads the messages a stream's recorded events show.
func (im *harImport) observeStream(x *exchange) int {
	n := 0
	for _, ev := range parseSSE(x.rbody) {
		if x.ep.api == scenarios.APIConversations {
			wrapped := `{"status":"success","data":{"events":[` + ev.data + `]}}`
			if json.Valid([]byte(wrapped)) && im.book.Observe(x.ep.api, "GET", "/v1/events", nil, []byte(wrapped)) {
				n++
			}
			continue
		}
		if ev.event == "message.created" && im.book.Observe(x.ep.api, "GET", "/api/v1/messages/-", nil, []byte(ev.data)) {
			n++
		}
	}
	return n
}

type sseEvent struct{ event, data string }

// parseSSE reads Server-Sent Events: event and data fields, an event
// ending at a blank line.
func parseSSE(body []byte) []sseEvent {
	var out []sseEvent
	var cur sseEvent
	var data []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), len(body)+1)
	flush := func() {
		if len(data) > 0 {
			cur.data = strings.Join(data, "\n")
			out = append(out, cur)
		}
		cur, data = sseEvent{}, nil
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			cur.event = value
		case "data":
			data = append(data, value)
		}
	}
	flush()
	return out
}

// normalStatus is the status of the API's usual answer to x's request.
func (x *exchange) normalStatus() int {
	if x.ep.kind == kindSend && x.ep.api == scenarios.APIWorkspace {
		return 201
	}
	return 200
}

// shapeProblem says how a successful (2xx) answer's body differs from the
// API's usual answer, or "" when it does not (or was not recorded).
func (x *exchange) shapeProblem() string {
	if x.ep.kind == kindStream {
		if ct := get(x.rheader, "Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/event-stream") {
			return "a stream answered with " + ct
		}
		return ""
	}
	if x.rbody == nil {
		return ""
	}
	v := decodeJSON(x.rbody)
	switch {
	case v == nil:
		return "a body that is not JSON"
	case x.ep.kind == kindSend && x.ep.api == scenarios.APIConversations:
		if fieldStr(v, "status") != "success" || fieldStr(v, "data", "message", "id") == "" || fieldStr(v, "data", "conversation_id") == "" {
			return "a body that is not the API's answer to a send"
		}
	case x.ep.kind == kindSend:
		list, ok := v.([]any)
		if !ok || len(list) == 0 || fieldStr(list[0], "id") == "" || fieldStr(list[0], "conversation_id") == "" {
			return "a body that is not the API's answer to a send"
		}
	case x.ep.api == scenarios.APIConversations:
		if fieldStr(v, "status") != "success" {
			return "a body that is not the API's answer"
		}
	}
	return ""
}

// success reports whether x was answered 2xx.
func (x *exchange) success() bool { return x.fault == "" && x.status >= 200 && x.status < 300 }

// decodeJSON decodes JSON with numbers kept as written; nil if it is not JSON.
func decodeJSON(b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil
	}
	return v
}

// fieldStr is the string at a path of object keys, or "".
func fieldStr(v any, keys ...string) string {
	s, _ := field(v, keys...).(string)
	return s
}

func field(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func isObject(raw json.RawMessage) bool {
	_, ok := decodeJSON(raw).(map[string]any)
	return ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
