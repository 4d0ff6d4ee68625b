package webhooks_test

import (
	"slices"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock/state"
)

const removed = "dropped: the webhook was removed from the settings"

// TestReloadRemovingAWebhookEndsItsEndpoint: once events are published
// with a configuration that no longer lists URL A, A's POST in flight is
// cancelled, its queued deliveries are listed as dropped, its goroutine
// ends, and it gets nothing more; B, still listed, goes on.
func TestReloadRemovingAWebhookEndsItsEndpoint(t *testing.T) {
	a := newReceiver(t, true, nil)
	b := newReceiver(t, false, nil)
	h := newHarness(t)
	both := loadSet(t, "", hook{url: a.URL, secret: secretA}, hook{url: b.URL, secret: secretB})
	onlyB := loadSet(t, "", hook{url: b.URL, secret: secretB})

	for _, id := range []string{"evt_1", "evt_2", "evt_3"} {
		h.d.Publish(both, event(id, state.MessageCreated))
	}
	waitUntil(t, "A's first POST in flight and B's three delivered", func() bool { return a.count() == 1 && h.finished(b.URL) == 3 })
	if n := endpointGoroutines(); n != 2 {
		t.Fatalf("%d endpoint goroutines, want 2", n)
	}

	h.d.Publish(onlyB, event("evt_4", state.MessageCreated))
	waitUntil(t, "A's goroutine to end", func() bool { return endpointGoroutines() == 1 })
	waitUntil(t, "A's receiver to see its request cancelled", func() bool { return slices.Equal(a.cancelledIDs(), []string{"evt_1"}) })

	// The goroutine lists what was queued before it ends: no waiting here.
	att := h.attemptsTo(a.URL)
	if len(att) != 3 {
		t.Fatalf("A's attempts: %+v, want 3 (evt_1 cancelled in flight, evt_2 and evt_3 dropped)", att)
	}
	if att[0].EventID != "evt_1" || att[0].Pending || att[0].Status != 0 {
		t.Errorf("A's attempt in flight listed as %+v, want evt_1 ended without an answer", att[0])
	}
	for i, id := range []string{"evt_2", "evt_3"} {
		if got := att[i+1]; got.EventID != id || got.Error != removed || got.Attempt != 1 || got.Pending {
			t.Errorf("A's queued %s listed as %+v, want error %q", id, got, removed)
		}
	}
	waitUntil(t, "B's fourth delivery", func() bool { return h.finished(b.URL) == 4 })
	if got, want := b.ids(), []string{"evt_1", "evt_2", "evt_3", "evt_4"}; !slices.Equal(got, want) {
		t.Fatalf("B got %v, want %v", got, want)
	}
	if got := a.ids(); !slices.Equal(got, []string{"evt_1"}) {
		t.Fatalf("A got %v after it was removed, want only evt_1", got)
	}
}

// TestReloadRemovingAWebhookDropsItsRetry: a retry that falls due after
// the configuration stopped listing its URL is dropped and listed as such;
// a configuration that lists the URL again brings the endpoint back.
func TestReloadRemovingAWebhookDropsItsRetry(t *testing.T) {
	a := newReceiver(t, false, func(n int) int {
		if n == 1 {
			return 500
		}
		return 204
	})
	b := newReceiver(t, false, nil)
	h := newHarness(t)
	both := loadSet(t, "", hook{url: a.URL, secret: secretA}, hook{url: b.URL, secret: secretB})
	onlyB := loadSet(t, "", hook{url: b.URL, secret: secretB})

	h.d.Publish(both, event("evt_1", state.MessageCreated))
	waitUntil(t, "A's failed attempt", func() bool { return h.finished(a.URL) == 1 })
	if att := h.attemptsTo(a.URL)[0]; att.Status != 500 || att.NextRetryAt == "" {
		t.Fatalf("A's first attempt: %+v, want 500 with a retry due", att)
	}

	h.d.Publish(onlyB, event("evt_2", state.MessageCreated))
	waitUntil(t, "A's goroutine to end", func() bool { return endpointGoroutines() == 1 })
	h.jobs.Move(start.Add(time.Second)) // past the retry: it runs, and is dropped, before Move returns
	att := h.attemptsTo(a.URL)
	if len(att) != 2 || att[1].EventID != "evt_1" || att[1].Attempt != 2 || att[1].Error != removed {
		t.Fatalf("A's attempts: %+v, want the retry (attempt 2) listed with error %q", att, removed)
	}
	if n := endpointGoroutines(); n != 1 {
		t.Fatalf("%d endpoint goroutines after the dropped retry, want 1: a retry must not restart a removed endpoint", n)
	}

	h.d.Publish(both, event("evt_3", state.MessageCreated))
	waitUntil(t, "A's delivery after it was listed again", func() bool { return h.finished(a.URL) == 3 })
	if got, want := a.ids(), []string{"evt_1", "evt_3"}; !slices.Equal(got, want) {
		t.Fatalf("A got %v, want %v", got, want)
	}
	if n := endpointGoroutines(); n != 2 {
		t.Fatalf("%d endpoint goroutines, want 2 once A is listed again", n)
	}
}
