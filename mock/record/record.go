// Package record is `msgmock record`: a proxy in front of the real service
// that answers every client with the real answer and writes what it saw as
// fixtures — the conversations and their messages, and for every distinct
// error answer to a send a rule of a `recorded` scenario that gives it
// again. Files are replaced atomically (a hidden temporary file renamed
// over the old one), so a msgmock serving the directory picks each version
// up whole. What the answers show and how the files are written is package
// capture's, shared with `msgmock import`.
//
// # Credentials
//
// Credentials never reach the disk: every occurrence of one in what is
// written becomes <redacted>, in any letter case (an upstream that echoes
// a key upper-cased is caught too). They are those of the upstream URL
// (its password and user, the Basic pair net/http sends for them, its
// query's credential values), and from every request and answer the
// values of credential headers (a Basic pair decoded), cookies set or
// sent, and the query's credential values (capture.Book.NoteHeaders,
// NoteURL). URLs written or logged are redacted with secret.RedactURL.
//
// # One recording per directory
//
// A directory holding a recording (either file) is refused unless Force is
// set, which replaces it: recording does not add to an earlier one, because
// what it writes is rebuilt from what this run saw (the order of messages,
// each error rule's count), which an earlier run's files no longer tell.
// Record into a new directory and keep both.
//
// # Timing
//
// The recorder keeps how the upstream paced its answers and writes it as
// rules of the recorded scenario:
//
//   - recorded-latency-<api>-<send|read>: how long the upstream took to
//     answer (a send: POST; a read, or a stream's headers: GET; JSON
//     answers are read whole, which for their size is the time to the
//     first byte), as a
//     continue: true rule whose latency is the median and 99th percentile
//     of what was seen (one duration when they agree).
//   - recorded-stream-<api>: for an event stream seen through the
//     recorder, a reply to the users' messages at the pace the upstream
//     streamed its replies: first_token (from a message.created to the
//     first delta of the next reply of its conversation), interval (the
//     gaps between a reply's deltas) and chunk (the deltas' sizes, in
//     characters). Its text is the last streamed reply's.
//
// Samples are bounded (maxSamples per kind, the oldest half dropped past
// it), as are the replies and conversations followed (maxFollowed).
// `msgmock serve --speed F` replays every such wait F times faster.
package record

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/msgmock/msgmock/mock/conversations"
	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/mock/upstream"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/mock/workspace"
	"github.com/msgmock/msgmock/scenarios"
)

// Files the recorder writes in its directory.
const (
	ConversationsFile = "recorded-conversations.yaml"
	ScenarioFile      = "recorded-scenario.yaml"
	ScenarioName      = "recorded"
	maxRequestBody    = 64 << 20
	writeEvery        = 100 * time.Millisecond
)

// Recorder proxies to an upstream and records what it sees.
type Recorder struct {
	up  *upstream.Client
	dir string
	log *slog.Logger

	mu      sync.Mutex
	book    *capture.Book
	rules   map[string]*errorRule // by what identifies the error
	ruleSeq []*errorRule
	dirty   bool
	wake    chan struct{}
	now     func() time.Time
	timing  timing
}

type errorRule struct {
	api    scenarios.API
	when   []capture.Field
	status int
	header []capture.Header
	body   json.RawMessage // nil: not JSON, the API's native body stands in
	times  int
}

// Options tune a Recorder.
type Options struct {
	Logger *slog.Logger // default: discard
	// Force replaces a recording the directory already holds; without it
	// New refuses the directory (ErrRecordingExists).
	Force bool
	// UpstreamURL is the upstream's URL as given, credentials included,
	// so that they are redacted wherever the upstream echoes them.
	UpstreamURL string
	// Now is the clock the upstream's pace is measured on; default the
	// wall clock.
	Now func() time.Time
}

// ErrRecordingExists is New's refusal of a directory that holds a
// recording, when Options.Force is not set.
var ErrRecordingExists = errors.New("the directory holds a recording already")

// New returns a Recorder writing into dir, which it creates.
func New(up *upstream.Client, dir string, opts Options) (*Recorder, error) {
	if !opts.Force {
		for _, name := range []string{ConversationsFile, ScenarioFile} {
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				return nil, fmt.Errorf("%w (%s): give --force to replace it, or record into another directory", ErrRecordingExists, filepath.Join(dir, name))
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rc := &Recorder{up: up, dir: dir, log: log, book: capture.NewBook(), rules: map[string]*errorRule{},
		wake: make(chan struct{}, 1), now: opts.Now, timing: newTiming()}
	if rc.now == nil {
		rc.now = time.Now
	}
	if u, err := url.Parse(opts.UpstreamURL); err == nil {
		rc.book.NoteURL(u)
		if u.User != nil {
			// net/http sends the pair as Basic auth, which an upstream may echo.
			pw, _ := u.User.Password()
			rc.book.NoteSecret(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pw)))
		}
	}
	return rc, nil
}

// dialectOf is the API's own way of answering, for the 502 and 504 of an
// upstream that failed.
func dialectOf(api scenarios.API) wire.Dialect {
	if api == scenarios.APIWorkspace {
		return workspace.Dialect{}
	}
	return conversations.Dialect{}
}

// apiOf names the API a path belongs to.
func apiOf(path string) scenarios.API {
	if path == "/api" || strings.HasPrefix(path, "/api/") {
		return scenarios.APIWorkspace
	}
	return scenarios.APIConversations
}

// ServeHTTP forwards one request and records the exchange.
func (rc *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := apiOf(r.URL.Path)
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
		if err != nil {
			return
		}
		body = b
	}
	rc.mu.Lock()
	// The request's credentials, to be redacted wherever they would be written.
	rc.book.NoteHeaders(r.Header)
	rc.book.NoteURL(r.URL)
	rc.mu.Unlock()
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/events/stream") {
		rc.relayStream(w, r, api)
		return
	}
	start := rc.now()
	res, err := wire.Forward(w, r, dialectOf(api), rc.up, body)
	took := rc.now().Sub(start)
	rc.mu.Lock()
	rc.book.NoteHeaders(res.Header) // cookies the upstream sets are credentials too
	if err == nil {
		rc.timing.answered(api, r.Method, took)
	}
	rc.mu.Unlock()
	if err != nil {
		rc.log.Warn("record: no answer from the upstream", "upstream", rc.up.Base(), "path", r.URL.Path, "error", err.Error())
	}
	rc.log.Info("recorded", "method", r.Method, "path", r.URL.Path, "status", res.Status)
	rc.observe(api, r, body, res)
}

// observe records what an exchange shows: messages from successful
// answers, and an error rule for a failed send.
func (rc *Recorder) observe(api scenarios.API, r *http.Request, body []byte, res *upstream.Response) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	changed := false
	if res.Status >= 200 && res.Status < 300 {
		changed = rc.book.Observe(api, r.Method, r.URL.Path, r.URL.Query(), res.Body)
	} else if res.Status >= 400 && r.Method == http.MethodPost && (r.URL.Path == "/v1/messages" || r.URL.Path == "/api/v1/messages") {
		changed = rc.observeError(api, body, res)
	}
	if changed {
		rc.dirty = true
		select {
		case rc.wake <- struct{}{}:
		default:
		}
	}
}

// observeError adds a rule that answers this send as the upstream did.
func (rc *Recorder) observeError(api scenarios.API, body []byte, res *upstream.Response) bool {
	var req struct {
		Text           string `json:"text"`
		SenderID       string `json:"sender_id"`
		ConversationID string `json:"conversation_id"`
		Content        struct {
			Content  string `json:"content"`
			SenderID string `json:"sender_id"`
		} `json:"content"`
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil || json.Unmarshal(body, &req) != nil {
		return false // not a send msgmock's rules could see
	}
	text, sender := req.Text, req.SenderID
	if api == scenarios.APIWorkspace {
		text, sender = req.Content.Content, req.Content.SenderID
	}
	when := []capture.Field{{Key: "api", Value: string(api)}, {Key: "text", Value: text}, {Key: "sender_id", Value: sender}}
	if req.ConversationID != "" {
		when = append(when, capture.Field{Key: "conversation_id", Value: req.ConversationID})
	}
	rule := &errorRule{api: api, when: when, status: res.Status, times: 1}
	for _, h := range []string{"Retry-After", "Www-Authenticate"} {
		if v := res.Header.Get(h); v != "" {
			rule.header = append(rule.header, capture.Header{Name: h, Value: v})
		}
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		var compact bytes.Buffer
		if json.Compact(&compact, res.Body) == nil && json.Valid(res.Body) {
			rule.body = compact.Bytes()
		}
	}
	keyJSON, _ := json.Marshal([]any{api, when, rule.status, rule.header})
	key := string(keyJSON) + string(rule.body)
	if old := rc.rules[key]; old != nil {
		old.times++
		return true
	}
	rc.rules[key] = rule
	rc.ruleSeq = append(rc.ruleSeq, rule)
	return true
}

// Run writes the files whenever something new was seen (at most every
// 100 ms) until ctx ends, then once more.
func (rc *Recorder) Run(ctx context.Context) error {
	tick := time.NewTicker(writeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return rc.Flush()
		case <-tick.C:
		}
		if err := rc.writeIfDirty(); err != nil {
			rc.log.Error("record: cannot write the fixtures", "dir", rc.dir, "error", err.Error())
		}
	}
}

func (rc *Recorder) writeIfDirty() error {
	rc.mu.Lock()
	dirty := rc.dirty
	rc.mu.Unlock()
	if !dirty {
		return nil
	}
	return rc.Flush()
}

// Flush writes both files now.
func (rc *Recorder) Flush() error {
	rc.mu.Lock()
	convs := rc.book.ConversationsFile("recorded by msgmock record from " + rc.up.Base() + ": the conversations and messages its answers showed.")
	sc := capture.Scenario{Name: ScenarioName, Description: "Error answers recorded from " + rc.up.Base() + ", each for the send that got it, and its pace."}
	sc.Rules = append(sc.Rules, rc.timing.latencyRules()...)
	for i, r := range rc.ruleSeq {
		sc.Rules = append(sc.Rules, capture.Rule{
			Name: "recorded-" + strconv.Itoa(i+1) + "-" + strconv.Itoa(r.status), When: r.when, Times: r.times,
			// Without a JSON body, the API's native body for the status.
			Respond: &capture.Respond{Status: r.status, Headers: r.header, Body: r.body},
		})
	}
	sc.Rules = append(sc.Rules, rc.timing.streamRules()...)
	scen := rc.book.ScenarioFile(sc, "recorded by msgmock record. Serve it with --scenario recorded (or X-Mock-Scenario: recorded):",
		"each rule answers one send as the upstream did, as many times as it did; the recorded-latency rules",
		"wait as long as it took to answer, the recorded-stream rules reply at the pace it streamed",
		"(serve with --speed 2 to replay twice as fast).")
	rc.dirty = false
	rc.mu.Unlock()
	if err := capture.WriteFileAtomic(filepath.Join(rc.dir, ConversationsFile), convs); err != nil {
		return err
	}
	return capture.WriteFileAtomic(filepath.Join(rc.dir, ScenarioFile), scen)
}
