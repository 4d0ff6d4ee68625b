package engine

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/msgmock/msgmock/mock/secret"
	"github.com/msgmock/msgmock/scenarios"
)

// Bounds of the rate-limit windows the engine holds (see the package
// documentation): a client sending a new API key with every request cannot
// grow memory without end, nor — its session being a world of its own —
// make another session's windows go.
const (
	// MaxSessionWindows bounds one session's windows; past it the session's
	// least recently used window goes.
	MaxSessionWindows = 1_000
	// MaxWindows bounds the windows of all sessions together; past it the
	// least recently used window of the session holding the most goes.
	MaxWindows = 10_000
)

// maxKeyInWindow is the longest key (a workspace id) kept as it is in a
// window's identity; a longer one is kept by its SHA-256.
const maxKeyInWindow = 128

// LimitCheck is what one request brings to its rate limits.
type LimitCheck struct {
	API       scenarios.API
	APIKey    string // the key the request authenticated with
	Workspace string // the workspace it acts in
	// Send: a message sent, whose characters windows apply too.
	Send bool
	// Characters is the message's length in characters, taken from the
	// characters windows; -1 before the message is validated (the request
	// windows' check): the characters windows are only shown then.
	Characters int
}

// LimitState is one window as a request left it.
type LimitState struct {
	Limit     *scenarios.RateLimit
	Remaining int64
	// Reset is how long until the window starts afresh, or until a token
	// bucket is full again; ResetAt is that instant on the engine's clock.
	Reset   time.Duration
	ResetAt time.Time
	// RetryAfter, for a window that refused the request, is how long until
	// it would accept it.
	RetryAfter time.Duration
}

// LimitDecision is what a request's rate limits decided.
type LimitDecision struct {
	States  []LimitState // every window that applies, as the request left them
	Refused bool
	// RetryAfter is how long until every window that refused would accept
	// the request: the longest of theirs.
	RetryAfter time.Duration
	Limit      *scenarios.RateLimit // the window that refused with that wait
	// Never: the request asks more than Limit's whole budget (a message
	// longer than a characters window holds): it can never be accepted,
	// and RetryAfter is 0.
	Never bool
}

// window is one limit's state for one key in one session.
type window struct {
	id     windowID
	digest string // the limit's definition when the window began
	shown  string // the key as status shows it (an API key masked)
	limit  *scenarios.RateLimit
	start  time.Time // a fixed window's start
	count  int64     // used in the fixed window
	tokens float64   // a bucket's tokens at `at`
	at     time.Time
	elem   *list.Element // in its session's windows
}

type windowID struct {
	session string
	scope   string // "settings", or the scenario whose limit it is
	name    string
	key     string
}

// limiter holds every window. Windows are looked up under one mutex: a
// request that is rate limited takes it once per phase, for microseconds.
type limiter struct {
	mu       sync.Mutex
	windows  map[windowID]*window
	sessions map[string]*sessionWindows
	byUse    list.List // of *sessionWindows, most recently used first
	evicted  int64
}

// sessionWindows are one session's windows, most recently used first.
type sessionWindows struct {
	id   string
	lru  list.List     // of *window
	elem *list.Element // in limiter.byUse
}

// LimitsApply reports whether any rate limit may apply: the fixtures'
// flag, or a scenario with limits added at run time. It takes no lock and
// allocates nothing: the default path pays only this.
func (e *Engine) LimitsApply(set *scenarios.Set) bool {
	return set.RateLimited || e.addedLimits.Load()
}

// mayLimit reports whether a limit may apply to the request, without the
// session's lock: a limit of the settings, of a scenario added at run
// time, or of the file scenario it runs. The built-in fixtures define
// limits (rate-limited.yaml), so the default path asks this on every send
// — and was taking the session's lock for it.
func (e *Engine) mayLimit(set *scenarios.Set, session, named string, c LimitCheck) bool {
	if e.addedLimits.Load() {
		return true
	}
	if slices.ContainsFunc(set.Settings.RateLimits, c.counts) {
		return true
	}
	name := named
	if name == "" {
		if name = e.store.ActiveScenario(session); name == "" {
			name = e.ServerScenario()
		}
	}
	sc := set.Scenario(name)
	return sc != nil && slices.ContainsFunc(sc.RateLimits, c.counts)
}

// counts reports whether limit l counts the request: one of its API, and
// a send, or any request when l counts requests (characters are sent).
func (c LimitCheck) counts(l *scenarios.RateLimit) bool {
	return l.AppliesTo(c.API) && (c.Send || l.Unit == scenarios.UnitRequests)
}

// Limit counts a request against the rate limits of the settings and of
// the scenario it runs (named is its X-Mock-Scenario; an unknown name is
// the scenario step's to refuse, and counts no scenario's limits). A
// request is counted against every window that applies, or — when one
// refuses it — against none. It reports false, having done nothing, when
// no limit applies to the request.
func (e *Engine) Limit(set *scenarios.Set, session, named string, c LimitCheck) (LimitDecision, bool) {
	if !e.LimitsApply(set) || !e.mayLimit(set, session, named, c) {
		return LimitDecision{}, false
	}
	type scoped struct {
		scope string
		l     *scenarios.RateLimit
	}
	var applied []scoped
	for _, l := range set.Settings.RateLimits {
		if c.counts(l) {
			applied = append(applied, scoped{"settings", l})
		}
	}
	tx := e.Begin(set, session)
	name := named
	if name == "" {
		if name = tx.sess.ActiveScenario(); name == "" {
			name = e.ServerScenario()
		}
	}
	if sc := e.lookup(tx.sess, set, name); sc != nil {
		for _, l := range sc.RateLimits {
			if c.counts(l) {
				applied = append(applied, scoped{name, l})
			}
		}
	}
	tx.End()
	if len(applied) == 0 {
		return LimitDecision{}, false
	}
	maxSessions := set.Settings.Retention.Sessions + 1 // the default session besides
	now := e.clock.Now()
	lm := &e.limits
	lm.mu.Lock()
	defer lm.mu.Unlock()
	dec := LimitDecision{States: make([]LimitState, len(applied))}
	wins := make([]*window, len(applied))
	// First every window's answer, then (if none refused) the counting:
	// a refused request uses no window's budget.
	for i, a := range applied {
		n, taking := c.amount(a.l)
		w := lm.get(windowID{session: session, scope: a.scope, name: a.l.Name, key: c.keyOf(a.l, session)}, a.l, taking, now, c.APIKey, maxSessions)
		wins[i] = w
		st := stateOf(w, a.l, now)
		if taking && n > a.l.Amount {
			// More than the window's whole budget (a bucket's capacity):
			// no wait makes it fit.
			dec.Refused, dec.Never = true, true
			dec.Limit = a.l
		} else if taking && n > st.Remaining && !dec.Never {
			st.RetryAfter = retryAfter(w, a.l, n, now)
			dec.Refused = true
			if st.RetryAfter >= dec.RetryAfter {
				dec.RetryAfter, dec.Limit = st.RetryAfter, a.l
			}
		}
		dec.States[i] = st
	}
	if dec.Refused {
		return dec, true
	}
	for i, a := range applied {
		n, taking := c.amount(a.l)
		if !taking {
			continue
		}
		take(wins[i], a.l, n)
		dec.States[i] = stateOf(wins[i], a.l, now)
	}
	return dec, true
}

// amount is what the request takes from l, and whether it takes now: one
// from a requests window in the requests check, the message's characters
// from a characters window once it is validated.
func (c LimitCheck) amount(l *scenarios.RateLimit) (int64, bool) {
	if l.Unit == scenarios.UnitCharacters {
		return int64(max(c.Characters, 0)), c.Characters >= 0
	}
	return 1, c.Characters < 0
}

// keyOf is the window key of the request for l.
func (c LimitCheck) keyOf(l *scenarios.RateLimit, session string) string {
	switch l.Key {
	case scenarios.LimitBySession:
		return session
	case scenarios.LimitByWorkspace:
		if len(c.Workspace) > maxKeyInWindow {
			return hashed(c.Workspace)
		}
		return c.Workspace
	}
	// The key itself is not kept: a window holds only its digest.
	return hashed(c.APIKey)
}

func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// get returns the window id, made (when create) if it is new, and marks
// it and its session the most recently used; a window that does not exist
// and is not to be made is returned detached, full. apiKey is shown,
// masked, for an api_key window. Making one first makes room: within the
// session (MaxSessionWindows), among the sessions holding windows (at
// most maxSessions, as many as the store keeps), and among all windows
// (MaxWindows).
func (lm *limiter) get(id windowID, l *scenarios.RateLimit, create bool, now time.Time, apiKey string, maxSessions int) *window {
	if lm.windows == nil {
		lm.windows = map[windowID]*window{}
		lm.sessions = map[string]*sessionWindows{}
	}
	w := lm.windows[id]
	if w != nil && w.digest != l.Digest {
		// The limit changed in a reload: its windows start afresh.
		w.digest, w.limit, w.start, w.count, w.tokens, w.at = l.Digest, l, now, 0, float64(l.Amount), now
	}
	if w == nil {
		w = &window{id: id, digest: l.Digest, limit: l, start: now, tokens: float64(l.Amount), at: now}
		if !create {
			return w
		}
		w.shown = id.key
		if l.Key == scenarios.LimitByAPIKey {
			w.shown = secret.Mask(apiKey)
		}
		sw := lm.sessionOf(id.session, maxSessions)
		if sw.lru.Len() >= MaxSessionWindows {
			lm.evict(sw)
		}
		if len(lm.windows) >= MaxWindows {
			lm.evict(lm.largest())
		}
		lm.windows[id] = w
		w.elem = sw.lru.PushFront(w)
		return w
	}
	w.limit = l
	sw := lm.sessions[id.session]
	sw.lru.MoveToFront(w.elem)
	lm.byUse.MoveToFront(sw.elem)
	return w
}

// sessionOf returns session's windows, marked the most recently used; a
// session new to the limiter first makes room past maxSessions by
// forgetting the least recently used session's windows.
func (lm *limiter) sessionOf(session string, maxSessions int) *sessionWindows {
	if sw := lm.sessions[session]; sw != nil {
		lm.byUse.MoveToFront(sw.elem)
		return sw
	}
	for len(lm.sessions) >= max(maxSessions, 1) {
		lm.evicted += int64(lm.drop(lm.byUse.Back().Value.(*sessionWindows)))
	}
	sw := &sessionWindows{id: session}
	sw.elem = lm.byUse.PushFront(sw)
	lm.sessions[session] = sw
	return sw
}

// evict removes the least recently used window of sw, counted. A session
// left without windows stays (the one being added to may be it) until it
// is the least recently used past maxSessions, or reset.
func (lm *limiter) evict(sw *sessionWindows) {
	oldest := sw.lru.Back().Value.(*window)
	sw.lru.Remove(oldest.elem)
	delete(lm.windows, oldest.id)
	lm.evicted++
}

// largest is the session holding the most windows, the least recently
// used of those breaking a tie. It is looked for only when every window
// is taken: a loop over the sessions holding windows, at most maxSessions.
func (lm *limiter) largest() *sessionWindows {
	var best *sessionWindows
	for e := lm.byUse.Back(); e != nil; e = e.Prev() {
		if sw := e.Value.(*sessionWindows); best == nil || sw.lru.Len() > best.lru.Len() {
			best = sw
		}
	}
	return best
}

// drop forgets session sw and its windows, and returns how many there were.
func (lm *limiter) drop(sw *sessionWindows) int {
	n := sw.lru.Len()
	for e := sw.lru.Front(); e != nil; e = e.Next() {
		delete(lm.windows, e.Value.(*window).id)
	}
	lm.byUse.Remove(sw.elem)
	delete(lm.sessions, sw.id)
	return n
}

// refresh brings w to now: a fixed window that has ended (or that a clock
// moved backwards makes start in the future) starts afresh; a bucket
// refills.
func refresh(w *window, l *scenarios.RateLimit, now time.Time) {
	if !l.Bucket() {
		if now.Before(w.start) || !now.Before(w.start.Add(l.Per)) {
			w.start, w.count = now, 0
		}
		return
	}
	if now.After(w.at) {
		w.tokens = math.Min(float64(l.Amount), w.tokens+now.Sub(w.at).Seconds()*l.Refill)
	}
	w.at = now
}

func stateOf(w *window, l *scenarios.RateLimit, now time.Time) LimitState {
	refresh(w, l, now)
	st := LimitState{Limit: l}
	if !l.Bucket() {
		st.Remaining = l.Amount - w.count
		st.ResetAt = w.start.Add(l.Per)
	} else {
		st.Remaining = int64(math.Floor(w.tokens + 1e-9))
		st.ResetAt = now.Add(seconds((float64(l.Amount) - w.tokens) / l.Refill))
	}
	st.Reset = st.ResetAt.Sub(now)
	return st
}

// retryAfter is how long until w would accept n: a fixed window's end, or
// the time a bucket takes to refill what is missing (to its capacity, if n
// is more than it holds).
func retryAfter(w *window, l *scenarios.RateLimit, n int64, now time.Time) time.Duration {
	if !l.Bucket() {
		return w.start.Add(l.Per).Sub(now)
	}
	want := math.Min(float64(n), float64(l.Amount))
	return seconds((want - w.tokens) / l.Refill)
}

func take(w *window, l *scenarios.RateLimit, n int64) {
	if l.Bucket() {
		w.tokens -= float64(n)
	} else {
		w.count += n
	}
}

// seconds is s seconds as a Duration, rounded up to the millisecond: a
// client told to wait it finds the budget there.
func seconds(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(s*1000)) * time.Millisecond
}

// resetLimits forgets session's windows: every limit starts afresh for it.
func (e *Engine) resetLimits(session string) {
	lm := &e.limits
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if sw := lm.sessions[session]; sw != nil {
		lm.drop(sw)
	}
}

// WindowView is a window as /__mock/status shows it.
type WindowView struct {
	Scope     string `json:"scope"` // "settings" or the scenario's name
	Name      string `json:"name"`
	Key       string `json:"key"` // the API key masked, the session or the workspace
	KeyKind   string `json:"key_kind"`
	Unit      string `json:"unit"`
	Type      string `json:"type"` // "window" (fixed) or "bucket"
	Limit     int64  `json:"limit"`
	Remaining int64  `json:"remaining"`
	ResetMS   int64  `json:"reset_ms"` // until the window starts afresh or the bucket is full
	ResetAt   string `json:"reset_at"`
}

// LimiterStats counts the windows of all sessions.
type LimiterStats struct {
	Windows       int   `json:"total"` // windows held, all sessions together
	Max           int   `json:"max"`
	MaxPerSession int   `json:"max_per_session"`
	Evicted       int64 `json:"evicted"`
}

// Windows lists session's windows as they stand now, by scope, name and
// key, and the counts of all sessions'. render writes instants as the
// admin API does.
func (e *Engine) Windows(session string, render func(time.Time) string) ([]WindowView, LimiterStats) {
	now := e.clock.Now()
	lm := &e.limits
	lm.mu.Lock()
	defer lm.mu.Unlock()
	out := []WindowView{}
	var held *list.List
	if sw := lm.sessions[session]; sw != nil {
		held = &sw.lru
	} else {
		held = list.New()
	}
	for e := held.Front(); e != nil; e = e.Next() {
		w := e.Value.(*window)
		id := w.id
		st := stateOf(w, w.limit, now)
		kind := "window"
		if w.limit.Bucket() {
			kind = "bucket"
		}
		out = append(out, WindowView{Scope: id.scope, Name: id.name, Key: w.shown, KeyKind: string(w.limit.Key),
			Unit: string(w.limit.Unit), Type: kind, Limit: w.limit.Amount, Remaining: st.Remaining,
			ResetMS: st.Reset.Milliseconds(), ResetAt: render(st.ResetAt)})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Scope != b.Scope {
			return a.Scope < b.Scope
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Key < b.Key
	})
	return out, LimiterStats{Windows: len(lm.windows), Max: MaxWindows, MaxPerSession: MaxSessionWindows, Evicted: lm.evicted}
}
