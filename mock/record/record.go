// Package record is `msgmock record`: a proxy in front of the real service
// that answers every client with the real answer and writes what it saw as
// fixtures — the conversations and their messages, and for every distinct
// error answer to a send a rule of a `recorded` scenario that gives it
// again. Files are replaced atomically (a hidden temporary file renamed
// over the old one), so a msgmock serving the directory picks each version
// up whole.
//
// # Credentials
//
// Credentials never reach the disk: every occurrence of one in what is
// written becomes <redacted>, in any case (an upstream that echoes a key
// upper-cased is caught too). They are those of the upstream URL (its
// password, a lone user name, its query's credential values) and, from
// every request, the values of credential headers (secret.IsCredentialHeader:
// Authorization and the token after its scheme, a Basic pair decoded and
// its password, x-api-key, …), each cookie's value, and the query's
// credential values (secret.IsCredentialKey: access_token, api_key, …).
// Values shorter than 4 characters are not hunted for: they would redact
// ordinary words. URLs written or logged are redacted with
// secret.RedactURL.
//
// # One recording per directory
//
// A directory holding a recording (either file) is refused unless Force
// is set, which replaces it: recording does not add to an earlier one,
// because what it writes is rebuilt from what this run saw (the order of
// messages, each error rule's count), which an earlier run's files no
// longer tell. Record into a new directory and keep both.
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
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/mock/conversations"
	"github.com/msgmock/msgmock/mock/secret"
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
	redacted          = "<redacted>"
	maxRequestBody    = 64 << 20
	writeEvery        = 100 * time.Millisecond
)

// Recorder proxies to an upstream and records what it sees.
type Recorder struct {
	up  *upstream.Client
	dir string
	log *slog.Logger

	mu       sync.Mutex
	convs    map[string]*conversation // by api + " " + id
	order    []*conversation
	rules    map[string]*errorRule // by what identifies the error
	ruleSeq  []*errorRule
	secrets  map[string]bool
	redactor *redactor // every secret, in any case; nil: to rebuild
	dirty    bool
	wake     chan struct{}
}

type conversation struct {
	api         scenarios.API
	id          string
	workspaceID string
	createdAt   string
	messages    map[string]message
	order       []string
}

// message is a message as its API showed it: the fixture keys, in the
// order a fixtures file lists them.
type message []field

type field struct {
	key   string
	value any
}

func (m message) get(key string) any {
	for _, f := range m {
		if f.key == key {
			return f.value
		}
	}
	return nil
}

// MarshalYAML writes the fields in order.
func (m message) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range m {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f.key}, toNode(f.value))
	}
	return n, nil
}

type errorRule struct {
	api    scenarios.API
	when   map[string]string
	status int
	header map[string]string
	body   any // nil: not JSON, the API's native body stands in
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
	rc := &Recorder{up: up, dir: dir, log: log, convs: map[string]*conversation{}, rules: map[string]*errorRule{},
		secrets: map[string]bool{}, wake: make(chan struct{}, 1)}
	rc.addSecrets(urlSecrets(opts.UpstreamURL))
	return rc, nil
}

// minSecret is the shortest value hunted for: shorter ones would redact
// ordinary words.
const minSecret = 4

// urlSecrets are the credentials of a URL: its password (and the
// user:password pair, plain and as Basic auth sends it), a lone user name,
// and its query's credential values.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var found []string
	if u.User != nil {
		name := u.User.Username()
		if pw, ok := u.User.Password(); ok {
			// net/http sends the pair as Basic auth, which an upstream may echo.
			pair := name + ":" + pw
			found = append(found, pw, pair, u.User.String(), base64.StdEncoding.EncodeToString([]byte(pair)))
		} else {
			found = append(found, name, u.User.String())
		}
	}
	return append(found, querySecrets(u.Query())...)
}

func querySecrets(q url.Values) []string {
	var found []string
	for k, vs := range q {
		if secret.IsCredentialKey(k) {
			found = append(found, vs...)
		}
	}
	return found
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
	rc.addSecrets(requestSecrets(r))
	res, err := wire.Forward(w, r, dialectOf(api), rc.up, body)
	if err != nil {
		rc.log.Warn("record: no answer from the upstream", "upstream", rc.up.Base(), "path", r.URL.Path, "error", err.Error())
	}
	if res != nil {
		// What the upstream sets as a cookie is a credential too.
		for _, v := range res.Header.Values("Set-Cookie") {
			if name, value, ok := strings.Cut(strings.SplitN(v, ";", 2)[0], "="); ok && strings.TrimSpace(name) != "" {
				rc.addSecrets([]string{strings.TrimSpace(value)})
			}
		}
	}
	rc.log.Info("recorded", "method", r.Method, "path", r.URL.Path, "status", res.Status)
	rc.observe(api, r, body, res)
}

// requestSecrets are the credentials a request carries: the values of its
// credential headers (and, for an auth scheme, the token after it; for
// Basic, the decoded pair and its password), each cookie's value, and its
// query's credential values.
func requestSecrets(r *http.Request) []string {
	var found []string
	for name, vs := range r.Header {
		if !secret.IsCredentialHeader(name) {
			continue
		}
		for _, v := range vs {
			if strings.EqualFold(name, "Cookie") {
				for _, c := range strings.Split(v, ";") {
					if _, value, ok := strings.Cut(c, "="); ok {
						found = append(found, strings.TrimSpace(value))
					}
				}
				continue
			}
			found = append(found, strings.TrimSpace(v))
			scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
			if !ok {
				continue
			}
			tok = strings.TrimSpace(tok)
			found = append(found, tok)
			if strings.EqualFold(scheme, "Basic") {
				if pair, err := base64.StdEncoding.DecodeString(tok); err == nil {
					found = append(found, string(pair))
					if _, pw, ok := strings.Cut(string(pair), ":"); ok {
						found = append(found, pw)
					}
				}
			}
		}
	}
	return append(found, querySecrets(r.URL.Query())...)
}

// addSecrets keeps credentials, to be redacted wherever they would be
// written.
func (rc *Recorder) addSecrets(found []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, s := range found {
		if len(s) >= minSecret && !rc.secrets[s] {
			rc.secrets[s] = true
			rc.redactor = nil // rebuilt with the new one by the next write
		}
	}
}

// observe records what an exchange shows: messages from successful
// answers, and an error rule for a failed send.
func (rc *Recorder) observe(api scenarios.API, r *http.Request, body []byte, res *upstream.Response) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	changed := false
	if res.Status >= 200 && res.Status < 300 {
		if v, err := decodeOrdered(res.Body); err == nil {
			changed = rc.observeData(api, r, v)
		}
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

func (rc *Recorder) observeData(api scenarios.API, r *http.Request, v any) bool {
	changed := false
	add := func(convID, workspaceID string, m *omap) {
		if convID == "" || m == nil {
			return
		}
		if rc.addMessage(api, convID, workspaceID, m) {
			changed = true
		}
	}
	path := r.URL.Path
	if api == scenarios.APIConversations {
		data := obj(obj(v).get("data"))
		switch {
		case r.Method == http.MethodPost && path == "/v1/messages":
			add(str(data.get("conversation_id")), "", obj(data.get("message")))
		case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/conversations/"):
			var ids []string
			for _, m := range list(data.get("messages")) {
				add(str(data.get("conversation_id")), "", obj(m))
				ids = append(ids, str(obj(m).get("id")))
			}
			// Without ?limit the listing is the whole conversation, in order.
			if c := rc.convs[string(api)+" "+str(data.get("conversation_id"))]; c != nil && r.URL.Query().Get("limit") == "" {
				before := strings.Join(c.order, " ")
				c.listed(ids)
				changed = changed || strings.Join(c.order, " ") != before
			}
		case r.Method == http.MethodGet && path == "/v1/events":
			for _, e := range list(data.get("events")) {
				ev := obj(e)
				if str(ev.get("type")) != "message.created" {
					continue
				}
				d := obj(ev.get("data"))
				add(str(d.get("conversation_id")), "", obj(d.get("message")))
			}
		}
		return changed
	}
	switch {
	case path == "/api/v1/messages": // the 201 of a send, or a list
		for _, m := range list(v) {
			mo := obj(m)
			add(str(mo.get("conversation_id")), str(mo.get("workspace_id")), mo)
		}
	case strings.HasPrefix(path, "/api/v1/messages/"):
		mo := obj(v)
		add(str(mo.get("conversation_id")), str(mo.get("workspace_id")), mo)
	case path == "/api/v1/conversations":
		for _, c := range list(obj(v).get("data")) {
			co := obj(c)
			conv := rc.conversation(api, str(co.get("id")), str(co.get("workspace_id")))
			if conv != nil && conv.createdAt == "" && str(co.get("created_at")) != "" {
				conv.createdAt = str(co.get("created_at"))
				changed = true
			}
		}
	}
	return changed
}

func (rc *Recorder) conversation(api scenarios.API, id, workspaceID string) *conversation {
	if id == "" {
		return nil
	}
	key := string(api) + " " + id
	c := rc.convs[key]
	if c == nil {
		c = &conversation{api: api, id: id, messages: map[string]message{}}
		rc.convs[key] = c
		rc.order = append(rc.order, c)
	}
	if c.workspaceID == "" {
		c.workspaceID = workspaceID
	}
	return c
}

// addMessage adds or updates a message; it reports whether anything changed.
func (rc *Recorder) addMessage(api scenarios.API, convID, workspaceID string, m *omap) bool {
	id := str(m.get("id"))
	if id == "" {
		return false
	}
	c := rc.conversation(api, convID, workspaceID)
	fixture := fixtureMessage(api, m)
	if old, ok := c.messages[id]; ok && canonicalMessage(old) == canonicalMessage(fixture) {
		return false
	} else if !ok {
		c.order = append(c.order, id)
	}
	c.messages[id] = fixture
	return true
}

// listed adopts a full listing's order of a conversation's messages (the
// service's own order); messages seen only elsewhere keep theirs after.
func (c *conversation) listed(ids []string) {
	seen := map[string]bool{}
	order := make([]string, 0, len(c.order))
	for _, id := range ids {
		if _, ok := c.messages[id]; ok && !seen[id] {
			order = append(order, id)
			seen[id] = true
		}
	}
	for _, id := range c.order {
		if !seen[id] {
			order = append(order, id)
		}
	}
	c.order = order
}

// fixtureMessage keeps the keys a fixtures file holds for a message of api.
func fixtureMessage(api scenarios.API, m *omap) message {
	keys := []string{"id", "sender_id", "sender_type", "text", "metadata", "reply_to_message_id", "created_at"}
	if api == scenarios.APIWorkspace {
		keys = []string{"id", "sender_id", "role", "content", "meta_data", "parent_message_id", "message_type", "tags", "tool_calls", "attachments", "owner_id", "created_at"}
	}
	var out message
	for _, k := range keys {
		if v := m.get(k); v != nil {
			out = append(out, field{k, v})
		}
	}
	return out
}

// observeError adds a rule that answers this send as the upstream did.
func (rc *Recorder) observeError(api scenarios.API, body []byte, res *upstream.Response) bool {
	parsed, err := decodeOrdered(body)
	req := obj(parsed)
	if err != nil || req == nil {
		return false // not a send msgmock's rules could see
	}
	when := map[string]string{}
	if api == scenarios.APIWorkspace {
		content := obj(req.get("content"))
		when["text"], when["sender_id"] = str(content.get("content")), str(content.get("sender_id"))
	} else {
		when["text"], when["sender_id"] = str(req.get("text")), str(req.get("sender_id"))
	}
	if c := str(req.get("conversation_id")); c != "" {
		when["conversation_id"] = c
	}
	rule := &errorRule{api: api, when: when, status: res.Status, header: map[string]string{}, times: 1}
	for _, h := range []string{"Retry-After", "Www-Authenticate"} {
		if v := res.Header.Get(h); v != "" {
			rule.header[h] = v
		}
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if v, err := decodeOrdered(res.Body); err == nil {
			rule.body = v
		}
	}
	keyJSON, _ := json.Marshal([]any{api, when, rule.status, rule.header})
	key := string(keyJSON) + canonical(rule.body)
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
	convs, scen := rc.render()
	redactor := rc.redactorLocked()
	rc.dirty = false
	rc.mu.Unlock()
	for _, f := range []struct {
		name string
		data []byte
	}{{ConversationsFile, convs}, {ScenarioFile, scen}} {
		data := redactor.redact(f.data)
		if err := writeAtomic(filepath.Join(rc.dir, f.name), data); err != nil {
			return err
		}
	}
	return nil
}

// redactorLocked returns what redacts every secret seen so far. Called
// with rc.mu held.
func (rc *Recorder) redactorLocked() *redactor {
	if rc.redactor == nil {
		rc.redactor = newRedactor(rc.secrets)
	}
	return rc.redactor
}

// redactor replaces secrets in any case, longer ones first (so that a
// token inside an "Authorization: Bearer …" value goes with it): one
// regexp for them all, or, should that be too large to compile, a scan
// for each, folding ASCII case.
type redactor struct {
	re      *regexp.Regexp
	secrets []string // longest first; set when re is nil
}

func newRedactor(set map[string]bool) *redactor {
	secrets := make([]string, 0, len(set))
	for s := range set {
		secrets = append(secrets, s)
	}
	sort.Slice(secrets, func(i, j int) bool {
		if len(secrets[i]) != len(secrets[j]) {
			return len(secrets[i]) > len(secrets[j])
		}
		return secrets[i] < secrets[j]
	})
	if len(secrets) == 0 {
		return &redactor{}
	}
	quoted := make([]string, len(secrets))
	for i, s := range secrets {
		quoted[i] = regexp.QuoteMeta(s)
	}
	if re, err := regexp.Compile("(?i)" + strings.Join(quoted, "|")); err == nil {
		return &redactor{re: re}
	}
	return &redactor{secrets: secrets}
}

func (rd *redactor) redact(data []byte) []byte {
	if rd.re != nil {
		return rd.re.ReplaceAllLiteral(data, []byte(redacted))
	}
	for _, s := range rd.secrets {
		data = replaceFold(data, []byte(s))
	}
	return data
}

// replaceFold replaces every occurrence of s in data, folding ASCII case.
func replaceFold(data, s []byte) []byte {
	lower := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			out[i] = c
		}
		return out
	}
	hay, needle := lower(data), lower(s)
	var out []byte
	last := 0
	for i := 0; ; {
		j := bytes.Index(hay[i:], needle)
		if j < 0 {
			break
		}
		out = append(append(out, data[last:i+j]...), redacted...)
		i += j + len(needle)
		last = i
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// writeAtomic replaces path with data: a hidden temporary file (which
// msgmock does not load) renamed over it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".recording-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

const header = "# yaml-language-server: $schema=http://127.0.0.1:8080/__mock/schema/fixtures.json\n"

// render builds both files' text. Called with rc.mu held.
func (rc *Recorder) render() (convs, scen []byte) {
	type convOut struct {
		ID          string    `yaml:"id"`
		API         string    `yaml:"api"`
		WorkspaceID string    `yaml:"workspace_id,omitempty"`
		CreatedAt   string    `yaml:"created_at,omitempty"`
		Messages    []message `yaml:"messages,omitempty"`
	}
	var out struct {
		Conversations []convOut `yaml:"conversations"`
	}
	out.Conversations = []convOut{}
	for _, c := range rc.order {
		co := convOut{ID: c.id, API: string(c.api)}
		if c.api == scenarios.APIWorkspace {
			// The Workspace API shows a conversation's creation time; the
			// Conversations API never does.
			co.WorkspaceID, co.CreatedAt = c.workspaceID, c.createdAt
			if co.CreatedAt == "" {
				co.CreatedAt = c.earliest()
			}
		}
		// Oldest first, as both APIs list them; a tie keeps the order seen.
		order := append([]string(nil), c.order...)
		sort.SliceStable(order, func(i, j int) bool {
			ti, ei := time.Parse(time.RFC3339Nano, str(c.messages[order[i]].get("created_at")))
			tj, ej := time.Parse(time.RFC3339Nano, str(c.messages[order[j]].get("created_at")))
			return ei == nil && ej == nil && ti.Before(tj)
		})
		for _, id := range order {
			co.Messages = append(co.Messages, c.messages[id])
		}
		out.Conversations = append(out.Conversations, co)
	}
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "# recorded by msgmock record from %s: the conversations and messages its answers showed.\n", rc.up.Base())
	b.Write(marshal(out))
	convs = append([]byte(nil), b.Bytes()...)

	type respondOut struct {
		Status  int               `yaml:"status"`
		Headers map[string]string `yaml:"headers,omitempty"`
		Body    *yaml.Node        `yaml:"body,omitempty"`
	}
	type ruleOut struct {
		Name    string         `yaml:"name"`
		When    map[string]any `yaml:"when"`
		Times   int            `yaml:"times"`
		Respond respondOut     `yaml:"respond"`
	}
	var so struct {
		Scenario struct {
			Name        string    `yaml:"name"`
			Description string    `yaml:"description"`
			Rules       []ruleOut `yaml:"rules"`
		} `yaml:"scenario"`
	}
	so.Scenario.Name = ScenarioName
	so.Scenario.Description = "Error answers recorded from " + rc.up.Base() + ", each for the send that got it."
	so.Scenario.Rules = []ruleOut{}
	for i, r := range rc.ruleSeq {
		when := map[string]any{"api": string(r.api)}
		for k, v := range r.when {
			when[k] = v
		}
		ro := ruleOut{Name: fmt.Sprintf("recorded-%d-%d", i+1, r.status), When: when, Times: r.times,
			Respond: respondOut{Status: r.status}}
		if r.body != nil {
			ro.Respond.Body = toNode(r.body) // else: the API's native body for the status
		}
		if len(r.header) > 0 {
			ro.Respond.Headers = r.header
		}
		so.Scenario.Rules = append(so.Scenario.Rules, ro)
	}
	b.Reset()
	b.WriteString(header)
	b.WriteString("# recorded by msgmock record. Serve it with --scenario recorded (or X-Mock-Scenario: recorded):\n")
	b.WriteString("# each rule answers one send as the upstream did, as many times as it did.\n")
	b.Write(marshal(so))
	return convs, append([]byte(nil), b.Bytes()...)
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(v)
	_ = enc.Close()
	return b.Bytes()
}

// earliest is the creation time of the conversation's oldest message.
func (c *conversation) earliest() string {
	best := ""
	var bestT time.Time
	for _, m := range c.messages {
		s := str(m.get("created_at"))
		t, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && (best == "" || t.Before(bestT)) {
			best, bestT = s, t
		}
	}
	return best
}

func str(v any) string { s, _ := v.(string); return s }
func obj(v any) *omap  { m, _ := v.(*omap); return m }
func list(v any) []any { l, _ := v.([]any); return l }

func canonicalMessage(m message) string {
	b, _ := yaml.Marshal(m)
	return string(b)
}
