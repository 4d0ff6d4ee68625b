package mock

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

const (
	webhookAttempts     = 5
	webhookFirstBackoff = 500 * time.Millisecond
	webhookTimeout      = 10 * time.Second
	webhookQueue        = 4096 // per endpoint
	webhookLogSize      = 1000
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

// delivery is one event on its way to one webhook, across its attempts.
type delivery struct {
	url     string
	key     []byte
	eventID string
	body    []byte
	attempt int
}

// size is what a delivery holds until its last attempt, for pendingLimit.
func (d *delivery) size() int64 { return int64(len(d.body)+len(d.url)+len(d.eventID)) + 128 }

// DeliveryAttempt is one POST to a webhook, as GET /__mock/webhooks/deliveries lists it.
type DeliveryAttempt struct {
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

// webhooks sends events to the receivers the settings list. Each endpoint
// (URL) has its own queue and its own goroutine, so events reach one
// endpoint in the order they happened, and a slow, hanging or failing
// endpoint never delays another. Events are queued without blocking (the
// caller holds a session lock). A failed attempt is retried through the
// scheduler with exponential backoff, keeping its webhook-id; the retry
// joins the back of its endpoint's queue. Shutdown cancels in-flight POSTs
// and drops pending retries.
type webhooks struct {
	client *http.Client
	jobs   *scheduler
	now    func() time.Time // for the webhook-timestamp header: the wall clock

	held atomic.Int64 // bytes of deliveries queued, in flight or waiting to retry

	ctx context.Context
	wg  *sync.WaitGroup

	mu        sync.Mutex
	endpoints map[string]chan *delivery
	log       []*DeliveryAttempt
}

func newWebhooks(jobs *scheduler) *webhooks {
	return &webhooks{
		client:    &http.Client{Timeout: webhookTimeout},
		jobs:      jobs,
		now:       time.Now,
		endpoints: map[string]chan *delivery{},
	}
}

// start records the lifetime the endpoints' goroutines share.
func (wh *webhooks) start(ctx context.Context, wg *sync.WaitGroup) { wh.ctx, wh.wg = ctx, wg }

// queueFor returns url's queue, starting its goroutine on first use.
func (wh *webhooks) queueFor(url string) chan *delivery {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	q := wh.endpoints[url]
	if q != nil {
		return q
	}
	q = make(chan *delivery, webhookQueue)
	wh.endpoints[url] = q
	wh.wg.Add(1)
	go func() {
		defer wh.wg.Done()
		for {
			select {
			case <-wh.ctx.Done():
				return
			case d := <-q:
				wh.attempt(wh.ctx, d)
			}
		}
	}()
	return q
}

// publish queues ev for every webhook of set that wants its type. Past
// pendingLimit of the budget in deliveries not yet finished, or past
// webhookQueue waiting, a delivery is dropped and listed as such.
func (wh *webhooks) publish(set *scenarios.Set, ev *state.Event) {
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
			body, _ = json.Marshal(renderEvent(ev))
		}
		d := &delivery{url: hook.URL, key: hook.Key, eventID: ev.ID, body: body, attempt: 1}
		limit := pendingLimit(set.Settings.Retention.MessageBytes)
		if wh.held.Add(d.size()) > limit {
			wh.held.Add(-d.size())
			wh.dropped(d, "dropped: more than "+strconv.FormatInt(limit>>10, 10)+" KiB of deliveries pending")
			continue
		}
		wh.enqueue(d)
	}
}

// enqueue hands d to its endpoint; d's bytes are held until finish.
func (wh *webhooks) enqueue(d *delivery) {
	select {
	case wh.queueFor(d.url) <- d:
	default:
		wh.finish(d)
		wh.dropped(d, "dropped: more than "+strconv.Itoa(webhookQueue)+" deliveries waiting")
	}
}

func (wh *webhooks) finish(d *delivery) { wh.held.Add(-d.size()) }

func (wh *webhooks) dropped(d *delivery, why string) {
	wh.record(DeliveryAttempt{EventID: d.eventID, URL: d.url, Attempt: d.attempt, At: wh.now().UTC().Format(time.RFC3339Nano), Error: why})
}

func (wh *webhooks) attempt(ctx context.Context, d *delivery) {
	start := wh.now()
	ts := start.Unix()
	rec := wh.record(DeliveryAttempt{EventID: d.eventID, URL: d.url, Attempt: d.attempt, At: start.UTC().Format(time.RFC3339Nano), Pending: true})
	done := DeliveryAttempt{EventID: d.eventID, URL: d.url, Attempt: d.attempt, At: rec.At}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "msgmock-webhooks")
		req.Header.Set("webhook-id", d.eventID)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", Sign(d.key, d.eventID, ts, d.body))
		var res *http.Response
		if res, err = wh.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			done.Status = res.StatusCode
		}
	}
	end := wh.now()
	done.DurationMS = float64(end.Sub(start).Microseconds()) / 1000
	if err != nil {
		if ctx.Err() != nil {
			wh.finish(d)
			wh.update(rec, done) // shutting down: the attempt stays listed, not pending
			return
		}
		done.Error = err.Error()
	}
	failed := err != nil || done.Status < 200 || done.Status > 299
	if failed && d.attempt < webhookAttempts {
		backoff := webhookFirstBackoff << (d.attempt - 1)
		next := *d
		next.attempt++
		// From the end, as it is scheduled: on a virtual clock, on its time.
		due := end.Add(backoff)
		if wh.jobs.clock.Virtual() {
			due = wh.jobs.after(backoff)
		}
		done.NextRetryAt = due.UTC().Format(time.RFC3339Nano)
		wh.jobs.at(due, func() { wh.enqueue(&next) }) // still held
	} else {
		wh.finish(d)
	}
	wh.update(rec, done)
}

// record lists an attempt and returns its entry, for update.
func (wh *webhooks) record(a DeliveryAttempt) *DeliveryAttempt {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	entry := &a
	wh.log = append(wh.log, entry)
	if len(wh.log) >= 2*webhookLogSize { // trim in batches: O(1) per attempt
		wh.log = append(wh.log[:0:0], wh.log[len(wh.log)-webhookLogSize:]...)
	}
	return entry
}

// update replaces a listed attempt with how it ended.
func (wh *webhooks) update(entry *DeliveryAttempt, a DeliveryAttempt) {
	wh.mu.Lock()
	*entry = a
	wh.mu.Unlock()
}

// attempts returns the last webhookLogSize attempts, oldest first.
func (wh *webhooks) attempts() []DeliveryAttempt {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	out := make([]DeliveryAttempt, 0, min(len(wh.log), webhookLogSize))
	for _, a := range wh.log[max(0, len(wh.log)-webhookLogSize):] {
		out = append(out, *a)
	}
	return out
}

// handleDeliveries serves GET /__mock/webhooks/deliveries: every attempt, oldest first.
func (s *Server) handleDeliveries() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"deliveries": s.hooks.attempts()})
	})
}
