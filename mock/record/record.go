// Package record is `msgmock record`: a proxy in front of the real service
// that answers every client with the real answer and writes what it saw as
// fixtures — the conversations and their messages, and for every distinct
// error answer to a send a rule of a `recorded` scenario that gives it
// again. Credentials seen in requests never reach the disk: every
// occurrence in what is written becomes <redacted>. Files are replaced
// atomically (a hidden temporary file renamed over the old one), so a
// msgmock serving the directory picks each version up whole.
package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/mock/conversations"
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

	mu      sync.Mutex
	convs   map[string]*conversation // by api + " " + id
	order   []*conversation
	rules   map[string]*errorRule // by what identifies the error
	ruleSeq []*errorRule
	secrets map[string]bool
	dirty   bool
	wake    chan struct{}
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

// New returns a Recorder writing into dir, which it creates.
func New(up *upstream.Client, dir string, log *slog.Logger) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Recorder{up: up, dir: dir, log: log, convs: map[string]*conversation{}, rules: map[string]*errorRule{},
		secrets: map[string]bool{}, wake: make(chan struct{}, 1)}, nil
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
	rc.noteSecrets(r)
	res, err := wire.Forward(w, r, dialectOf(api), rc.up, body)
	if err != nil {
		rc.log.Warn("record: no answer from the upstream", "upstream", rc.up.Base(), "path", r.URL.Path, "error", err.Error())
	}
	rc.log.Info("recorded", "method", r.Method, "path", r.URL.Path, "status", res.Status)
	rc.observe(api, r, body, res)
}

// noteSecrets keeps the request's credentials, to be redacted wherever
// they would be written.
func (rc *Recorder) noteSecrets(r *http.Request) {
	var found []string
	if v := r.Header.Get("Authorization"); v != "" {
		found = append(found, v)
		if _, tok, ok := strings.Cut(v, " "); ok {
			found = append(found, strings.TrimSpace(tok))
		}
	}
	for _, k := range []string{"X-Api-Key", "Api-Key", "X-Auth-Token"} {
		if v := r.Header.Get(k); v != "" {
			found = append(found, v)
		}
	}
	if v := r.URL.Query().Get("access_token"); v != "" {
		found = append(found, v)
	}
	rc.mu.Lock()
	for _, s := range found {
		if len(s) >= 4 { // shorter ones would redact ordinary words
			rc.secrets[s] = true
		}
	}
	rc.mu.Unlock()
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
	secrets := make([]string, 0, len(rc.secrets))
	for s := range rc.secrets {
		secrets = append(secrets, s)
	}
	rc.dirty = false
	rc.mu.Unlock()
	// Longer first: a token inside an "Authorization: Bearer …" value goes
	// with it.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, f := range []struct {
		name string
		data []byte
	}{{ConversationsFile, convs}, {ScenarioFile, scen}} {
		text := string(f.data)
		for _, s := range secrets {
			text = strings.ReplaceAll(text, s, redacted)
		}
		if err := writeAtomic(filepath.Join(rc.dir, f.name), []byte(text)); err != nil {
			return err
		}
	}
	return nil
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
