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

// TestStreamedRepliesInterleaved: the invariants harness logs a streamed
// reply's chunks and stores it under one lock. The question: whether, when chunks of
// several replies are delivered over separate lock cycles, interleaved with
// sends, journal entries, event retention, budget shedding, ClearJournal
// and Reset — the engine's real order — a chunk event can end up reading
// another record (a slot reused after its holders let go), or holders and
// bytes drift (a record rewritten while chunk events hold it).
func TestStreamedRepliesInterleaved(t *testing.T) {
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
				SenderID: "agt", Role: "agent", Text: strings.Repeat("word ", rng.IntN(3000)*rng.IntN(4)), CreatedAt: now}
			pending = append(pending, &pendingReply{sess: s, epoch: s.Epoch(), conv: c, msg: m})
		case k < 14: // deliver a chunk of a pending reply of this session
			for _, p := range pending {
				if p.sess != s || p.stored || s.Epoch() != p.epoch || !s.Holds(p.conv) {
					continue
				}
				seq := s.AddDelta(p.msg, strings.Repeat("w", 1+rng.IntN(40)), s.NewEventID(), now, 0)
				p.deltas = append(p.deltas, seq)
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
		if budget := set.Settings.Retention.MessageBytes; st.total.Load() > budget-Reserve(budget) {
			return fmt.Sprintf("op %d: %d bytes held, over the %d budget less its reserve", op, st.total.Load(), budget)
		}
		if msg := checkAccounting(st, set); msg != "" {
			return fmt.Sprintf("op %d: %s", op, msg)
		}
	}
	return ""
}

// TestStoreIntoAForgottenConversation: a reply falls due after a
// reload lowered retention.conversations, and the merge of the new
// settings forgot its conversation. Storing it there kept a message that
// the index and the budget counted and nothing could evict; Store now
// takes nothing into a conversation the session no longer holds (and the
// engine merges before it checks).
func TestStoreIntoAForgottenConversation(t *testing.T) {
	before := loadSet(t, tinyLimits) // conversations: 4
	after := loadSet(t, strings.Replace(tinyLimits, "conversations: 4", "conversations: 1", 1))
	st := New(Options{Seed: 3})
	s := st.Lock("a", before)
	first := s.NewConversation(scenarios.APIConversations, "", time.Time{})
	s.NewConversation(scenarios.APIConversations, "", time.Time{})
	s.Unlock()

	s.Lock()
	s.Sync(after)
	events := s.EventCount()
	m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: first.ID,
		API: scenarios.APIConversations, Text: "a delayed reply"}
	seq := s.Store(first, m, s.NewEventID())
	found, logged := s.Message(m.ID), s.EventCount()
	s.Unlock()
	if seq != 0 || found != nil || logged != events {
		t.Errorf("a reply stored into a conversation the merge forgot: event %d, found %v, events %d → %d", seq, found != nil, events, logged)
	}
	if msg := checkAccounting(st, after); msg != "" {
		t.Fatal(msg)
	}
}

// TestArenaBoundarySizes: records sized exactly at the arena's
// thresholds — half the next small chunk (with and without the header),
// bigRecord, a full chunk — and records that fill a chunk to its last
// byte. The question: whether an off-by-one at a threshold places a record in a
// chunk it overruns, or a compaction copies a record into a chunk that
// cannot hold it, or the pool gets back a chunk that is not full-size.
func TestArenaBoundarySizes(t *testing.T) {
	for seq := range 80 {
		rng := rand.New(rand.NewPCG(uint64(seq), 77))
		a := newArena()
		type rec struct {
			data []byte
			refs int
		}
		live := map[handle]*rec{}
		var hs []handle
		size := func() int {
			next := min(chunkMax, chunkMin<<min(a.grown, 8))
			cands := []int{0, 1, next/2 - recordHeader, next/2 - recordHeader + 1, bigRecord - recordHeader,
				bigRecord - recordHeader + 1, chunkMax - recordHeader, chunkMax, chunkMin - recordHeader,
				(chunkMax - recordHeader*4) / 4, rng.IntN(300)}
			return cands[rng.IntN(len(cands))]
		}
		var stamp byte
		fill := func(b []byte) []byte {
			stamp++
			for i := range b {
				b[i] = stamp + byte(i)
			}
			return append([]byte(nil), b...)
		}
		for op := range 400 {
			switch k := rng.IntN(10); {
			case len(hs) == 0 || k < 4:
				h, b := a.alloc(size())
				live[h] = &rec{fill(b), 1}
				hs = append(hs, h)
			case k < 5:
				h := hs[rng.IntN(len(hs))]
				a.hold(h)
				live[h].refs++
			case k < 8:
				i := rng.IntN(len(hs))
				h := hs[i]
				a.release(h)
				if live[h].refs--; live[h].refs == 0 {
					delete(live, h)
					hs[i] = hs[len(hs)-1]
					hs = hs[:len(hs)-1]
				}
			case k < 9:
				h := hs[rng.IntN(len(hs))]
				live[h].data = fill(a.resize(h, size()))
			default:
				a.compactAll(func() bool { return rng.IntN(4) > 0 })
			}
			a.settle()
			if msg := a.audit(); msg != "" {
				t.Fatalf("sequence %d op %d: %s", seq, op, msg)
			}
			for h, r := range live {
				if !bytesEqual(a.bytes(h), r.data) {
					t.Fatalf("sequence %d op %d: record %d reads back wrong", seq, op, h)
				}
			}
			if got, want := a.held(), a.recount(); got != want {
				t.Fatalf("sequence %d op %d: counts %d, holds %d", seq, op, got, want)
			}
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// TestSharedFixtureIDFoundAfterNewerEvicted: fixtures may give two
// conversations a message of the same id (ids are unique per conversation
// only), and the index finds the newer. Once the newer is evicted
// (messages_per_conversation), the older — still listed by its
// conversation — must still be found by id (Session.Message, GET
// …/messages/{id}): the index takes it in the newer's place.
func TestSharedFixtureIDFoundAfterNewerEvicted(t *testing.T) {
	set := loadSet(t, `
settings:
  body_limit: 256KiB
  retention: {messages_per_conversation: 2}
conversations:
  - id: con_first
    messages:
      - {id: msg_shared, sender_id: u, sender_type: user, text: in the first}
  - id: con_second
    messages:
      - {id: msg_shared, sender_id: u, sender_type: user, text: in the second}
`)
	st := New(Options{Seed: 1})
	s := st.Lock("", set)
	defer s.Unlock()
	second := s.Conversation(scenarios.APIConversations, "con_second")
	for range 2 { // past messages_per_conversation: the second's fixture message goes
		s.Add(second, &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: second.ID,
			API: scenarios.APIConversations, Text: "newer"})
	}
	first := s.Conversation(scenarios.APIConversations, "con_first").Messages()
	if len(first) != 1 || first[0].ID != "msg_shared" {
		t.Fatalf("the first conversation lists %v", first)
	}
	if got := s.Message("msg_shared"); got == nil || got.ConversationID != "con_first" {
		t.Fatalf("msg_shared, listed by con_first, is found as %+v", got)
	}
}
