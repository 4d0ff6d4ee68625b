package state

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// zonesToKeep are the locations an instant may come in: UTC (the clock),
// Local, fixed offsets without a name (what parsing "+05:30" gives) and
// with one, and a zone of the database when the machine has it.
func zonesToKeep(t *testing.T) []*time.Location {
	locs := []*time.Location{time.UTC, time.Local, time.FixedZone("", 3600), time.FixedZone("", -(9*3600 + 30*60)),
		time.FixedZone("", 0), time.FixedZone("EST", -5*3600)}
	if paris, err := time.LoadLocation("Europe/Paris"); err == nil {
		locs = append(locs, paris)
	} else {
		t.Logf("no zone database: %v", err)
	}
	return locs
}

// TestMessageRecordsRoundTrip: a message decoded from its record is the
// message written, field for field — text with any bytes, JSON fields nil,
// empty or not, instants in every kind of zone (rendered the same, equal
// as values), the flags.
func TestMessageRecordsRoundTrip(t *testing.T) {
	locs := zonesToKeep(t)
	rng := rand.New(rand.NewPCG(3, 4))
	text := func() string {
		const pieces = "aé漢\u2028<>&\x00\"\\ \n"
		var b strings.Builder
		for range rng.IntN(4) * rng.IntN(200) {
			b.WriteString(strings.Split(pieces, "")[rng.IntN(len(strings.Split(pieces, "")))])
		}
		return b.String()
	}
	raw := func() json.RawMessage {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return json.RawMessage{}
		default:
			return json.RawMessage(`{"k":"` + text() + `"}`)
		}
	}
	instant := func() time.Time {
		if rng.IntN(8) == 0 {
			return time.Time{}
		}
		return time.Unix(rng.Int64N(1<<33)-1<<32, rng.Int64N(1e9)).In(locs[rng.IntN(len(locs))])
	}
	for i := range 3000 {
		m := &Message{
			ID: text(), ConversationID: text(), API: scenarios.API(text()), SenderID: text(), Role: text(), Text: text(),
			Metadata: raw(), ReplyTo: text(), HasReplyTo: rng.IntN(2) == 0, CreatedAt: instant(),
			WorkspaceID: text(), OwnerID: text(), MessageType: text(), Tags: raw(), ToolCalls: raw(), Attachments: raw(),
			SentAt: instant(), SentNaive: rng.IntN(2) == 0, Checksum: text(),
		}
		rec := make([]byte, m.recordSize())
		m.encode(rec)
		v := viewMessage(rec)
		got := v.decode()
		if !sameMessage(got, m) || !got.CreatedAt.Equal(m.CreatedAt) ||
			got.CreatedAt.Format(time.RFC3339Nano+" MST") != m.CreatedAt.Format(time.RFC3339Nano+" MST") ||
			got.SentAt.Format(time.RFC3339Nano+" MST") != m.SentAt.Format(time.RFC3339Nano+" MST") {
			t.Fatalf("message %d:\n got %+v\nwant %+v", i, got, m)
		}
		if !recordHolds(rec, m) {
			t.Fatalf("message %d: its record does not hold it", i)
		}
		if string(v.field(fConversationID)) != m.ConversationID || string(v.field(fWorkspaceID)) != m.WorkspaceID || string(messageID(rec)) != m.ID {
			t.Fatalf("message %d: the view's fields", i)
		}
	}
}

// TestJournalRecordsRoundTrip: an entry decoded from its record shows
// what the entry kept, and its near misses render — as the admin API and
// the reports render them, JSON with or without HTML escaping — byte for
// byte as the near misses it was given.
func TestJournalRecordsRoundTrip(t *testing.T) {
	locs := zonesToKeep(t)
	rng := rand.New(rand.NewPCG(5, 6))
	text := func() string {
		words := []string{"a", "<b>", "&", "é", "\u2028", `"q"`, `\`, "x y", ""}
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.String()
	}
	value := func() any {
		switch rng.IntN(7) {
		case 0:
			return nil
		case 1:
			return text()
		case 2:
			return map[string]string{"contains": text()}
		case 3:
			return map[string]bool{"absent": rng.IntN(2) == 0}
		case 4:
			return map[string]any{"regex": text(), "ignore_case": true}
		case 5:
			return rng.Float64()
		default:
			return ""
		}
	}
	for i := range 2000 {
		e := &JournalEntry{
			At: time.Unix(rng.Int64N(1<<33), rng.Int64N(1e9)).In(locs[rng.IntN(len(locs))]), Method: text(), Path: text(),
			Query: text(), Status: rng.IntN(600), Scenario: text(), Rule: text(), Duration: time.Duration(rng.Int64N(1e12)),
			Unmatched: rng.IntN(2) == 0, KeepCredentials: true,
		}
		if rng.IntN(3) > 0 {
			e.Body = []byte(text())
		}
		if rng.IntN(3) > 0 {
			e.RespBody = []byte(text())
		}
		e.Header = map[string][]string{}
		for range rng.IntN(5) {
			e.Header[text()+"h"] = []string{text(), text()}
		}
		e.RespHeader = map[string][]string{"Content-Type": {"application/json"}}
		for range rng.IntN(4) {
			nm := scenarios.NearMiss{Scenario: text(), Rule: text()}
			for range rng.IntN(4) {
				nm.Differences = append(nm.Differences, scenarios.Difference{Field: text(), Expected: value(), Actual: value()})
			}
			e.NearMisses = append(e.NearMisses, nm)
		}
		misses, body, respBody, query, header := e.NearMisses, e.Body, e.RespBody, e.Query, e.Header
		e.Capture()
		got := decodeJournal(e.rec.rec)
		if got.At.Format(time.RFC3339Nano+" MST") != e.At.Format(time.RFC3339Nano+" MST") || !got.At.Equal(e.At) ||
			got.Method != e.Method || got.Path != e.Path || got.Query != query || got.Status != e.Status ||
			got.Scenario != e.Scenario || got.Rule != e.Rule || got.Duration != e.Duration || got.Unmatched != e.Unmatched ||
			!got.KeepCredentials || !reflect.DeepEqual(got.Body, body) || !bytes.Equal(got.RespBody, respBody) ||
			(len(respBody) == 0) != (got.RespBody == nil) || string(journalPath(e.rec.rec)) != e.Path {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, got, e)
		}
		wantHeaders := 0
		for _, vs := range header {
			wantHeaders += len(vs)
		}
		if len(got.Headers) != wantHeaders || len(got.RespHeaders) != 1 || got.RespHeaders[0] != (HeaderField{"Content-Type", "application/json"}) {
			t.Fatalf("entry %d: headers %v / %v", i, got.Headers, got.RespHeaders)
		}
		for _, f := range got.Headers {
			if !contains(header[f.Name], f.Value) {
				t.Fatalf("entry %d: header %q: %q was not sent", i, f.Name, f.Value)
			}
		}
		for _, escape := range []bool{false, true} {
			if g, w := render(t, got.NearMisses, escape), render(t, misses, escape); g != w {
				t.Fatalf("entry %d (escape %v): near misses render\n %s\nwant\n %s", i, escape, g, w)
			}
		}
		e.releaseRecord()
	}
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func render(t *testing.T, v any, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestEventIDs: the event ids drawn are those the session's stream drew
// as strings before (evt_ and eight characters of the alphabet, the same
// draws), and ids of another form are none of the log's.
func TestEventIDs(t *testing.T) {
	s := New(Options{Seed: 7}).Session("", nil)
	stream := newEntropy(7, "")
	for i := range 100 {
		id := s.NewEventID().String()
		parsed, ok := parseEventID(id)
		if want := stream.id("evt_", 8, alnum); id != want || !ok || parsed.String() != id {
			t.Fatalf("event id %d: %q, want %q", i, id, want)
		}
	}
	for _, bad := range []string{"", "evt_", "evt_1234567", "evt_123456789", "msg_12345678"} {
		if _, ok := parseEventID(bad); ok {
			t.Errorf("%q parsed as an event id", bad)
		}
	}
}
