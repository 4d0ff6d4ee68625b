package expect

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// keys maps the Authorization and X-Api-Key values of the API keys the
// settings list with a workspace — as sent and as the journal masks them —
// to that workspace.
type keys map[string]string

func keysOf(set *scenarios.Set) keys {
	k := keys{}
	if set == nil {
		return k
	}
	for key, tok := range set.Settings.Auth.Tokens {
		if tok.WorkspaceID == "" {
			continue
		}
		bearer := "Bearer " + key
		k["Authorization\x00"+bearer] = tok.WorkspaceID
		k["Authorization\x00"+secret.MaskHeader("Authorization", bearer)] = tok.WorkspaceID
		k["X-Api-Key\x00"+key] = tok.WorkspaceID
		k["X-Api-Key\x00"+secret.MaskHeader("X-Api-Key", key)] = tok.WorkspaceID
	}
	return k
}

// factsOf reads what a rule's when matches from a journal entry, as the
// APIs would have given it to the rules (see the package documentation).
func factsOf(e *state.JournalEntry, k keys) scenarios.Facts {
	f := scenarios.Facts{Method: e.Method, Path: e.Path, API: apiOf(e.Path)}
	f.Header = make(map[string][]string, len(e.Headers))
	for _, h := range e.Headers {
		f.Header[h.Name] = append(f.Header[h.Name], h.Value)
	}
	if strings.Contains(e.Query, "conversation_id") {
		query, _ := url.ParseQuery(e.Query)
		f.ConversationID = query.Get("conversation_id")
	}
	if id, ok := conversationInPath(e.Path); ok {
		f.ConversationID = id
	}
	f.Send = e.Method == http.MethodPost && (e.Path == "/v1/messages" || e.Path == "/api/v1/messages")
	if f.Send {
		readSend(&f, e.Body)
	}
	if f.API == scenarios.APIWorkspace {
		f.WorkspaceID = k.workspaceOf(e)
	}
	return f
}

// apiOf is the API whose surface answers path: the Conversations API's
// paths start with /v1, the rest of the host is the Workspace API's.
func apiOf(path string) scenarios.API {
	p := strings.TrimLeft(path, "/")
	if p == "v1" || strings.HasPrefix(p, "v1/") {
		return scenarios.APIConversations
	}
	return scenarios.APIWorkspace
}

// conversationInPath reads the id of GET /v1/conversations/{id}/messages.
func conversationInPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/conversations/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/messages")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	return id, true
}

// readSend reads a send's fields from its body: the Conversations API's
// top-level text, sender_id, sender_type, conversation_id and metadata;
// the Workspace API's content.content, content.sender_id, content.role
// (user when not given, as the API takes it), content.meta_data and
// conversation_id. A body that is not JSON (or was cut by the journal's
// limit) has none of them.
func readSend(f *scenarios.Facts, body []byte) {
	if f.API == scenarios.APIConversations {
		var b struct {
			Text           *string         `json:"text"`
			SenderID       *string         `json:"sender_id"`
			SenderType     *string         `json:"sender_type"`
			ConversationID *string         `json:"conversation_id"`
			Metadata       json.RawMessage `json:"metadata"`
		}
		if json.Unmarshal(body, &b) != nil {
			return
		}
		f.Text, f.SenderID, f.Role, f.ConversationID = deref(b.Text), deref(b.SenderID), deref(b.SenderType), deref(b.ConversationID)
		f.MetadataJSON = b.Metadata
		return
	}
	var b struct {
		ConversationID *string `json:"conversation_id"`
		Content        struct {
			Content  *string         `json:"content"`
			SenderID *string         `json:"sender_id"`
			Role     *string         `json:"role"`
			MetaData json.RawMessage `json:"meta_data"`
		} `json:"content"`
	}
	if json.Unmarshal(body, &b) != nil {
		return
	}
	f.Text, f.SenderID, f.ConversationID = deref(b.Content.Content), deref(b.Content.SenderID), deref(b.ConversationID)
	f.Role = "user"
	if b.Content.Role != nil {
		f.Role = *b.Content.Role
	}
	f.MetadataJSON = b.Content.MetaData
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// workspaceOf is a Workspace API request's workspace: X-Workspace-Id,
// else that of the API key it sent when the settings list the key (found
// by its value as sent or as the journal masks it), else wsp_default.
func (k keys) workspaceOf(e *state.JournalEntry) string {
	found := ""
	for _, h := range e.Headers {
		switch h.Name {
		case "X-Workspace-Id":
			if ws := strings.TrimSpace(h.Value); ws != "" {
				return ws
			}
		case "Authorization", "X-Api-Key":
			if ws, ok := k[h.Name+"\x00"+h.Value]; ok && found == "" {
				found = ws
			}
		}
	}
	if found != "" {
		return found
	}
	return state.DefaultWorkspace
}
