package webhooks_test

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/webhooks"
)

// TestSign: the Standard Webhooks test vector, and other messages against
// an HMAC computed here.
func TestSign(t *testing.T) {
	vectorKey, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	for _, tc := range []struct {
		name string
		key  []byte
		id   string
		ts   int64
		body string
		want string
	}{
		{"spec vector", vectorKey, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, `{"test": 2432232314}`, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"empty body", vectorKey, "evt_1", 0, ``, expectedSignature(vectorKey, "evt_1", "0", nil)},
		{"other key", []byte("second receiver's key"), "evt_2", 1700000000, `{"a":"b.c"}`, expectedSignature([]byte("second receiver's key"), "evt_2", "1700000000", []byte(`{"a":"b.c"}`))},
	} {
		if got := webhooks.Sign(tc.key, tc.id, tc.ts, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: Sign=%s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDeliveryIsSigned: each hook gets the event's rendered body with the
// Standard Webhooks headers, signed with its own secret.
func TestDeliveryIsSigned(t *testing.T) {
	a := newReceiver(t, false, nil)
	b := newReceiver(t, false, nil)
	h := newHarness(t)
	set := loadSet(t, "", hook{url: a.URL, secret: secretA}, hook{url: b.URL, secret: secretB})

	before := time.Now().Unix()
	ev := event("evt_signed", state.MessageCreated)
	h.d.Publish(set, ev)
	waitUntil(t, "both deliveries", func() bool { return h.finished(a.URL) == 1 && h.finished(b.URL) == 1 })
	after := time.Now().Unix()

	for _, tc := range []struct {
		name   string
		r      *receiver
		secret string
	}{{"a", a, secretA}, {"b", b, secretB}} {
		got := tc.r.requests()
		if len(got) != 1 {
			t.Fatalf("%s: %d requests, want 1", tc.name, len(got))
		}
		req := got[0]
		if req.ID != ev.ID || req.ContentType != "application/json" || !bytes.Equal(req.Body, render(ev)) {
			t.Errorf("%s: webhook-id %q, Content-Type %q, body %s; want %q, application/json, %s", tc.name, req.ID, req.ContentType, req.Body, ev.ID, render(ev))
		}
		ts, err := strconv.ParseInt(req.Timestamp, 10, 64)
		if err != nil || ts < before || ts > after {
			t.Errorf("%s: webhook-timestamp %q, want Unix seconds in [%d, %d]", tc.name, req.Timestamp, before, after)
		}
		if want := expectedSignature(keyOf(t, tc.secret), req.ID, req.Timestamp, req.Body); req.Signature != want {
			t.Errorf("%s: webhook-signature %q, want %q", tc.name, req.Signature, want)
		}
		att := h.attemptsTo(tc.r.URL)
		if len(att) != 1 || att[0].EventID != ev.ID || att[0].Attempt != 1 || att[0].Status != 204 || att[0].Error != "" || att[0].NextRetryAt != "" {
			t.Errorf("%s: attempts %+v, want one, answered 204, no retry", tc.name, att)
		}
	}
}

// TestRetriesBackOffOnTheVirtualClock: a failed attempt is retried when
// the virtual clock reaches the attempt's end plus 0.5s, 1s, 2s, 4s — not
// before — with the same webhook-id, up to five attempts in all.
func TestRetriesBackOffOnTheVirtualClock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  func(n int) int // nil with refused: no receiver at all
		refused bool
		want    []int // the status of each attempt listed
	}{
		{"always 500", func(int) int { return 500 }, false, []int{500, 500, 500, 500, 500}},
		{"503, 429, then 200", func(n int) int { return []int{503, 429, 200}[min(n, 3)-1] }, false, []int{503, 429, 200}},
		{"3xx is a failure too", func(n int) int { return []int{302, 204}[min(n, 2)-1] }, false, []int{302, 204}},
		{"connection refused", nil, true, []int{0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *receiver
			url := closedURL(t)
			if !tc.refused {
				r = newReceiver(t, false, tc.status)
				url = r.URL
			}
			h := newHarness(t)
			ev := event("evt_retried", state.MessageCreated)
			h.d.Publish(loadSet(t, "", hook{url: url, secret: secretA}), ev)

			for k := 1; k <= len(tc.want); k++ {
				waitUntil(t, "attempt "+strconv.Itoa(k), func() bool { return h.finished(url) == k })
				att := h.attemptsTo(url)[k-1]
				if att.EventID != ev.ID || att.Attempt != k || att.Status != tc.want[k-1] || (att.Error != "") != tc.refused {
					t.Fatalf("attempt %d listed as %+v, want status %d (error: %v)", k, att, tc.want[k-1], tc.refused)
				}
				last := k == len(tc.want)
				if last {
					if att.NextRetryAt != "" {
						t.Fatalf("the last attempt has a retry due at %s", att.NextRetryAt)
					}
					break
				}
				due := h.clock.Now().Add(500 * time.Millisecond << (k - 1))
				if att.NextRetryAt != due.Format(time.RFC3339Nano) {
					t.Fatalf("attempt %d: next_retry_at %s, want %s (the clock's time plus the back-off)", k, att.NextRetryAt, due.Format(time.RFC3339Nano))
				}
				h.jobs.Move(due.Add(-time.Nanosecond))
				if p := h.jobs.Stats().Pending; p != 1 || len(h.attemptsTo(url)) != k {
					t.Fatalf("just before the retry is due: %d jobs pending, %d attempts; want 1 and %d", p, len(h.attemptsTo(url)), k)
				}
				h.jobs.Move(due)
			}
			if p := h.jobs.Stats().Pending; p != 0 {
				t.Fatalf("%d jobs pending after the last attempt, want 0", p)
			}
			if r == nil {
				return
			}
			got := r.requests()
			if len(got) != len(tc.want) {
				t.Fatalf("the receiver got %d requests, want %d", len(got), len(tc.want))
			}
			for i, req := range got {
				if req.ID != ev.ID || req.Signature != expectedSignature(keyOf(t, secretA), req.ID, req.Timestamp, req.Body) {
					t.Errorf("request %d: webhook-id %q, signature %q; want %q, signed", i+1, req.ID, req.Signature, ev.ID)
				}
			}
		})
	}
}

// TestEventsFilter: a hook listing event types gets only those; one
// listing none gets all. Deliveries to one endpoint keep their order, so a
// filtered-out event queued by mistake would arrive before the next one.
func TestEventsFilter(t *testing.T) {
	created := newReceiver(t, false, nil)
	deltas := newReceiver(t, false, nil)
	all := newReceiver(t, false, nil)
	h := newHarness(t)
	set := loadSet(t, "",
		hook{url: created.URL, secret: secretA, events: []string{state.MessageCreated}},
		hook{url: deltas.URL, secret: secretA, events: []string{state.MessageDelta}},
		hook{url: all.URL, secret: secretB})

	for _, ev := range []*state.Event{
		event("evt_d1", state.MessageDelta),
		event("evt_c1", state.MessageCreated),
		event("evt_d2", state.MessageDelta),
		event("evt_c2", state.MessageCreated),
	} {
		h.d.Publish(set, ev)
	}
	for _, tc := range []struct {
		name string
		r    *receiver
		want []string
	}{
		{"message.created only", created, []string{"evt_c1", "evt_c2"}},
		{"message.delta only", deltas, []string{"evt_d1", "evt_d2"}},
		{"every type", all, []string{"evt_d1", "evt_c1", "evt_d2", "evt_c2"}},
	} {
		waitUntil(t, tc.name, func() bool { return h.finished(tc.r.URL) == len(tc.want) })
		if got := tc.r.ids(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOrderPerEndpoint: one endpoint gets events in the order published,
// and a hanging endpoint delays no other.
func TestOrderPerEndpoint(t *testing.T) {
	slow := newReceiver(t, true, nil)
	fast := newReceiver(t, false, nil)
	h := newHarness(t)
	set := loadSet(t, "", hook{url: slow.URL, secret: secretA}, hook{url: fast.URL, secret: secretB})

	var want []string
	for i := range 20 {
		id := "evt_" + strconv.Itoa(i)
		want = append(want, id)
		h.d.Publish(set, event(id, state.MessageCreated))
	}
	waitUntil(t, "the fast endpoint's 20 deliveries", func() bool { return h.finished(fast.URL) == 20 })
	if got := fast.ids(); !slices.Equal(got, want) {
		t.Fatalf("fast endpoint: got %v, want %v", got, want)
	}
	// The fast endpoint's end says nothing of when the slow one's first
	// request arrives: wait for it, then see that it is the only one.
	waitUntil(t, "the hanging endpoint's first request", func() bool { return len(slow.ids()) > 0 })
	if got := slow.ids(); !slices.Equal(got, want[:1]) {
		t.Fatalf("hanging endpoint: got %v, want only the first in flight", got)
	}
	slow.release()
	waitUntil(t, "the slow endpoint's 20 deliveries", func() bool { return h.finished(slow.URL) == 20 })
	if got := slow.ids(); !slices.Equal(got, want) {
		t.Fatalf("slow endpoint: got %v, want %v", got, want)
	}
}

// droppedAttempt finds the listed attempt for eventID that was not sent.
func droppedAttempt(h *harness, url, eventID string) (webhooks.Attempt, bool) {
	for _, a := range h.attemptsTo(url) {
		if a.EventID == eventID && a.Status == 0 && strings.HasPrefix(a.Error, "dropped: ") {
			return a, true
		}
	}
	return webhooks.Attempt{}, false
}

// TestQueueBound: past QueueSize deliveries waiting for one endpoint, a
// new one is dropped and listed as such.
func TestQueueBound(t *testing.T) {
	r := newReceiver(t, true, nil)
	h := newHarness(t)
	set := loadSet(t, "", hook{url: r.URL, secret: secretA})

	h.d.Publish(set, event("evt_in_flight", state.MessageCreated))
	waitUntil(t, "the first delivery in flight", func() bool { return r.count() == 1 })
	for i := range webhooks.QueueSize {
		h.d.Publish(set, event("evt_q"+strconv.Itoa(i), state.MessageCreated))
	}
	if n := len(h.attemptsTo(r.URL)); n != 1 {
		t.Fatalf("%d attempts listed with the queue exactly full, want 1 (the one in flight)", n)
	}
	h.d.Publish(set, event("evt_over", state.MessageCreated))
	a, ok := droppedAttempt(h, r.URL, "evt_over")
	if want := "dropped: more than 4096 deliveries waiting"; !ok || a.Error != want || a.Attempt != 1 || a.Pending {
		t.Fatalf("the delivery past the queue: %+v, want listed with error %q", a, want)
	}
	if r.count() != 1 {
		t.Fatalf("the receiver got %d requests while the first hung, want 1", r.count())
	}
}

// TestPendingBytesBound: deliveries not yet finished hold at most
// state.PendingLimit of settings.retention.message_bytes (1MiB here); past
// it a delivery is dropped and listed, and finished ones give their bytes
// back.
func TestPendingBytesBound(t *testing.T) {
	r := newReceiver(t, true, nil)
	h := newHarness(t)
	set := loadSet(t, "  retention: {message_bytes: 1MiB}\n  body_limit: 64KiB\n", hook{url: r.URL, secret: secretA})
	if state.PendingLimit(set.Settings.Retention.MessageBytes) != 1<<20 {
		t.Fatalf("PendingLimit=%d, the test assumes 1MiB", state.PendingLimit(set.Settings.Retention.MessageBytes))
	}
	big := func(id string) *state.Event {
		ev := event(id, state.MessageDelta)
		ev.Delta = strings.Repeat("x", 300<<10)
		return ev
	}
	for _, id := range []string{"evt_1", "evt_2", "evt_3", "evt_4"} {
		h.d.Publish(set, big(id))
	}
	a, ok := droppedAttempt(h, r.URL, "evt_4")
	if want := "dropped: more than 1024 KiB of deliveries pending"; !ok || a.Error != want {
		t.Fatalf("the fourth 300KiB delivery: %+v, want listed with error %q", a, want)
	}
	for _, id := range []string{"evt_1", "evt_2", "evt_3"} {
		if _, dropped := droppedAttempt(h, r.URL, id); dropped {
			t.Fatalf("%s was dropped; three 300KiB deliveries fit in 1MiB", id)
		}
	}
	r.release()
	waitUntil(t, "three deliveries", func() bool { return r.count() == 3 && h.finished(r.URL) == 4 })
	h.d.Publish(set, big("evt_5"))
	waitUntil(t, "the fifth delivery", func() bool { return h.finished(r.URL) == 5 })
	if got, want := r.ids(), []string{"evt_1", "evt_2", "evt_3", "evt_5"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v (the bytes of finished deliveries are given back)", got, want)
	}
}

// TestCloseCancelsAndWaits: Close cancels the POST in flight and returns
// once every endpoint's goroutine has ended; queued deliveries and pending
// retries are dropped, and nothing is sent after.
func TestCloseCancelsAndWaits(t *testing.T) {
	hanging := newReceiver(t, true, nil)
	failing := newReceiver(t, false, func(int) int { return 500 })
	h := newHarness(t)
	set := loadSet(t, "", hook{url: hanging.URL, secret: secretA}, hook{url: failing.URL, secret: secretB})

	h.d.Publish(set, event("evt_1", state.MessageCreated))
	h.d.Publish(set, event("evt_2", state.MessageCreated))
	waitUntil(t, "one POST in flight and two failed", func() bool { return hanging.count() == 1 && h.finished(failing.URL) == 2 })
	if n := endpointGoroutines(); n != 2 {
		t.Fatalf("%d endpoint goroutines, want 2", n)
	}

	h.d.Close()
	// Close waited: the attempt in flight is over the moment it returns.
	listed := h.d.Attempts()
	for _, a := range listed {
		if a.Pending {
			t.Fatalf("an attempt is still in flight after Close returned: %+v", a)
		}
	}
	// A goroutine past its wg.Done may still show in a stack dump for an instant.
	waitUntil(t, "the endpoint goroutines to exit", func() bool { return endpointGoroutines() == 0 })
	if att := h.attemptsTo(hanging.URL); len(att) != 1 || att[0].EventID != "evt_1" || att[0].Status != 0 {
		t.Fatalf("hanging endpoint's attempts %+v, want evt_1 listed without an answer", att)
	}
	waitUntil(t, "the receiver to see its request cancelled", func() bool { return slices.Equal(hanging.cancelledIDs(), []string{"evt_1"}) })

	// The retries due and a new event go nowhere.
	h.jobs.Move(start.Add(time.Hour))
	h.d.Publish(set, event("evt_3", state.MessageCreated))
	if got := h.d.Attempts(); len(got) != len(listed) {
		t.Fatalf("attempts after Close: %+v, want the %d listed before", got, len(listed))
	}
	if n := endpointGoroutines(); n != 0 {
		t.Fatalf("%d endpoint goroutines after a publish past Close, want 0", n)
	}
	if hanging.count() != 1 || failing.count() != 2 {
		t.Fatalf("requests after Close: hanging %d, failing %d; want 1 and 2", hanging.count(), failing.count())
	}
}
