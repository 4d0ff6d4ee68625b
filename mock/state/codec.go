package state

import (
	"encoding/binary"
	"encoding/json"
	"sync"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// Records are written with fixed-size numbers (little endian) and
// lengths as uvarints, the text after them in one run, so that a reader
// allocates one string for all of a record's text.

// timeSize is an instant's size in a record: Unix seconds, nanoseconds
// and its zone.
const timeSize = 16

// Zones as a record keeps them: UTC, Local, a fixed offset without a name
// (what parsing "+02:00" gives), or another location, interned.
const (
	zoneUTC = iota
	zoneLocal
	zoneFixed
	zoneInterned
)

// zones interns the locations that are none of the above (a name loaded
// from the zone database): few, if any.
var zones struct {
	sync.Mutex
	all   []*time.Location
	index map[*time.Location]uint32
	fixed map[int32]*time.Location
}

// maxInternedZones bounds zones.all; past it an instant keeps its offset
// only, which is all that msgmock renders of it.
const maxInternedZones = 1024

func putTime(b []byte, t time.Time) {
	binary.LittleEndian.PutUint64(b, uint64(t.Unix()))
	binary.LittleEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	binary.LittleEndian.PutUint32(b[12:], uint32(zoneOf(t)))
}

func zoneOf(t time.Time) int32 {
	loc := t.Location()
	switch loc {
	case time.UTC:
		return zoneUTC
	case time.Local:
		return zoneLocal
	}
	_, off := t.Zone()
	if loc.String() == "" {
		return int32(off)<<2 | zoneFixed
	}
	zones.Lock()
	defer zones.Unlock()
	i, ok := zones.index[loc]
	if !ok {
		if len(zones.all) >= maxInternedZones {
			return int32(off)<<2 | zoneFixed
		}
		if zones.index == nil {
			zones.index = map[*time.Location]uint32{}
		}
		i = uint32(len(zones.all))
		zones.all = append(zones.all, loc)
		zones.index[loc] = i
	}
	return int32(i)<<2 | zoneInterned
}

func getTime(b []byte) time.Time {
	t := time.Unix(int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint32(b[8:])))
	z := int32(binary.LittleEndian.Uint32(b[12:]))
	switch z & 3 {
	case zoneUTC:
		return t.UTC()
	case zoneLocal:
		return t.Local()
	}
	zones.Lock()
	defer zones.Unlock()
	if z&3 == zoneInterned {
		return t.In(zones.all[z>>2])
	}
	loc := zones.fixed[z>>2]
	if loc == nil {
		if zones.fixed == nil {
			zones.fixed = map[int32]*time.Location{}
		}
		loc = time.FixedZone("", int(z>>2))
		zones.fixed[z>>2] = loc
	}
	return t.In(loc)
}

// A message record: flags, CreatedAt, SentAt (when set), the lengths of
// its text fields and of its JSON fields (length+1, 0: nil), then the
// text, then the JSON.
const (
	msgHasReplyTo = 1 << iota
	msgSentNaive
	msgHasSentAt
)

// The text fields, in record order: the first ones are what event filters
// read without decoding.
const (
	fID = iota
	fConversationID
	fAPI
	fWorkspaceID
	fSenderID
	fRole
	fText
	fReplyTo
	fOwnerID
	fMessageType
	fChecksum
	textFields
)

// The JSON fields, after the text.
const (
	fMetadata = iota
	fTags
	fToolCalls
	fAttachments
	rawFields
)

func (m *Message) texts() [textFields]string {
	return [textFields]string{m.ID, m.ConversationID, string(m.API), m.WorkspaceID, m.SenderID, m.Role, m.Text,
		m.ReplyTo, m.OwnerID, m.MessageType, m.Checksum}
}

func (m *Message) raws() [rawFields]json.RawMessage {
	return [rawFields]json.RawMessage{m.Metadata, m.Tags, m.ToolCalls, m.Attachments}
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// recordSize is the size of m's record.
func (m *Message) recordSize() int {
	n := 1 + timeSize
	if !m.SentAt.IsZero() {
		n += timeSize
	}
	for _, s := range m.texts() {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	for _, r := range m.raws() {
		n += uvarintLen(rawLen(r)) + len(r)
	}
	return n
}

func rawLen(r json.RawMessage) uint64 {
	if r == nil {
		return 0
	}
	return uint64(len(r)) + 1
}

// encode writes m's record into b, recordSize long.
func (m *Message) encode(b []byte) {
	var flags byte
	if m.HasReplyTo {
		flags |= msgHasReplyTo
	}
	if m.SentNaive {
		flags |= msgSentNaive
	}
	if !m.SentAt.IsZero() {
		flags |= msgHasSentAt
	}
	b[0] = flags
	putTime(b[1:], m.CreatedAt)
	i := 1 + timeSize
	if !m.SentAt.IsZero() {
		putTime(b[i:], m.SentAt)
		i += timeSize
	}
	texts, raws := m.texts(), m.raws()
	for _, s := range texts {
		i += binary.PutUvarint(b[i:], uint64(len(s)))
	}
	for _, r := range raws {
		i += binary.PutUvarint(b[i:], rawLen(r))
	}
	for _, s := range texts {
		i += copy(b[i:], s)
	}
	for _, r := range raws {
		i += copy(b[i:], r)
	}
}

// Packed is a message as a record of its own: what a reply waiting for
// its delay holds until it is stored — bytes the collector marks as one
// object and never scans, where a *Message and its strings are several
// objects and a score of pointers, and tens of thousands of replies wait
// at once under load.
type Packed []byte

// Pack encodes m.
func Pack(m *Message) Packed {
	b := make(Packed, m.recordSize())
	m.encode(b)
	return b
}

// msgView locates a message record's fields without copying them.
type msgView struct {
	rec        []byte
	flags      byte
	text       [textFields + 1]int // offsets: field k is rec[text[k]:text[k+1]]
	raw        [rawFields + 1]int
	rawPresent [rawFields]bool
}

func viewMessage(rec []byte) (v msgView) {
	v.rec, v.flags = rec, rec[0]
	i := 1 + timeSize
	if v.flags&msgHasSentAt != 0 {
		i += timeSize
	}
	var lens [textFields + rawFields]uint64
	for k := range lens {
		x, n := binary.Uvarint(rec[i:])
		lens[k] = x
		i += n
	}
	for k := 0; k < textFields; k++ {
		v.text[k] = i
		i += int(lens[k])
	}
	v.text[textFields] = i
	for k := 0; k < rawFields; k++ {
		v.raw[k] = i
		if l := lens[textFields+k]; l > 0 {
			v.rawPresent[k] = true
			i += int(l - 1)
		}
	}
	v.raw[rawFields] = i
	return v
}

// messageID is the id field of a message record, still in the record:
// viewMessage's offsets for one field (an eviction only needs the id).
func messageID(rec []byte) []byte {
	i := 1 + timeSize
	if rec[0]&msgHasSentAt != 0 {
		i += timeSize
	}
	idLen, n := binary.Uvarint(rec[i:])
	i += n
	for k := 1; k < textFields+rawFields; k++ { // the other lengths: skipped
		for rec[i] >= 0x80 {
			i++
		}
		i++
	}
	return rec[i : i+int(idLen)]
}

// field is text field k, still in the record.
func (v *msgView) field(k int) []byte { return v.rec[v.text[k]:v.text[k+1]] }

// decode copies the record out: a Message that shares nothing with the
// arena, for a reader to use after the session's lock.
func (v *msgView) decode() *Message {
	text := string(v.rec[v.text[0]:v.text[textFields]])
	base := v.text[0]
	s := func(k int) string { return text[v.text[k]-base : v.text[k+1]-base] }
	var raw []byte
	if v.raw[rawFields] > v.raw[0] {
		raw = append([]byte(nil), v.rec[v.raw[0]:v.raw[rawFields]]...)
	}
	r := func(k int) json.RawMessage {
		if !v.rawPresent[k] {
			return nil
		}
		from, to := v.raw[k]-v.raw[0], v.raw[k+1]-v.raw[0]
		if from == to {
			return json.RawMessage{}
		}
		return raw[from:to:to]
	}
	m := &Message{
		ID: s(fID), ConversationID: s(fConversationID), API: scenarios.API(s(fAPI)), WorkspaceID: s(fWorkspaceID),
		SenderID: s(fSenderID), Role: s(fRole), Text: s(fText), ReplyTo: s(fReplyTo), OwnerID: s(fOwnerID),
		MessageType: s(fMessageType), Checksum: s(fChecksum),
		Metadata: r(fMetadata), Tags: r(fTags), ToolCalls: r(fToolCalls), Attachments: r(fAttachments),
		HasReplyTo: v.flags&msgHasReplyTo != 0, SentNaive: v.flags&msgSentNaive != 0,
		CreatedAt: getTime(v.rec[1:]),
	}
	if v.flags&msgHasSentAt != 0 {
		m.SentAt = getTime(v.rec[1+timeSize:])
	}
	return m
}
