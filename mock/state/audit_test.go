package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// sameMessage reports whether got reads back as want: every field a
// reader sees (not where a session keeps it).
func sameMessage(got, want *Message) bool {
	if got == nil || want == nil {
		return got == want
	}
	g, w := *got, *want
	g.owner, g.rec, g.gen = nil, 0, 0
	w.owner, w.rec, w.gen = nil, 0, 0
	return reflect.DeepEqual(g, w)
}

// recordHolds reports whether rec is m's record, reading it in place.
func recordHolds(rec []byte, m *Message) bool {
	v := viewMessage(rec)
	texts, raws := m.texts(), m.raws()
	for k, want := range texts {
		if string(v.field(k)) != want {
			return false
		}
	}
	for k, want := range raws {
		if v.rawPresent[k] != (want != nil) || !bytes.Equal(rec[v.raw[k]:v.raw[k+1]], want) {
			return false
		}
	}
	sent := time.Time{}
	if v.flags&msgHasSentAt != 0 {
		sent = getTime(rec[1+timeSize:])
	}
	return v.flags&msgHasReplyTo != 0 == m.HasReplyTo && v.flags&msgSentNaive != 0 == m.SentNaive &&
		sameInstant(getTime(rec[1:]), m.CreatedAt) && sameInstant(sent, m.SentAt)
}

// sameInstant reports whether a and b are the same instant in the same
// zone: what renders them.
func sameInstant(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String()
}

// holdsMessage reports whether the session's message m.ID reads back as
// m: its record in place, and decoded unless it is large (the decoding is
// the same code for all; copying large texts only slows the race detector).
func (s *Session) holdsMessage(m *Message) bool {
	h := s.lookup(m.ID)
	return h != 0 && recordHolds(s.msgs.bytes(h), m) && (len(m.Text) > 4<<10 || sameMessage(s.Message(m.ID), m))
}

// logHolds reports whether the i-th event of the log reads back as ev,
// as holdsMessage does.
func (s *Session) logHolds(i int, ev *Event) bool {
	rec := s.events.ref(i)
	delta := ""
	if rec.delta != 0 {
		delta = string(s.msgs.bytes(rec.delta))
	}
	if rec.id.String() != ev.ID || rec.seq != ev.Seq || eventTypes[rec.typ] != ev.Type || !sameInstant(getTime(rec.at[:]), ev.CreatedAt) ||
		delta != ev.Delta || rec.fault != ev.Fault || !recordHolds(s.msgs.bytes(rec.msg), ev.Message) {
		return false
	}
	return len(ev.Message.Text) > 4<<10 || sameEvent(s.EventAt(i), ev)
}

// sameEvent reports whether got reads back as want, its message too.
func sameEvent(got, want *Event) bool {
	g, w := *got, *want
	g.Message, w.Message = nil, nil
	return reflect.DeepEqual(g, w) && sameMessage(got.Message, want.Message)
}

// audit checks the session's retained structures against each other —
// every record where its slot says, with as many holders as hold it; the
// indexes and the logs in step; every chunk but the one being filled at
// least half live — and returns the bytes they hold, recounted from
// scratch (with the added scenarios), and the messages its conversations
// hold. problem is "" when all is well.
func (s *Session) audit() (bytes, messages int64, problem string) {
	if p := s.msgs.audit(); p != "" {
		return 0, 0, "messages arena: " + p
	}
	if p := s.jrnl.audit(); p != "" {
		return 0, 0, "journal arena: " + p
	}
	// Holders, as the structures say.
	msgRefs := map[handle]uint32{}
	var convRing int64
	byID := map[string][]handle{}
	for id, c := range s.convs {
		if c.ID != id || c.arena != s.msgs {
			return 0, 0, fmt.Sprintf("conversation %s misfiled", id)
		}
		convRing += c.messages.bytes()
		for i := range c.messages.len() {
			h := c.messages.at(i)
			msgRefs[h]++
			messages++
			v := viewMessage(s.msgs.bytes(h))
			mid := string(v.field(fID))
			if string(v.field(fConversationID)) != c.ID {
				return 0, 0, fmt.Sprintf("message %s of conversation %s says it is of %s", mid, c.ID, v.field(fConversationID))
			}
			byID[mid] = append(byID[mid], h)
		}
	}
	// Each id finds one of its messages (an id taken twice finds one).
	for mid, hs := range byID {
		if got := s.lookup(mid); !slices.Contains(hs, got) {
			return 0, 0, fmt.Sprintf("message %s (handles %v) is indexed as %d", mid, hs, got)
		}
	}
	if len(byID) != s.msgIndex.len() {
		return 0, 0, fmt.Sprintf("the message index holds %d entries, the conversations %d ids", s.msgIndex.len(), len(byID))
	}
	if convRing != s.convRing {
		return 0, 0, fmt.Sprintf("conversation rings: %d bytes counted, %d held", s.convRing, convRing)
	}
	var last uint64
	for i := range s.events.len() {
		rec := s.events.at(i)
		if rec.seq <= last {
			return 0, 0, fmt.Sprintf("event %d after %d", rec.seq, last)
		}
		last = rec.seq
		if seq, ok := s.eventIndex.find(rec.id.key(), nil); !ok || seq != rec.seq {
			return 0, 0, fmt.Sprintf("event %s is indexed as %d", rec.id, seq)
		}
		msgRefs[rec.msg]++
		if rec.delta != 0 {
			msgRefs[rec.delta]++
		}
	}
	if s.eventIndex.len() != s.events.len() {
		return 0, 0, fmt.Sprintf("the event index holds %d entries, the log %d", s.eventIndex.len(), s.events.len())
	}
	if p := s.msgs.auditRefs(msgRefs); p != "" {
		return 0, 0, "messages arena: " + p
	}
	jrnlRefs := map[handle]uint32{}
	last = 0
	for i := range s.journal.len() {
		h := s.journal.at(i)
		jrnlRefs[h]++
		if seq := journalSeq(s.jrnl.bytes(h)); seq <= last {
			return 0, 0, fmt.Sprintf("journal entry %d after %d", seq, last)
		} else {
			last = seq
		}
	}
	if p := s.jrnl.auditRefs(jrnlRefs); p != "" {
		return 0, 0, "journal arena: " + p
	}
	var added int64
	for _, a := range s.added {
		added += a.size
	}
	bytes = s.msgs.recount() + s.jrnl.recount() + s.msgIndex.bytes() + s.eventIndex.bytes() +
		s.events.bytes() + s.journal.bytes() + convRing + added
	return bytes, messages, ""
}

// audit checks the arena's chunks and slots against each other: every
// live record lies where its slot says, under a header that names it;
// the free slots are the slots without holders; the live bytes are those
// of the live records; no chunk but the current one is under half live.
func (a *arena) audit() string {
	free := map[uint32]bool{}
	if want := (len(a.slots) + 63) / 64; len(a.freeSlots) != want {
		return fmt.Sprintf("%d words of free bits for %d slots", len(a.freeSlots), len(a.slots))
	}
	for h := range len(a.freeSlots) * 64 {
		if a.freeSlots[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		if h == 0 || h >= len(a.slots) || a.slots[h].refs != 0 {
			return fmt.Sprintf("slot %d marked free is none or in use", h)
		}
		if h < a.lowFree {
			return fmt.Sprintf("slot %d is free, under the lowest free %d", h, a.lowFree)
		}
		free[uint32(h)] = true
	}
	if len(free) != a.nfree {
		return fmt.Sprintf("%d free slots counted, %d marked", a.nfree, len(free))
	}
	if n := len(a.slots); n > 1 && a.slots[n-1].refs == 0 {
		return "the slot table ends with a free slot"
	}
	live := make([]uint32, len(a.chunks))
	var liveBytes int64
	for h := 1; h < len(a.slots); h++ {
		sl := a.slots[h]
		if sl.refs == 0 {
			if !free[uint32(h)] {
				return fmt.Sprintf("slot %d has no holder and is not free", h)
			}
			continue
		}
		if int(sl.chunk) >= len(a.chunks) || a.chunks[sl.chunk].data == nil {
			return fmt.Sprintf("record %d in a freed chunk %d", h, sl.chunk)
		}
		ch := &a.chunks[sl.chunk]
		if sl.off < recordHeader || sl.off+sl.size > ch.used {
			return fmt.Sprintf("record %d at %d+%d past its chunk's %d bytes used", h, sl.off, sl.size, ch.used)
		}
		hdr := ch.data[sl.off-recordHeader:]
		if binary.LittleEndian.Uint32(hdr) != uint32(h) || binary.LittleEndian.Uint32(hdr[4:]) != sl.size {
			return fmt.Sprintf("record %d: its header names %d of %d bytes", h, binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint32(hdr[4:]))
		}
		live[sl.chunk] += sl.size + recordHeader
		liveBytes += int64(sl.size + recordHeader)
	}
	if liveBytes != a.liveBytes {
		return fmt.Sprintf("%d live bytes counted, %d held", a.liveBytes, liveBytes)
	}
	freeChunks := map[uint32]bool{}
	for _, c := range a.freeChunks {
		freeChunks[c] = true
	}
	for c := range a.chunks {
		ch := &a.chunks[c]
		if ch.data == nil {
			if !freeChunks[uint32(c)] {
				return fmt.Sprintf("chunk %d is freed but not listed", c)
			}
			continue
		}
		if ch.live != live[c] {
			return fmt.Sprintf("chunk %d counts %d live bytes, holds %d", c, ch.live, live[c])
		}
		if ch.live == 0 && c != a.cur {
			return fmt.Sprintf("chunk %d holds nothing and is kept", c)
		}
		if ch.big && int(ch.live) != len(ch.data) {
			return fmt.Sprintf("big chunk %d is %d bytes for a record of %d", c, len(ch.data), ch.live)
		}
		if c != a.cur && int(ch.live)*2 < len(ch.data) {
			return fmt.Sprintf("chunk %d is %d/%d live: not compacted", c, ch.live, len(ch.data))
		}
		// Walking the chunk meets every live record once.
		var walked uint32
		for off := uint32(0); off < ch.used; {
			h := binary.LittleEndian.Uint32(ch.data[off:])
			size := binary.LittleEndian.Uint32(ch.data[off+4:])
			at := off + recordHeader
			if int(h) < len(a.slots) && a.slots[h].refs > 0 && int(a.slots[h].chunk) == c && a.slots[h].off == at {
				walked += size + recordHeader
			}
			off = at + size
			if off > ch.used {
				return fmt.Sprintf("chunk %d: a record runs past its end", c)
			}
		}
		if walked != ch.live {
			return fmt.Sprintf("chunk %d: walking it finds %d live bytes of %d", c, walked, ch.live)
		}
	}
	return ""
}

// auditRefs checks that each record has as many holders as refs says and
// that no record is live that nothing holds.
func (a *arena) auditRefs(refs map[handle]uint32) string {
	for h, n := range refs {
		if int(h) >= len(a.slots) || a.slots[h].refs != n {
			return fmt.Sprintf("record %d has %d holders, counts %d", h, n, a.slots[h].refs)
		}
	}
	for h := 1; h < len(a.slots); h++ {
		if a.slots[h].refs > 0 && refs[handle(h)] == 0 {
			return fmt.Sprintf("record %d is live and nothing holds it", h)
		}
	}
	return ""
}

// recount is held, from the chunks themselves.
func (a *arena) recount() int64 {
	var n int64
	for _, ch := range a.chunks {
		n += int64(len(ch.data))
	}
	return n + int64(cap(a.slots))*slotSize + int64(cap(a.chunks))*chunkSize +
		int64(cap(a.freeSlots))*8 + int64(cap(a.freeChunks)+cap(a.sparse))*4
}
