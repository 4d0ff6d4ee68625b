package webhooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/mock/webhooks"
	"github.com/msgmock/msgmock/scenarios"
)

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// Two secrets, so a test can tell that each hook is signed with its own.
const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_c2Vjb25kIHJlY2VpdmVyJ3Mga2V5" // "second receiver's key"
)

func keyOf(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// hook is one entry of settings.webhooks.
type hook struct {
	url, secret string
	events      []string // none: every type
}

// loadSet builds a configuration through the fixtures loader, as a reload
// would: settings.webhooks lists hooks; extra is more YAML under settings.
func loadSet(t *testing.T, extra string, hooks ...hook) *scenarios.Set {
	t.Helper()
	var y strings.Builder
	y.WriteString("settings:\n")
	if len(hooks) > 0 {
		y.WriteString("  webhooks:\n")
	}
	for _, h := range hooks {
		fmt.Fprintf(&y, "    - url: %q\n      secret: %s\n", h.url, h.secret)
		if len(h.events) > 0 {
			fmt.Fprintf(&y, "      events: [%s]\n", strings.Join(h.events, ", "))
		}
	}
	y.WriteString(extra)
	set, err := scenarios.Load(fstest.MapFS{"settings.yaml": {Data: []byte(y.String())}}, "")
	if err != nil {
		t.Fatalf("fixtures:\n%s\n%v", y.String(), err)
	}
	return set
}

// render is the body of an event as the tests' "API" shows it; a delta's
// text makes a body as large as a test needs.
func render(ev *state.Event) []byte {
	b, _ := json.Marshal(map[string]string{"id": ev.ID, "type": ev.Type, "delta": ev.Delta})
	return b
}

func event(id, typ string) *state.Event {
	return &state.Event{ID: id, Type: typ, CreatedAt: start}
}

// harness is a Dispatcher on a started scheduler over a virtual clock.
type harness struct {
	clock *clock.Clock
	jobs  *clock.Scheduler
	d     *webhooks.Dispatcher
}

// newHarness starts a Dispatcher; it is closed when the test ends, before
// receivers made earlier in the test are.
func newHarness(t *testing.T) *harness {
	c := clock.NewVirtual(start)
	jobs := clock.NewScheduler(slog.New(slog.DiscardHandler), 0, c)
	jobs.Start(context.Background())
	d := webhooks.New(jobs, render)
	d.Start(context.Background())
	t.Cleanup(func() {
		d.Close()
		jobs.Close()
	})
	return &harness{clock: c, jobs: jobs, d: d}
}

// attemptsTo lists the attempts at url, oldest first.
func (h *harness) attemptsTo(url string) []webhooks.Attempt {
	var out []webhooks.Attempt
	for _, a := range h.d.Attempts() {
		if a.URL == url {
			out = append(out, a)
		}
	}
	return out
}

// finished is how many attempts at url are over (not in flight).
func (h *harness) finished(url string) int {
	n := 0
	for _, a := range h.attemptsTo(url) {
		if !a.Pending {
			n++
		}
	}
	return n
}

// received is one POST as a receiver saw it.
type received struct {
	ID, Timestamp, Signature, ContentType string
	Body                                  []byte
}

// receiver is a webhook endpoint over real HTTP.
type receiver struct {
	URL string

	status func(n int) int // the answer to the nth request, from 1; default 204
	held   chan struct{}   // non-nil: requests wait for release (or their own end)
	once   sync.Once

	mu        sync.Mutex
	got       []received
	cancelled []string // webhook-ids of held requests whose context ended
}

func newReceiver(t *testing.T, held bool, status func(n int) int) *receiver {
	r := &receiver{status: status}
	if held {
		r.held = make(chan struct{})
	}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = srv.URL + "/hooks"
	t.Cleanup(func() {
		r.release()
		srv.Close()
	})
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, received{
		ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), ContentType: req.Header.Get("Content-Type"), Body: body,
	})
	n := len(r.got)
	r.mu.Unlock()
	if r.held != nil {
		select {
		case <-r.held:
		case <-req.Context().Done():
			r.mu.Lock()
			r.cancelled = append(r.cancelled, req.Header.Get("webhook-id"))
			r.mu.Unlock()
			return
		}
	}
	code := http.StatusNoContent
	if r.status != nil {
		code = r.status(n)
	}
	w.WriteHeader(code)
}

func (r *receiver) release() {
	if r.held != nil {
		r.once.Do(func() { close(r.held) })
	}
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) ids() []string {
	var ids []string
	for _, g := range r.requests() {
		ids = append(ids, g.ID)
	}
	return ids
}

func (r *receiver) count() int { return len(r.requests()) }

func (r *receiver) cancelledIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cancelled)
}

// waitUntil polls cond until it holds; the deadline only bounds a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectedSignature computes the Standard Webhooks signature on its own:
// base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>"), after "v1,".
func expectedSignature(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// endpointGoroutines counts the goroutines endpoints run on, by where
// they were started.
func endpointGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("created by github.com/msgmock/msgmock/mock/webhooks.(*Dispatcher).queueLocked"))
}

// closedURL is the address of a listener that is closed: connecting is refused.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hooks"
	srv.Close()
	return url
}
