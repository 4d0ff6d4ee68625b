package state

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

var sequences = flag.Int("sequences", 2000, "random operation sequences TestInvariants runs")

// tinyLimits are limits small enough that a short sequence crosses each of
// them: sessions, conversations, messages per conversation, events, journal
// entries and the byte budget (twice the body limit, the least allowed).
const tinyLimits = `
settings:
  body_limit: 256KiB
  retention: {sessions: 3, conversations: 4, messages_per_conversation: 6, events: 25, journal: 8, message_bytes: 1MiB}
conversations:
  - id: con_fixture
    messages:
      - {sender_id: u, sender_type: user, text: hello}
      - {sender_id: agt, sender_type: agent, text: hi there}
  - id: conv_fixture00000001
    api: workspace
    messages:
      - {sender_id: u, role: user, content: a workspace message}
`

func loadSet(t testing.TB, yaml string) *scenarios.Set {
	t.Helper()
	set, err := scenarios.Load(fstest.MapFS{"f.yaml": {Data: []byte(yaml)}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// oneBigSession lets a single session hold more than the budget, so that
// a write must shed the writer's own older content.
var oneBigSession = strings.Replace(tinyLimits,
	"{sessions: 3, conversations: 4, messages_per_conversation: 6, events: 25, journal: 8, message_bytes: 1MiB}",
	"{sessions: 1, conversations: 30, messages_per_conversation: 40, events: 300, journal: 50, message_bytes: 1MiB}", 1)

// patterned is a body whose bytes tell where they are, for journal entries.
var patterned = func() []byte {
	b := make([]byte, 40<<10)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

// acked is a message a write reported stored, as the model remembers it.
type acked struct {
	sess *Session
	msg  *Message
	sum  uint64 // its record's hash, once checked field by field as written
}

var recordSeed = maphash.MakeSeed()

// TestInvariants runs seeded random sequences of operations over a Store
// with tiny limits and checks, after every operation, the package's
// invariants (see the package comment).
func TestInvariants(t *testing.T) {
	sets := []*scenarios.Set{loadSet(t, tinyLimits), loadSet(t, oneBigSession)}
	for seq := 0; seq < *sequences; seq++ {
		rng := rand.New(rand.NewPCG(uint64(seq), 99))
		set := sets[seq%len(sets)]
		if failed := runSequence(t, rng, set, 100); failed != "" {
			t.Fatalf("sequence %d: %s", seq, failed)
		}
	}
}

// runSequence runs n random operations and returns the first broken
// invariant, or "".
func runSequence(t *testing.T, rng *rand.Rand, set *scenarios.Set, n int) string {
	st := New(Options{Seed: rng.Uint64() | 1})
	ids := []string{"", "a", "b", "c", "d", "e"}
	model := map[string]acked{}
	now := time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)
	for op := 0; op < n; op++ {
		id := ids[rng.IntN(len(ids))]
		evictedBefore := st.Stats().Evicted.Messages
		s := st.Lock(id, set)
		if s.Dropped() {
			s.Unlock()
			return "Lock returned a dropped session"
		}
		var wrote *Message
		var wroteConv *Conversation
		switch k := rng.IntN(20); {
		case k < 9: // send, to a new or an existing conversation of either API
			api := scenarios.APIConversations
			if rng.IntN(3) == 0 {
				api = scenarios.APIWorkspace
			}
			convs := s.Conversations(api)
			var c *Conversation
			if len(convs) == 0 || rng.IntN(3) == 0 {
				c = s.NewConversation(api, DefaultWorkspace, now)
			} else {
				c = convs[rng.IntN(len(convs))]
			}
			m := &Message{ID: s.NewMessageID(api), ConversationID: c.ID, API: api, SenderID: "u", Role: "user",
				Text: strings.Repeat("x", rng.IntN(4)*rng.IntN(60<<10)), CreatedAt: now}
			if api == scenarios.APIWorkspace {
				m.WorkspaceID, m.Metadata, m.Tags, m.SentAt = DefaultWorkspace, json.RawMessage(`{}`), json.RawMessage(`[]`), now.In(time.FixedZone("", 3600))
			}
			id := s.NewEventID() // as Add draws it
			ev := newEvent(eventCreated, m, "", id, m.CreatedAt, 0, s.Store(c, m, id))
			if n := s.EventCount(); n == 0 || s.EventSeqAt(n-1) != ev.Seq || !s.logHolds(n-1, ev) {
				return "the write's event is not the newest"
			}
			wrote, wroteConv = m, c
		case k < 12: // a streamed reply: deltas, then the message
			convs := s.Conversations(scenarios.APIConversations)
			if len(convs) == 0 {
				break
			}
			c := convs[rng.IntN(len(convs))]
			m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: c.ID, API: scenarios.APIConversations,
				SenderID: "agt", Role: "agent", Text: strings.Repeat("word ", rng.IntN(2000)), CreatedAt: now}
			var deltas []*Event
			for i := rng.IntN(4); i > 0; i-- {
				delta, id, fault := strings.Repeat("word ", 1+rng.IntN(3)), s.NewEventID(), DeliveryFault(rng.IntN(8))
				deltas = append(deltas, newEvent(eventDelta, m, delta, id, now, fault, s.AddDelta(m, delta, id, now, fault)))
			}
			m.CreatedAt = now.Add(time.Second) // set when it is stored, after its chunks
			s.Store(c, m, s.NewEventID())
			// The chunks' events still logged show the message as stored.
			for _, d := range deltas {
				if i := s.After(d.Seq - 1); i < s.EventCount() && s.EventSeqAt(i) == d.Seq {
					if !s.logHolds(i, d) || !recordHolds(s.msgs.bytes(s.events.ref(i).msg), m) {
						return fmt.Sprintf("chunk event %s reads back as %+v, want %+v of %+v", d.ID, s.EventAt(i), d, m)
					}
				}
			}
			wrote, wroteConv = m, c
		case k < 17: // a journal entry, headers and body of any size
			h := map[string][]string{"Authorization": {"Bearer k"}}
			if rng.IntN(4) == 0 {
				h["X-Big"] = []string{strings.Repeat("h", rng.IntN(100<<10))}
			}
			body := patterned[:rng.IntN(40<<10)]
			e := &JournalEntry{Method: "POST", Path: "/v1/messages", Header: h, Body: body}
			s.Record(e)
			n := s.journal.len()
			got := s.JournalEntry(e.Seq)
			if n == 0 || journalSeq(s.jrnl.bytes(s.journal.at(n-1))) != e.Seq || got == nil || got.Path != "/v1/messages" ||
				!bytes.Equal(got.Body, body[:min(len(body), JournalBodyLimit)]) {
				return "the entry just recorded is not the newest"
			}
			// Its record: the capped body and headers, each header field's
			// lengths, the fixed part and a little more.
			if e.size > recordHeader+journalFixed+JournalBodyLimit+JournalHeaderLimit+int64(len(got.Headers))*6+64 {
				return fmt.Sprintf("a journal entry holds %d bytes, over its caps", e.size)
			}
		case k < 18:
			s.ClearJournal()
		default: // reset: the model forgets the session's messages
			s.Reset(set)
			for mid, a := range model {
				if a.sess == s {
					delete(model, mid)
				}
			}
		}
		if wrote != nil {
			if !s.holdsMessage(wrote) || !s.Holds(wroteConv) {
				return "a write evicted what it wrote"
			}
			model[wrote.ID] = acked{sess: s, msg: wrote, sum: maphash.Bytes(recordSeed, s.msgs.bytes(s.lookup(wrote.ID)))}
		}
		s.Unlock()
		if s.Dropped() {
			return "the session just used was evicted"
		}
		if budget := set.Settings.Retention.MessageBytes; wrote != nil && st.total.Load() > budget-Reserve(budget) {
			return fmt.Sprintf("%d bytes held after a write, over the %d budget less its reserve", st.total.Load(), budget)
		}
		if msg := checkAccounting(st, set); msg != "" {
			return msg
		}
		// What vanished was evicted, and counted.
		vanished := int64(0)
		for mid, a := range model {
			a.sess.Lock()
			// Its record, wherever compaction moved it, holds the bytes
			// that were checked field by field after the write.
			h := a.sess.lookup(mid)
			gone := a.sess.Dropped() || h == 0
			if !gone && maphash.Bytes(recordSeed, a.sess.msgs.bytes(h)) != a.sum {
				a.sess.Unlock()
				return fmt.Sprintf("message %s reads back as %+v, want %+v", mid, a.sess.Message(mid), a.msg)
			}
			a.sess.Unlock()
			if gone {
				vanished++
				delete(model, mid)
			}
		}
		if got := st.Stats().Evicted.Messages - evictedBefore; vanished > got {
			return fmt.Sprintf("%d acknowledged messages vanished, %d evictions counted", vanished, got)
		}
	}
	return ""
}

// checkAccounting recomputes what every live session holds and compares it
// with what is counted; fixture conversations must still be there.
func checkAccounting(st *Store, set *scenarios.Set) string {
	st.mu.RLock()
	live := make([]*Session, 0, len(st.all))
	for _, s := range st.all {
		live = append(live, s)
	}
	st.mu.RUnlock()
	var sum int64
	for _, s := range live {
		s.Lock()
		held, msgs, problem := s.audit()
		count, heldMsgs := s.bytes(), s.heldMessages()
		fixturesOK := s.fixtures == nil
		if s.fixtures != nil {
			fixturesOK = true
			for i := range set.Conversations {
				if c := s.convs[set.Conversations[i].ID]; c == nil || !c.Fixture {
					fixturesOK = false
				}
			}
		}
		s.Unlock()
		if problem != "" {
			return fmt.Sprintf("session %q: %s", s.id, problem)
		}
		if held != count {
			return fmt.Sprintf("session %q counts %d bytes and holds %d", s.id, count, held)
		}
		if msgs != heldMsgs {
			return fmt.Sprintf("session %q counts %d messages and holds %d", s.id, heldMsgs, msgs)
		}
		if !fixturesOK {
			return fmt.Sprintf("session %q lost a fixture conversation", s.id)
		}
		sum += count
	}
	if total := st.total.Load(); total != sum {
		return fmt.Sprintf("the store counts %d bytes, its live sessions %d", total, sum)
	}
	return ""
}

// TestConcurrentSessionsKeepTheirAccounts: writers in many sessions at
// once, past every limit, leave counts that match what is held.
func TestConcurrentSessionsKeepTheirAccounts(t *testing.T) {
	set := loadSet(t, tinyLimits)
	st := New(Options{Seed: 5})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 400; i++ {
				s := st.Lock(fmt.Sprintf("s%d", rng.IntN(6)), set)
				c := s.NewConversation(scenarios.APIConversations, "", time.Time{})
				m := &Message{ID: s.NewMessageID(scenarios.APIConversations), ConversationID: c.ID, Text: strings.Repeat("y", rng.IntN(50<<10))}
				s.Add(c, m)
				s.Record(&JournalEntry{Body: make([]byte, rng.IntN(20<<10))})
				if !s.holdsMessage(m) {
					t.Error("a write evicted what it wrote")
				}
				s.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if msg := checkAccounting(st, set); msg != "" {
		t.Fatal(msg)
	}
	if budget := set.Settings.Retention.MessageBytes; st.total.Load() > budget-Reserve(budget) {
		t.Fatalf("%d bytes held, over the budget", st.total.Load())
	}
}

// TestNewSessionIsNotTheOneEvicted: past the sessions limit the least
// recently used goes, never the one being created, whatever the clock says.
func TestNewSessionIsNotTheOneEvicted(t *testing.T) {
	set := loadSet(t, tinyLimits) // sessions: 3
	st := New(Options{Seed: 1})
	var all []*Session
	for i := 0; i < 10; i++ {
		s := st.Session(fmt.Sprintf("ci-%d", i), set)
		if s.Dropped() {
			t.Fatalf("session %d was dropped as it was created", i)
		}
		all = append(all, s)
	}
	for i, s := range all {
		if want := i < 7; s.Dropped() != want {
			t.Errorf("session ci-%d dropped=%v, want %v", i, s.Dropped(), want)
		}
	}
	// Using an old one makes it recent: the next new session evicts another.
	st.Session("ci-7", set)
	st.Session("ci-10", set)
	if all[7].Dropped() || !all[8].Dropped() {
		t.Errorf("recency not by use: ci-7 dropped=%v, ci-8 dropped=%v", all[7].Dropped(), all[8].Dropped())
	}
	if got := st.Stats().Evicted.Sessions; got != 8 {
		t.Errorf("evicted sessions counted %d, want 8", got)
	}
}

// TestDroppedSessionEndsItsStreams: Done is closed when a limit drops the session.
func TestDroppedSessionEndsItsStreams(t *testing.T) {
	set := loadSet(t, tinyLimits)
	st := New(Options{Seed: 1})
	first := st.Session("first", set)
	for i := 0; i < 3; i++ {
		st.Session(fmt.Sprintf("other-%d", i), set)
	}
	select {
	case <-first.Done():
	default:
		t.Fatal("the dropped session's Done is still open")
	}
}
