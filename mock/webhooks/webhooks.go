// Package webhooks delivers events to the receivers the settings list,
// signed as Standard Webhooks signs them.
//
// # Queues and lifetimes
//
// Each endpoint (URL) has its own queue and its own goroutine, so events
// reach one endpoint in the order they happened, and a slow, hanging or
// failing endpoint never delays another. Events are queued without
// blocking: the publisher holds a session lock. A failed attempt is
// retried through the scheduler with exponential back-off (on the virtual
// clock too), keeping its webhook-id; the retry joins the back of its
// endpoint's queue.
//
// The Dispatcher owns its context and wait group: Close cancels in-flight
// POSTs, drops pending retries and waits for every endpoint's goroutine.
// An endpoint's goroutine also ends when a reload removes its URL from the
// settings (its queued deliveries are listed as dropped), and a retry due
// for a URL no longer configured is dropped the same way.
//
// # Decisions
//
// webhook-timestamp is the wall clock, not the --now clock, so that
// receivers' five-minute staleness checks pass; the body is deterministic.
// Webhooks receive the events of every session. A non-2xx answer or a
// connection error is retried Attempts-1 more times, 0.5 s, 1 s, 2 s, 4 s
// apart. The list of attempts shows one in flight as pending, and each
// failed one with the time its retry is due.
//
// # Mid-stream faults
//
// A chunk of a streamed reply scripted with a fault (state.DeliveryFault)
// is delivered as a receiver of a failing stream would see it: repeat
// sends it twice, the same webhook-id on both; drop makes its first
// attempt fail without reaching the receiver (listed as such) and retries
// it as any failure is; malformed sends its first attempt with the body
// cut in half (signed as sent, so that the receiver's parser, not its
// signature check, meets it) — a receiver answering non-2xx gets the
// retry whole.
//
// # Bounds
//
// Deliveries not yet finished may hold state.PendingLimit of the budget in
// bytes, and an endpoint at most QueueSize waiting; past either a delivery
// is dropped and listed as such. The list of attempts keeps the last
// LogSize.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

const (
	// Attempts is how many times a delivery is tried in all.
	Attempts     = 5
	firstBackoff = 500 * time.Millisecond
	timeout      = 10 * time.Second
	// QueueSize is how many deliveries may wait for one endpoint.
	QueueSize = 4096
	// LogSize is how many attempts Attempts lists.
	LogSize = 1000
)

// Sign returns the Standard Webhooks signature header value for a message:
// "v1," and the base64 HMAC-SHA256, keyed with key, of "<id>.<timestamp>.<body>".
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// errScriptedDrop is the failure of an attempt a drop fault stopped.
var errScriptedDrop = errors.New("dropped mid-stream (a scripted stream fault): not sent")

// delivery is one event on its way to one webhook, across its attempts.
type delivery struct {
	url     string
	key     []byte
	eventID string
	body    []byte
	attempt int
	fault   state.DeliveryFault // drop or malformed: what the first attempt suffers
}

// size is what a delivery holds until its last attempt.
func (d *delivery) size() int64 { return int64(len(d.body)+len(d.url)+len(d.eventID)) + 128 }

// Attempt is one POST to a webhook, as GET /__mock/webhooks/deliveries lists it.
type Attempt struct {
	EventID     string  `json:"event_id"`
	URL         string  `json:"url"`
	Attempt     int     `json:"attempt"`
	At          string  `json:"at"`
	Status      int     `json:"status"`          // 0: no HTTP answer
	Error       string  `json:"error,omitempty"` // connection error, or why it was not sent
	DurationMS  float64 `json:"duration_ms"`
	NextRetryAt string  `json:"next_retry_at,omitempty"` // when the retry is due: the attempt's end plus the back-off
	Pending     bool    `json:"pending"`                 // the attempt is in flight
}

// Dispatcher sends events to webhooks. See the package documentation.
type Dispatcher struct {
	client *http.Client
	jobs   *clock.Scheduler
	render func(*state.Event) []byte // an event's body, as its API's feed shows it
	now    func() time.Time          // for the webhook-timestamp header: the wall clock

	held atomic.Int64 // bytes of deliveries queued, in flight or waiting to retry

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pruned is urls, read without the lock: every event logged asks
	// whether the configuration changed, and it almost never has.
	pruned atomic.Pointer[scenarios.Set]

	mu        sync.Mutex
	endpoints map[string]*endpoint
	urls      *scenarios.Set // the configuration endpoints were last pruned against
	log       []*Attempt
}

type endpoint struct {
	queue  chan *delivery
	cancel context.CancelFunc
}

// New returns a Dispatcher whose retries run on jobs and whose bodies
// render renders. It sends nothing until Start.
func New(jobs *clock.Scheduler, render func(*state.Event) []byte) *Dispatcher {
	return &Dispatcher{
		client:    &http.Client{Timeout: timeout},
		jobs:      jobs,
		render:    render,
		now:       time.Now,
		endpoints: map[string]*endpoint{},
	}
}

// Start sets the lifetime the endpoints' goroutines share: until ctx ends
// or Close is called.
func (d *Dispatcher) Start(ctx context.Context) { d.ctx, d.cancel = context.WithCancel(ctx) }

// Close cancels every delivery in flight and waits for the endpoints'
// goroutines to end.
func (d *Dispatcher) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

// queueLocked returns url's queue, starting its goroutine on first use; nil
// once the Dispatcher is closed. Called with d.mu held: a queue is only
// written to under d.mu while its endpoint is listed, so once prune has
// removed an endpoint nothing enters its queue and its goroutine can drain
// it for good.
func (d *Dispatcher) queueLocked(url string) chan *delivery {
	if d.ctx.Err() != nil {
		return nil
	}
	if ep := d.endpoints[url]; ep != nil {
		return ep.queue
	}
	ctx, cancel := context.WithCancel(d.ctx)
	ep := &endpoint{queue: make(chan *delivery, QueueSize), cancel: cancel}
	d.endpoints[url] = ep
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			select {
			case <-ctx.Done():
				d.drain(ep, "dropped: the webhook was removed from the settings")
				return
			case dl := <-ep.queue:
				if ctx.Err() != nil {
					// Stopped while dl waited (select picks at random
					// among ready cases): it was never in flight, so it
					// is dropped like the rest of the queue.
					d.drop(dl, "dropped: the webhook was removed from the settings")
					continue
				}
				d.attempt(ctx, dl)
			}
		}
	}()
	return ep.queue
}

// drain lists what is left in a stopped endpoint's queue as dropped.
func (d *Dispatcher) drain(ep *endpoint, why string) {
	if d.ctx.Err() != nil {
		return // shutting down: nothing more is listed
	}
	for {
		select {
		case dl := <-ep.queue:
			d.drop(dl, why)
		default:
			return
		}
	}
}

// drop lists a delivery of a stopped endpoint as dropped; nothing is
// listed when shutting down.
func (d *Dispatcher) drop(dl *delivery, why string) {
	if d.ctx.Err() != nil {
		return
	}
	d.finish(dl)
	d.dropped(dl, why)
}

// prune stops the endpoints set no longer lists. Called on every publish
// with the configuration it runs on; it does the work once per new set.
func (d *Dispatcher) prune(set *scenarios.Set) {
	if d.pruned.Load() == set {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.urls == set {
		return
	}
	d.urls = set
	d.pruned.Store(set)
	for url, ep := range d.endpoints {
		if !configured(set, url) {
			ep.cancel()
			delete(d.endpoints, url)
		}
	}
}

func configured(set *scenarios.Set, url string) bool {
	return slices.ContainsFunc(set.Settings.Webhooks, func(h scenarios.Webhook) bool { return h.URL == url })
}

// Wants reports whether set configures a webhook, which Publish would
// then be given every event for; it stops the endpoints set no longer
// lists, as Publish does.
func (d *Dispatcher) Wants(set *scenarios.Set) bool {
	if set == nil {
		return false
	}
	d.prune(set)
	return len(set.Settings.Webhooks) > 0
}

// Publish queues ev for every webhook of set that wants its type. Past
// state.PendingLimit of the budget in deliveries not yet finished, or past
// QueueSize waiting, a delivery is dropped and listed as such.
func (d *Dispatcher) Publish(set *scenarios.Set, ev *state.Event) {
	if set == nil {
		return
	}
	d.prune(set)
	hooks := set.Settings.Webhooks
	if len(hooks) == 0 {
		return
	}
	var body []byte
	for _, hook := range hooks {
		if len(hook.Events) > 0 && !slices.Contains(hook.Events, ev.Type) {
			continue
		}
		if body == nil {
			body = d.render(ev)
		}
		copies := 1
		if ev.Fault&state.FaultRepeat != 0 {
			copies = 2
		}
		for range copies {
			dl := &delivery{url: hook.URL, key: hook.Key, eventID: ev.ID, body: body, attempt: 1,
				fault: ev.Fault & (state.FaultDrop | state.FaultMalformed)}
			limit := state.PendingLimit(set.Settings.Retention.MessageBytes)
			if d.held.Add(dl.size()) > limit {
				d.held.Add(-dl.size())
				d.dropped(dl, "dropped: more than "+strconv.FormatInt(limit>>10, 10)+" KiB of deliveries pending")
				continue
			}
			d.enqueue(dl)
		}
	}
}

// enqueue hands dl to its endpoint; dl's bytes are held until finish.
func (d *Dispatcher) enqueue(dl *delivery) { d.hand(dl, false) }

// retry hands dl back to its endpoint unless a reload removed its URL.
func (d *Dispatcher) retry(dl *delivery) { d.hand(dl, true) }

// hand queues dl on its endpoint; for a retry, only while the settings
// still list its URL — checked under the same lock as the queueing, so a
// reload cannot slip between them and restart a removed endpoint.
func (d *Dispatcher) hand(dl *delivery, retry bool) {
	d.mu.Lock()
	if retry && d.urls != nil && !configured(d.urls, dl.url) {
		d.mu.Unlock()
		d.finish(dl)
		d.dropped(dl, "dropped: the webhook was removed from the settings")
		return
	}
	q := d.queueLocked(dl.url)
	queued := false
	if q != nil {
		select {
		case q <- dl:
			queued = true
		default:
		}
	}
	d.mu.Unlock()
	if queued {
		return
	}
	d.finish(dl)
	if q != nil {
		d.dropped(dl, "dropped: more than "+strconv.Itoa(QueueSize)+" deliveries waiting")
	}
}

func (d *Dispatcher) finish(dl *delivery) { d.held.Add(-dl.size()) }

func (d *Dispatcher) dropped(dl *delivery, why string) {
	d.record(Attempt{EventID: dl.eventID, URL: secret.RedactURL(dl.url), Attempt: dl.attempt, At: d.now().UTC().Format(time.RFC3339Nano), Error: why})
}

func (d *Dispatcher) attempt(ctx context.Context, dl *delivery) {
	start := d.now()
	ts := start.Unix()
	rec := d.record(Attempt{EventID: dl.eventID, URL: secret.RedactURL(dl.url), Attempt: dl.attempt, At: start.UTC().Format(time.RFC3339Nano), Pending: true})
	done := Attempt{EventID: dl.eventID, URL: secret.RedactURL(dl.url), Attempt: dl.attempt, At: rec.At}
	body, fault := dl.body, dl.fault
	if dl.attempt > 1 {
		fault = 0
	}
	if fault&state.FaultMalformed != 0 {
		body = body[:len(body)/2]
	}
	var err error
	var req *http.Request
	if fault&state.FaultDrop != 0 {
		err = errScriptedDrop
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, dl.url, bytes.NewReader(body))
	}
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "msgmock-webhooks")
		req.Header.Set("webhook-id", dl.eventID)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", Sign(dl.key, dl.eventID, ts, body))
		var res *http.Response
		if res, err = d.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			done.Status = res.StatusCode
		}
	}
	end := d.now()
	done.DurationMS = float64(end.Sub(start).Microseconds()) / 1000
	if err != nil {
		if ctx.Err() != nil {
			d.finish(dl)
			d.update(rec, done) // shutting down or removed: the attempt stays listed, not pending
			return
		}
		done.Error = err.Error()
	}
	failed := err != nil || done.Status < 200 || done.Status > 299
	if failed && dl.attempt < Attempts {
		backoff := firstBackoff << (dl.attempt - 1)
		next := *dl
		next.attempt++
		// From the end, as it is scheduled: on a virtual clock, on its time.
		due := end.Add(backoff)
		if d.jobs.Clock().Virtual() {
			due = d.jobs.After(backoff)
		}
		done.NextRetryAt = due.UTC().Format(time.RFC3339Nano)
		d.jobs.At(due, func() { d.retry(&next) }) // still held
	} else {
		d.finish(dl)
	}
	d.update(rec, done)
}

// record lists an attempt and returns its entry, for update.
func (d *Dispatcher) record(a Attempt) *Attempt {
	d.mu.Lock()
	defer d.mu.Unlock()
	entry := &a
	d.log = append(d.log, entry)
	if len(d.log) >= 2*LogSize { // trim in batches: O(1) per attempt
		d.log = append(d.log[:0:0], d.log[len(d.log)-LogSize:]...)
	}
	return entry
}

// update replaces a listed attempt with how it ended.
func (d *Dispatcher) update(entry *Attempt, a Attempt) {
	d.mu.Lock()
	*entry = a
	d.mu.Unlock()
}

// Attempts returns the last LogSize attempts, oldest first.
func (d *Dispatcher) Attempts() []Attempt {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Attempt, 0, min(len(d.log), LogSize))
	for _, a := range d.log[max(0, len(d.log)-LogSize):] {
		out = append(out, *a)
	}
	return out
}
