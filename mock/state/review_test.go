package state

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// pendingReply is a streamed reply whose chunks are being logged over
// several lock cycles, as the engine's scheduler delivers them.
type pendingReply struct {
	sess   *Session
	epoch  uint64
	conv   *Conversation
	msg    *Message
	deltas []uint64 // sequence numbers of its chunks' events
	stored bool
}

// TestReviewInterleavedStreams: the invariants harness logs a streamed
// reply's chunks and stores it under one lock. Hypothesis: when chunks of
// several replies are delivered over separate lock cycles, interleaved with
// sends, journal entries, event retention, budget shedding, ClearJournal
// and Reset — the engine's real order — a chunk event can end up reading
// another record (a slot reused after its holders let go), or holders and
// bytes drift (a record rewritten while chunk events hold it).
func TestReviewInterleavedStreams(t *testing.T) {
	sets := []*scenarios.Set{loadSet(t, tinyLimits), loadSet(t, oneBigSession)}
	for seq := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seq), 7))
		if msg := runInterleaved(rng, sets[seq%2], 250); msg != "" {
			t.Fatalf("sequence %d: %s", seq, msg)
		}
	}
}

func runInterleaved(rng *rand.Rand, set *scenarios.Set, n int) string {
	st := New(Options{Seed: rng.Uint64() | 1})
	ids := []string{"", "a", "b"}
	now := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
	var pending []*pendingReply
	for op := range n {
		id := ids[rng.IntN(len(ids))]
		s := st.Lock(id, set)
		switch k := rng.IntN(24); {
		case k < 5:
			convs := s.Conversations(scenarios.APIConversations)
			var c *Conversation
			if len(convs) == 0 || rng.IntN(3) == 0 {
				c = s.NewConversation(scenarios.APIConversations, "", now)
			} else {
				c = convs[rng.IntN(len(convs))]
			}
			m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: c.ID, API: scenarios.APIConversations,
				SenderID: "u", Role: "user", Text: strings.Repeat("x", rng.IntN(4)*rng.IntN(20<<10)), CreatedAt: now}
			s.Add(c, m)
		case k < 8: // plan a streamed reply
			convs := s.Conversations(scenarios.APIConversations)
			if len(convs) == 0 {
				break
			}
			c := convs[rng.IntN(len(convs))]
			m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: c.ID, API: scenarios.APIConversations,
				SenderID: "agt", Role: "agent", Text: strings.Repeat("word ", rng.IntN(3000)), CreatedAt: now}
			pending = append(pending, &pendingReply{sess: s, epoch: s.Epoch(), conv: c, msg: m})
		case k < 14: // deliver a chunk of a pending reply of this session
			for _, p := range pending {
				if p.sess != s || p.stored || s.Epoch() != p.epoch || !s.Holds(p.conv) {
					continue
				}
				ev := s.AddDelta(p.msg, strings.Repeat("w", 1+rng.IntN(40)), s.NewEventID(), now, 0)
				p.deltas = append(p.deltas, ev.Seq)
				break
			}
		case k < 17: // store a pending reply
			for _, p := range pending {
				if p.sess != s || p.stored || s.Epoch() != p.epoch || !s.Holds(p.conv) {
					continue
				}
				p.msg.CreatedAt = now.Add(time.Duration(op) * time.Second)
				p.msg.Text += " (done)"
				s.Store(p.conv, p.msg, s.NewEventID())
				p.stored = true
				if !s.holdsMessage(p.msg) {
					s.Unlock()
					return fmt.Sprintf("op %d: stored reply %s does not read back", op, p.msg.ID)
				}
				break
			}
		case k < 21:
			s.Record(&JournalEntry{Method: "POST", Path: "/v1/x", Body: patterned[:rng.IntN(30<<10)]})
		case k < 22:
			s.ClearJournal()
		default:
			s.Reset(set)
		}
		// Every chunk event still logged reads back as its reply: as
		// stored once it was, else as it was first written.
		for _, p := range pending {
			if p.sess != s || s.Epoch() != p.epoch {
				continue
			}
			for _, dseq := range p.deltas {
				i := s.After(dseq - 1)
				if i >= s.EventCount() || s.EventSeqAt(i) != dseq {
					continue
				}
				if !recordHolds(s.msgs.bytes(s.events.ref(i).msg), p.msg) {
					got := s.EventAt(i).Message
					s.Unlock()
					return fmt.Sprintf("op %d: chunk event %d of %s reads %s/%q…", op, dseq, p.msg.ID, got.ID, got.Text[:min(20, len(got.Text))])
				}
			}
		}
		s.Unlock()
		if msg := checkAccounting(st, set); msg != "" {
			return fmt.Sprintf("op %d: %s", op, msg)
		}
	}
	return ""
}

// TestReviewStoreAfterSyncForgotConversation: the engine's deliver
// (engine/replies.go) checks Holds(conv), then Syncs the session with the
// configuration in use when the reply falls due, then Stores. Hypothesis:
// a reload that lowers retention.conversations makes that Sync forget conv
// (dropOldest), and Store then writes into a conversation the session no
// longer holds: its message is indexed and counted but held by nothing
// the session walks, so no limit can ever evict it — holders and bytes
// drift from what the session's structures account for.
func TestReviewStoreAfterSyncForgotConversation(t *testing.T) {
	before := loadSet(t, tinyLimits) // conversations: 4
	after := loadSet(t, strings.Replace(tinyLimits, "conversations: 4", "conversations: 1", 1))
	st := New(Options{Seed: 3})
	s := st.Lock("a", before)
	first := s.NewConversation(scenarios.APIConversations, "", time.Time{})
	s.NewConversation(scenarios.APIConversations, "", time.Time{})
	s.Unlock()

	// deliver, as the engine runs it when the reply falls due.
	s.Lock()
	if !s.Holds(first) {
		t.Fatal("the session does not hold the conversation before the reload")
	}
	s.Sync(after)
	m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: first.ID,
		API: scenarios.APIConversations, Text: "a delayed reply"}
	s.Store(first, m, s.NewEventID())
	held := s.Holds(first)
	s.Unlock()
	if msg := checkAccounting(st, after); msg != "" || !held {
		t.Fatalf("after a reply stored into a conversation the sync forgot (held: %v): %s", held, msg)
	}
}
