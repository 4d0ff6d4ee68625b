// Package bare is the yardstick msgmock is measured against: see Handler.
package bare

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Handler is the yardstick msgmock's performance is measured against:
// a plain net/http handler that does only the JSON work each API's answer
// needs — decode the request, encode a response of the same shape — and
// nothing else (no state, no events, no journal, no log). It serves
// POST /v1/messages, POST /api/v1/messages and GET /v1/events.
//
// BenchmarkVsBare runs it in process; `msgmock-load bare` serves it on its
// own, for load generators such as wrk (.ci/perf).
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/messages", conversationsSend())
	mux.Handle("POST /api/v1/messages", workspaceSend())
	mux.Handle("GET /v1/events", conversationsEvents())
	return mux
}

// conversationsSend decodes the Conversations API body and encodes its envelope.
func conversationsSend() http.Handler {
	type msg struct {
		ID         string         `json:"id"`
		SenderID   string         `json:"sender_id"`
		SenderType string         `json:"sender_type"`
		Text       string         `json:"text"`
		Metadata   map[string]any `json:"metadata,omitempty"`
		CreatedAt  string         `json:"created_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ConversationID string         `json:"conversation_id"`
			SenderID       string         `json:"sender_id"`
			SenderType     string         `json:"sender_type"`
			Text           string         `json:"text"`
			Metadata       map[string]any `json:"metadata"`
			AutoReply      *bool          `json:"auto_reply"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status": "success", "message": "Message sent successfully.",
			"data": map[string]any{
				"conversation_id": req.ConversationID,
				"message": msg{ID: "msg_45kd01", SenderID: req.SenderID, SenderType: req.SenderType, Text: req.Text,
					Metadata: req.Metadata, CreatedAt: time.Now().UTC().Format(time.RFC3339)},
				"auto_reply_enqueued": true,
			},
		})
	})
}

// workspaceSend decodes the Workspace API body and encodes the 201 array.
func workspaceSend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Content struct {
				Content  string         `json:"content"`
				SenderID string         `json:"sender_id"`
				Role     string         `json:"role"`
				Tags     []string       `json:"tags"`
				MetaData map[string]any `json:"meta_data"`
			} `json:"content"`
			ConversationID *string `json:"conversation_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode([]map[string]any{{
			"conversation_id": "conv_0000000000000001", "sender_id": req.Content.SenderID, "content": req.Content.Content,
			"workspace_id": "wsp_default", "created_at": now, "updated_at": now, "id": "msg_0000000000000001", "role": "user",
			"tool_calls": nil, "message_type": "text", "tags": req.Content.Tags, "checksum": "x", "attachments": nil,
			"parent_message_id": nil, "meta_data": req.Content.MetaData, "sent_at": now, "owner_id": nil,
		}})
	})
}

// conversationsEvents encodes a page of 100 events of the feed's shape.
func conversationsEvents() http.Handler {
	type message struct {
		ID, SenderID, SenderType, Text, CreatedAt string
	}
	type event struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		CreatedAt string `json:"created_at"`
		Data      struct {
			ConversationID string  `json:"conversation_id"`
			Message        message `json:"message"`
		} `json:"data"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events := make([]event, 100)
		for i := range events {
			events[i].ID, events[i].Type, events[i].CreatedAt = fmt.Sprintf("evt_%08d", i), "message.created", "2026-03-15T14:22:11Z"
			events[i].Data.ConversationID = "con_9s2kd81"
			events[i].Data.Message = message{fmt.Sprintf("msg_%06d", i), "usr_82hd92", "user", "Can you summarize my last 5 calls?", "2026-03-15T14:22:11Z"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Events retrieved successfully.", "data": map[string]any{"events": events, "has_more": true}})
	})
}
