package scenarios

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// AuthMode says which API keys are accepted.
type AuthMode string

const (
	// AuthAny accepts every non-empty key that is not listed as expired.
	AuthAny AuthMode = "any"
	// AuthListed accepts only listed keys that are not expired.
	AuthListed AuthMode = "listed"
)

// Token is one API key of the settings.
type Token struct {
	Token       string
	OwnerID     string
	WorkspaceID string
	Expired     bool
}

// Auth is the settings' auth section.
type Auth struct {
	Mode   AuthMode
	Tokens map[string]Token
}

// Webhook is one receiver of events.
type Webhook struct {
	URL    string
	Secret string   // as written, "whsec_…"
	Key    []byte   // the HMAC key: the secret's bytes after whsec_, base64-decoded
	Events []string // empty: every event type
}

// Retention bounds what the server keeps in memory; past a limit the oldest
// goes first.
type Retention struct {
	Conversations           int // per session; fixture conversations are never evicted
	MessagesPerConversation int
	Journal                 int   // per session
	Events                  int   // per session
	Sessions                int   // X-Mock-Session sessions besides the default one
	MessageBytes            int64 // bytes the state holds (messages, events, journal entries), all sessions together
}

// CORS lists the browser origins allowed ("*" allows any), the request
// headers a preflight is granted (none listed: whatever it asks for), and
// response headers exposed to scripts besides msgmock's own. It applies to
// the two APIs; the admin surface (/__mock) answers only the origins of
// Security.AdminOrigins.
type CORS struct {
	Origins []string
	Headers []string
	Expose  []string
	// Credentials makes the APIs answer CORS with
	// Access-Control-Allow-Credentials: true (cors.credentials), so that a
	// page may send cookies or HTTP auth; off by default.
	Credentials bool
}

// Security is the settings' security section: who may reach msgmock and
// what it shows of credentials.
type Security struct {
	// AllowedHosts are Host header values accepted besides loopback names
	// and addresses and the address msgmock listens on (protection against
	// DNS rebinding): host names or IP addresses, lower case, each with an
	// optional :port (without one, any port). "*" accepts every host.
	AllowedHosts []string
	// AdminOrigins are browser origins (scheme://host[:port], lower case)
	// allowed to use /__mock/* besides msgmock's own.
	AdminOrigins []string
	// MaskCredentials masks credentials in the journal, the inspector and
	// status (default true); false shows them raw.
	MaskCredentials bool
}

// AllowsOrigin reports whether a browser at origin may call the server.
func (c CORS) AllowsOrigin(origin string) bool {
	for _, o := range c.Origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Settings is the server-wide configuration of a fixtures directory.
type Settings struct {
	Auth       Auth
	Workspaces []string // empty: every workspace is allowed
	Webhooks   []Webhook
	AutoCreate bool // conversations.auto_create
	Retention  Retention
	CORS       CORS
	Security   Security
	BodyLimit  int64
	Clock      string // "", "wall" or "virtual": the clock msgmock starts with (--clock wins)
	// Passthrough sends what the fixtures do not cover to a real service.
	Passthrough Passthrough
	// RateLimits apply to every request of the APIs they name, in every
	// session (each session has windows of its own).
	RateLimits []*RateLimit
	// StreamProfiles are named stream profiles replies may pick, besides
	// (or instead of) the built-in fast, realistic and slow.
	StreamProfiles map[string]*Stream
	File           string // the file that held settings:, "" when all are defaults
}

// Passthrough forwards requests no rule matches to an upstream (the real
// service), so that a developer can mix the mock and the real thing.
type Passthrough struct {
	URL     string        // "" : off
	Timeout time.Duration // per forwarded request; 504 past it
}

// DefaultPassthroughTimeout is Passthrough.Timeout when the settings give none.
const DefaultPassthroughTimeout = 30 * time.Second

// DefaultSettings are the settings of a directory that has no settings: key.
func DefaultSettings() Settings {
	return Settings{
		Auth:       Auth{Mode: AuthAny, Tokens: map[string]Token{}},
		AutoCreate: true,
		Retention: Retention{
			Conversations:           1000,
			MessagesPerConversation: 1000,
			Journal:                 1000,
			Events:                  10_000,
			Sessions:                100,
			MessageBytes:            48 << 20,
		},
		CORS:      CORS{Origins: []string{"*"}},
		Security:  Security{MaskCredentials: true},
		BodyLimit: 1 << 20,
	}
}

// WorkspaceAllowed reports whether requests may act in workspace id.
func (s *Settings) WorkspaceAllowed(id string) bool {
	return len(s.Workspaces) == 0 || slices.Contains(s.Workspaces, id)
}

func (r *reader) settings(n *yaml.Node) Settings {
	s := DefaultSettings()
	s.File = r.file
	f := r.fields(n, "settings", "auth", "workspaces", "webhooks", "conversations", "retention", "cors", "body_limit", "clock", "passthrough", "security", "rate_limits", "stream_profiles")
	if v := f["clock"]; v != nil {
		if c, ok := r.str(v, "settings.clock"); ok {
			if c != "wall" && c != "virtual" {
				r.errorf(v, "settings.clock must be wall or virtual, got %q", c)
			}
			s.Clock = c
		}
	}
	if v := f["auth"]; v != nil {
		s.Auth = r.auth(v)
	}
	if v := f["rate_limits"]; v != nil {
		s.RateLimits = r.rateLimits(v, "settings.rate_limits")
	}
	if v := f["stream_profiles"]; v != nil {
		s.StreamProfiles = r.streamProfiles(v, "settings.stream_profiles")
	}
	if v := f["passthrough"]; v != nil {
		p := r.fields(v, "settings.passthrough", "url", "timeout")
		s.Passthrough.Timeout = DefaultPassthroughTimeout
		if u := p["url"]; u == nil {
			r.errorf(v, "settings.passthrough: url is required (the real service's base URL, such as https://api.example-ai.com)")
		} else if raw, ok := r.nonEmpty(u, "settings.passthrough.url"); ok {
			if pu, err := url.Parse(raw); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				r.errorf(u, "settings.passthrough.url must be an absolute http or https URL, got %q", raw)
			} else {
				s.Passthrough.URL = strings.TrimSuffix(raw, "/")
			}
		}
		if t := p["timeout"]; t != nil {
			if d, ok := r.duration(t, "settings.passthrough.timeout"); ok {
				if d == 0 {
					r.errorf(t, "settings.passthrough.timeout must be above 0")
				}
				s.Passthrough.Timeout = d
			}
		}
	}
	if v := f["workspaces"]; v != nil {
		ws, _ := r.strList(v, "settings.workspaces")
		s.Workspaces = ws
	}
	if v := f["webhooks"]; v != nil {
		for i, item := range r.seq(v, "settings.webhooks") {
			if wh, ok := r.webhook(item, fmt.Sprintf("settings.webhooks[%d]", i)); ok {
				s.Webhooks = append(s.Webhooks, wh)
			}
		}
	}
	if v := f["conversations"]; v != nil {
		c := r.fields(v, "settings.conversations", "auto_create")
		if b := c["auto_create"]; b != nil {
			s.AutoCreate, _ = r.boolean(b, "settings.conversations.auto_create")
		}
	}
	if v := f["retention"]; v != nil {
		s.Retention = r.retention(v, s.Retention)
	}
	if v := f["cors"]; v != nil {
		c := r.fields(v, "settings.cors", "origins", "headers", "expose", "credentials")
		if o := c["origins"]; o != nil {
			s.CORS.Origins, _ = r.strList(o, "settings.cors.origins")
		}
		if b := c["credentials"]; b != nil {
			s.CORS.Credentials, _ = r.boolean(b, "settings.cors.credentials")
		}
		for key, dst := range map[string]*[]string{"headers": &s.CORS.Headers, "expose": &s.CORS.Expose} {
			if o := c[key]; o != nil {
				list, _ := r.strList(o, "settings.cors."+key)
				for _, name := range list {
					if !validHeaderName(name) {
						r.errorf(o, "settings.cors.%s: %q is not a header name", key, name)
					}
				}
				*dst = list
			}
		}
	}
	if v := f["security"]; v != nil {
		s.Security = r.security(v)
	}
	if v := f["body_limit"]; v != nil {
		if lim, ok := r.size(v, "settings.body_limit"); ok {
			if lim > 64<<20 {
				r.errorf(v, "settings.body_limit must be at most 64MiB")
			}
			s.BodyLimit = lim
		}
	}
	// One message (up to the body limit) and its event must fit in the
	// budget whatever else is evicted, or a write could not stay within it.
	if s.Retention.MessageBytes < 2*s.BodyLimit {
		at := f["body_limit"]
		if mb := mappingValue(r.resolve(f["retention"]), "message_bytes"); mb != nil {
			at = mb
		}
		if at == nil {
			at = n
		}
		r.errorf(at, "settings.retention.message_bytes (%d bytes) must be at least twice settings.body_limit (%d bytes): one message and its event must fit", s.Retention.MessageBytes, s.BodyLimit)
	}
	return s
}

func (r *reader) auth(n *yaml.Node) Auth {
	a := Auth{Mode: AuthAny, Tokens: map[string]Token{}}
	f := r.fields(n, "settings.auth", "mode", "tokens")
	if v := f["mode"]; v != nil {
		if m, ok := r.str(v, "settings.auth.mode"); ok {
			switch AuthMode(m) {
			case AuthAny, AuthListed:
				a.Mode = AuthMode(m)
			default:
				r.errorf(v, "settings.auth.mode must be any or listed, got %q", m)
			}
		}
	}
	if v := f["tokens"]; v != nil {
		for i, item := range r.seq(v, "settings.auth.tokens") {
			what := fmt.Sprintf("settings.auth.tokens[%d]", i)
			tf := r.fields(item, what, "token", "owner_id", "workspace_id", "expired")
			if tf == nil {
				continue
			}
			var t Token
			if tn := tf["token"]; tn == nil {
				r.errorf(item, "%s: token is required", what)
				continue
			} else if t.Token, _ = r.nonEmpty(tn, what+".token"); t.Token == "" {
				continue
			}
			if v := tf["owner_id"]; v != nil {
				t.OwnerID, _ = r.str(v, what+".owner_id")
			}
			if v := tf["workspace_id"]; v != nil {
				t.WorkspaceID, _ = r.str(v, what+".workspace_id")
			}
			if v := tf["expired"]; v != nil {
				t.Expired, _ = r.boolean(v, what+".expired")
			}
			if _, dup := a.Tokens[t.Token]; dup {
				r.errorf(tf["token"], "%s: token %q is listed twice", what, t.Token)
				continue
			}
			a.Tokens[t.Token] = t
		}
	}
	return a
}

func (r *reader) webhook(n *yaml.Node, what string) (Webhook, bool) {
	f := r.fields(n, what, "url", "secret", "events")
	if f == nil {
		return Webhook{}, false
	}
	var wh Webhook
	ok := true
	if v := f["url"]; v == nil {
		r.errorf(n, "%s: url is required", what)
		ok = false
	} else if s, good := r.nonEmpty(v, what+".url"); good {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.errorf(v, "%s.url must be an absolute http or https URL, got %q", what, s)
			ok = false
		}
		wh.URL = s
	} else {
		ok = false
	}
	if v := f["secret"]; v == nil {
		r.errorf(n, "%s: secret is required (whsec_ followed by base64)", what)
		ok = false
	} else if s, good := r.nonEmpty(v, what+".secret"); good {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if sn := r.resolve(v); sn.Tag != "!!str" {
			// `secret: true` or `secret: 1234` decode as base64 but
			// are surely not the secret meant.
			r.errorf(v, "%s.secret must be a string (whsec_ followed by base64), got %s", what, strings.TrimPrefix(sn.Tag, "!!"))
			ok = false
		} else if err != nil || len(key) == 0 {
			r.errorf(v, "%s.secret must be whsec_ followed by base64, as Standard Webhooks secrets are", what)
			ok = false
		}
		wh.Secret, wh.Key = s, key
	} else {
		ok = false
	}
	if v := f["events"]; v != nil {
		evs, good := r.strList(v, what+".events")
		for _, e := range evs {
			if e != "message.created" && e != "message.delta" {
				r.errorf(v, "%s.events: unknown event type %q (message.created, message.delta)", what, e)
				good = false
			}
		}
		wh.Events, ok = evs, ok && good
	}
	return wh, ok
}

func (r *reader) retention(n *yaml.Node, ret Retention) Retention {
	f := r.fields(n, "settings.retention", "conversations", "messages_per_conversation", "journal", "events", "sessions", "message_bytes")
	set := func(key string, dst *int, max int) {
		if v := f[key]; v != nil {
			if x, ok := r.integer(v, "settings.retention."+key, 1, max); ok {
				*dst = x
			}
		}
	}
	set("conversations", &ret.Conversations, 1_000_000)
	set("messages_per_conversation", &ret.MessagesPerConversation, 1_000_000)
	set("journal", &ret.Journal, 1_000_000)
	set("events", &ret.Events, 10_000_000)
	set("sessions", &ret.Sessions, 100_000)
	if v := f["message_bytes"]; v != nil {
		if b, ok := r.size(v, "settings.retention.message_bytes"); ok {
			if b < 1<<20 {
				r.errorf(v, "settings.retention.message_bytes must be at least 1MiB")
			}
			ret.MessageBytes = b
		}
	}
	return ret
}

// mappingValue returns the value of key in mapping node n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// validHeaderName reports whether name is an HTTP field name (RFC 9110 token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
