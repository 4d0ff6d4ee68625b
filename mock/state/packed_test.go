package state

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// TestStorePackedAsStore: a reply stored from its packed record
// (StorePacked, what a plain reply waits as) leaves the session exactly as
// Store of the same message would — the conversation's messages, the
// event log, the events webhooks are given, the byte and message counts —
// over 12 seeded sequences of both APIs' messages, with sent_at or not,
// under limits that evict messages, events and sessions' content.
func TestStorePackedAsStore(t *testing.T) {
	for seq := range 12 {
		rng := rand.New(rand.NewPCG(uint64(seq), 11))
		set := loadSet(t, []string{tinyLimits, oneBigSession}[seq%2])
		var published [2][]string
		stores := [2]*Store{}
		for i := range stores {
			i := i
			stores[i] = New(Options{Seed: 7, OnEvent: func(ev *Event, _ *scenarios.Set) {
				published[i] = append(published[i], fmt.Sprintf("%s %d %s %s %+v", ev.ID, ev.Seq, ev.Type, ev.CreatedAt, exported(ev.Message)))
			}, WantsEvents: func(*scenarios.Set) bool { return true }})
		}
		now := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
		for op := range 90 {
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			api := []scenarios.API{scenarios.APIConversations, scenarios.APIWorkspace}[rng.IntN(2)]
			newConv := rng.IntN(4) == 0
			text := strings.Repeat("wörd ", rng.IntN(40))
			var logs [2]string
			for i, st := range stores {
				s := st.Lock("", set)
				convs := s.Conversations(api)
				var c *Conversation
				if newConv || len(convs) == 0 {
					c = s.NewConversation(api, "", now)
				} else {
					c = convs[len(convs)-1]
				}
				m := &Message{ID: s.NewMessageID(api), ConversationID: c.ID, API: api, SenderID: "agt_assistant", Role: "assistant",
					Text: text, ReplyTo: "msg_x", HasReplyTo: true, Metadata: json.RawMessage(`{"k":"v"}`)}
				if api == scenarios.APIWorkspace {
					m.WorkspaceID, m.MessageType, m.Checksum = c.WorkspaceID, "text", Checksum(text)
				}
				eventID := s.NewEventID()
				if i == 0 {
					m.CreatedAt = now
					if api == scenarios.APIWorkspace {
						m.SentAt = now
					}
					s.Store(c, m, eventID)
				} else {
					if api == scenarios.APIWorkspace {
						m.SentAt = now.Add(-time.Hour).Local() // a placeholder, as the engine packs it
					}
					s.StorePacked(c, Pack(m), eventID, now)
				}
				var b strings.Builder
				for _, cv := range s.Conversations(api) {
					for _, msg := range cv.Tail(1000) {
						fmt.Fprintf(&b, "%s: %+v\n", cv.ID, *msg)
					}
				}
				for k := range s.EventCount() {
					ev := s.EventAt(k)
					fmt.Fprintf(&b, "event %s %d %s %s %+v\n", ev.ID, ev.Seq, ev.Type, ev.CreatedAt, *ev.Message)
				}
				fmt.Fprintf(&b, "bytes %d messages %d", s.bytes(), s.heldMessages())
				logs[i] = b.String()
				s.Unlock()
				if op%15 != 14 {
					continue // the full recount is slow under -race: every fifteenth write
				}
				if msg := checkAccounting(st, set); msg != "" {
					t.Fatalf("sequence %d op %d, store %d: %s", seq, op, i, msg)
				}
			}
			if logs[0] != logs[1] {
				t.Fatalf("sequence %d op %d: Store left\n%s\nStorePacked left\n%s", seq, op, logs[0], logs[1])
			}
			if n := len(published[0]); n != len(published[1]) || (n > 0 && published[0][n-1] != published[1][n-1]) {
				t.Fatalf("sequence %d op %d: webhooks were given\n%v\nand\n%v", seq, op, published[0][max(n-1, 0):], published[1][max(len(published[1])-1, 0):])
			}
		}
	}
}

// exported is m without the arena's bookkeeping (which record holds it),
// which no reader sees.
func exported(m *Message) Message {
	c := *m
	c.owner, c.rec, c.gen = nil, 0, 0
	return c
}
