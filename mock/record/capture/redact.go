package capture

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redacted stands where a credential was.
const Redacted = "<redacted>"

// minSecret is the shortest value noted: shorter ones would redact
// ordinary words.
const minSecret = 4

// notSecrets are values that sensitive-looking names carry without being
// credentials (an auth scheme, a flag).
var notSecrets = map[string]bool{"true": true, "false": true, "null": true, "none": true, "undefined": true,
	"bearer": true, "basic": true, "digest": true, "include": true, "same-origin": true}

// NoteSecret keeps s, to be redacted wherever the files would hold it,
// and its URL-escaped forms, in which a service may echo it (a key in a
// WWW-Authenticate error_description, a query string).
func (b *Book) NoteSecret(s string) {
	s = strings.TrimSpace(s)
	if len(s) < minSecret || notSecrets[strings.ToLower(s)] {
		return
	}
	b.secrets[s] = true
	for _, esc := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		if esc != s {
			b.secrets[esc] = true
		}
	}
}

// SensitiveName reports whether a header, query parameter, cookie or JSON
// key of that name carries a credential: authorization, cookies, tokens,
// keys, secrets, passwords, sessions, CSRF tokens, signatures.
// WWW-Authenticate (a challenge) and the CORS headers that merely name
// such headers do not.
func SensitiveName(name string) bool {
	n := strings.ToLower(name)
	if n == "www-authenticate" || strings.HasPrefix(n, "access-control-") {
		return false
	}
	switch n {
	case "key", "sig", "pass", "pwd", "jwt", "sid", "code":
		return true
	}
	for _, part := range []string{"auth", "token", "secret", "passw", "cookie", "session", "csrf", "xsrf",
		"api-key", "api_key", "apikey", "signature", "credential", "private", "refresh", "bearer"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// NoteHeaders keeps the credentials in request or response headers:
// every value of a sensitive header, the token of an Authorization or
// Proxy-Authorization value (and a Basic one's user and password), each
// cookie's value.
func (b *Book) NoteHeaders(h map[string][]string) {
	for name, values := range h {
		if isURLHeader(name) {
			// A redirect may carry a token or an OAuth code in its query.
			for _, v := range values {
				if u, err := url.Parse(strings.TrimSpace(v)); err == nil {
					b.NoteURL(u)
				}
			}
			continue
		}
		if !SensitiveName(name) {
			continue
		}
		lower := strings.ToLower(name)
		for _, v := range values {
			b.NoteSecret(v)
			switch {
			case lower == "cookie":
				for _, part := range strings.Split(v, ";") {
					if name, val, ok := strings.Cut(part, "="); ok {
						b.NoteCookie(name, val)
					}
				}
			case lower == "set-cookie":
				first, _, _ := strings.Cut(v, ";")
				if name, val, ok := strings.Cut(first, "="); ok {
					b.NoteCookie(name, val)
				}
			default:
				scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
				if !ok {
					continue
				}
				tok = strings.TrimSpace(tok)
				b.NoteSecret(tok)
				if strings.EqualFold(scheme, "basic") {
					if raw, err := base64.StdEncoding.DecodeString(tok); err == nil {
						user, pass, _ := strings.Cut(string(raw), ":")
						b.NoteSecret(string(raw))
						b.NoteSecret(user)
						b.NoteSecret(pass)
					}
				}
			}
		}
	}
}

// isURLHeader reports whether a header's value is a URL the answer points
// to (a redirect, a resource's place).
func isURLHeader(name string) bool {
	switch strings.ToLower(name) {
	case "location", "content-location", "refresh":
		return true
	}
	return false
}

// tokenLength is the length from which a cookie's value is taken for a
// token whatever its name: sessions and tokens are long, preferences
// (theme=dark, lang=en-US) short.
const tokenLength = 16

// NoteCookie keeps a cookie's value when its name is sensitive or the
// value is as long as a token.
func (b *Book) NoteCookie(name, value string) {
	value = strings.Trim(strings.TrimSpace(value), `"`)
	if SensitiveName(strings.TrimSpace(name)) || len(value) >= tokenLength {
		b.NoteSecret(value)
	}
}

// NoteQuery keeps the values of sensitive query (or form) parameters.
func (b *Book) NoteQuery(q url.Values) {
	for name, values := range q {
		if SensitiveName(name) {
			for _, v := range values {
				b.NoteSecret(v)
			}
		}
	}
}

// NoteURL keeps a URL's user information and its sensitive query values.
func (b *Book) NoteURL(u *url.URL) {
	if u == nil {
		return
	}
	if u.User != nil {
		b.NoteSecret(u.User.Username())
		if p, ok := u.User.Password(); ok {
			b.NoteSecret(p)
		}
		b.NoteSecret(u.User.String())
	}
	b.NoteQuery(u.Query())
}

// NoteJSON keeps the string values at sensitive keys of a JSON body, at
// any depth. A body that is not JSON teaches nothing.
func (b *Book) NoteJSON(body []byte) {
	v, err := decodeOrdered(body)
	if err != nil {
		return
	}
	var walk func(v any, sensitive bool)
	walk = func(v any, sensitive bool) {
		switch x := v.(type) {
		case *omap:
			for _, k := range x.keys {
				walk(x.vals[k], sensitive || SensitiveName(k))
			}
		case []any:
			for _, e := range x {
				walk(e, sensitive)
			}
		case string:
			if sensitive {
				b.NoteSecret(x)
			}
		}
	}
	walk(v, false)
}

// Redact replaces every credential noted in s.
func (b *Book) Redact(s string) string { return redactText(s, b.secretList()) }

// HasSecrets reports whether any credential was noted.
func (b *Book) HasSecrets() bool { return len(b.secrets) > 0 }

// secretList is the secrets noted, longest first: a token inside an
// "Authorization: Bearer …" value goes with it.
func (b *Book) secretList() []string {
	out := make([]string, 0, len(b.secrets))
	for s := range b.secrets {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// redactText replaces every secret in s, in any ASCII letter case — an
// upstream that echoes a key upper-cased must not write it to disk — and
// every string shaped like a well-known kind of credential, noted or not:
// a HAR exported "sanitized" has no Authorization header to learn the key
// from, while an error body may still echo it.
func redactText(s string, secrets []string) string {
	for _, sec := range secrets {
		s = replaceFold(s, sec)
	}
	return credentialShaped.ReplaceAllString(s, Redacted)
}

// credentialShaped matches the shapes of keys and tokens that services
// issue: Stripe-style and OpenAI-style secret keys (sk_live_…, sk-…), JSON
// Web Tokens, GitHub, Slack, AWS and Google keys. Publishable keys and ids
// are left alone.
var credentialShaped = regexp.MustCompile(`\b(?:(?:sk|rk)_(?:live|test)_[0-9A-Za-z_]{6,}|sk-[0-9A-Za-z_-]{16,}|eyJ[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]{2,}\.[0-9A-Za-z_-]*|gh[pousr]_[0-9A-Za-z]{20,}|xox[abprs]-[0-9A-Za-z-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})`)

// replaceFold replaces every occurrence of sec in s, folding ASCII case
// (byte offsets stay those of s).
func replaceFold(s, sec string) string {
	if sec == "" || len(sec) > len(s) {
		return s
	}
	ls, lsec := asciiLower(s), asciiLower(sec)
	if !strings.Contains(ls, lsec) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lsec)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(Redacted)
		s, ls = s[i+len(sec):], ls[i+len(sec):]
	}
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// redactNode redacts every scalar and comment of a YAML tree; a number
// or bool that held a credential becomes a string.
func redactNode(n *yaml.Node, secrets []string) {
	if n == nil {
		return
	}
	n.HeadComment = redactText(n.HeadComment, secrets)
	n.LineComment = redactText(n.LineComment, secrets)
	n.FootComment = redactText(n.FootComment, secrets)
	if n.Kind == yaml.ScalarNode {
		if v := redactText(n.Value, secrets); v != n.Value {
			n.Value, n.Tag, n.Style = v, "!!str", 0
		}
	}
	for _, c := range n.Content {
		redactNode(c, secrets)
	}
}
