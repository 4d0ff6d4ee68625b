// Package secret masks credentials before msgmock shows, logs or writes
// them: API keys in Authorization and x-api-key headers, cookies, tokens in
// query strings, passwords in URLs. It is a leaf: it imports nothing of
// msgmock, so that every package that prints something can use it.
//
// # What a masked value looks like
//
// Mask keeps what helps a person or a test recognise a key without being
// able to use it: the auth scheme ("Bearer "), a short prefix and suffix of
// the secret, and a fingerprint:
//
//	Bearer sk_l…3456 (fp 1a2b3c4d)
//
// The prefix and suffix are 4 characters each for a secret of 20 characters
// or more, 2 each from 12 to 19, and none below 12 (a short secret shows
// only its fingerprint): at least 12, 8 and all characters stay hidden.
//
// # The fingerprint, and its trade-off
//
// The fingerprint is the first 8 hex digits of an unkeyed SHA-256 of the
// secret (Fingerprint). Unkeyed means stable across processes and machines:
// a CI test computes Fingerprint(itsKey) and finds it in the journal, and
// two runs of msgmock show the same key the same way. The price: whoever
// reads a fingerprint can test guesses offline. For a random API key (the
// normal case, 100+ bits) that is useless to them; for a short or
// dictionary password it may confirm a guess, which is why short values
// show no prefix or suffix and why `settings.security.mask_credentials`
// exists to turn masking off only knowingly. A keyed (per-process) hash
// would fix that and lose what the fingerprint is for.
//
// # What counts as a credential
//
// Headers (IsCredentialHeader): Authorization, Proxy-Authorization,
// Cookie, Set-Cookie, X-Api-Key, Api-Key, and every name holding token,
// secret, password, passwd, credential, api-key, api_key or apikey
// (X-Auth-Token, X-Amz-Security-Token, X-Csrf-Token, X-Client-Secret …),
// case-insensitively. X-Mock-Session and other msgmock headers are not.
//
// Query and fragment keys (IsCredentialKey): access_token and every key
// holding token, secret, password, passwd, credential, signature, api_key,
// api-key or apikey; the exact keys key, sig, pwd, auth, and keys ending in
// _key or -key (private_key, access-key).
//
// # URLs
//
// RedactURL is for URLs printed or written (start lines, logs,
// recordings): like url.URL.Redacted it shows a password as xxxxx, and it
// also shows a lone user name as xxxxx (https://TOKEN@host is a common way
// to pass a token) and the value of every credential key of the query and
// fragment as xxxxx. MaskQuery is for the journal: the values are masked
// with Mask (and query-escaped), so that a test can tell which key was used.
package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Redacted stands for a secret RedactURL removed, as url.URL.Redacted
// writes a password.
const Redacted = "xxxxx"

// Bounds of what Mask shows of a secret (in characters).
const (
	longSecret  = 20 // and more: 4 characters each side
	mediumShown = 2  // from 12 to 19: 2 each side
	shortSecret = 12 // below: none
)

// schemes are the HTTP authentication schemes Mask keeps in view, lower
// case (RFC 9110 §11 and the IANA registry, plus common API ones). A first
// word that is not one is part of the secret.
var schemes = map[string]bool{
	"basic": true, "bearer": true, "digest": true, "token": true, "bot": true, "apikey": true, "api-key": true,
	"key": true, "hoba": true, "mutual": true, "negotiate": true, "ntlm": true, "oauth": true, "dpop": true,
	"mac": true, "hmac": true, "aws4-hmac-sha256": true, "scram-sha-1": true, "scram-sha-256": true,
	"vapid": true, "privatetoken": true, "sso-key": true, "gnap": true,
}

// splitScheme returns the auth scheme of value (with the space after it)
// and the secret after it; without a known scheme the whole trimmed value
// is the secret.
func splitScheme(value string) (scheme, rest string) {
	trimmed := strings.TrimSpace(value)
	word, after, ok := strings.Cut(trimmed, " ")
	if ok && schemes[strings.ToLower(word)] {
		if s := strings.TrimSpace(after); s != "" {
			return word + " ", s
		}
	}
	return "", trimmed
}

// Fingerprint is the first 8 hex digits of the SHA-256 of secret: stable
// across processes, so that a test can tell which key was used (see the
// package documentation for the trade-off).
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:4])
}

// Mask shows value without its secret: the auth scheme if it has one, a
// short prefix and suffix of the secret (none for a short one) and its
// fingerprint, such as "Bearer sk_l…3456 (fp 1a2b3c4d)". An empty value,
// or a scheme alone, is returned as it is: there is nothing to hide.
//
// The same key comes with every request of a test run: the last masks made
// are kept in a small cache keyed by a hash of the value (never the value
// itself), so a repeated key costs a hash and no allocation.
func Mask(value string) string {
	h := maphash.String(maskSeed, value)
	slot := &maskCache[h%uint64(len(maskCache))]
	if m := slot.Load(); m != nil && m.hash == h && m.size == len(value) {
		return m.masked
	}
	scheme, s := splitScheme(value)
	if s == "" {
		return value
	}
	masked := scheme + maskSecret(s)
	slot.Store(&maskedValue{hash: h, size: len(value), masked: masked})
	return masked
}

// maskCache holds recent masks by the value's hash (see Mask).
var (
	maskSeed  = maphash.MakeSeed()
	maskCache [64]atomic.Pointer[maskedValue]
)

type maskedValue struct {
	hash   uint64
	size   int
	masked string
}

// maskSecret masks s, which holds no scheme.
func maskSecret(s string) string {
	n := utf8.RuneCountInString(s)
	shown := 0
	switch {
	case n >= longSecret:
		shown = 4
	case n >= shortSecret:
		shown = mediumShown
	}
	var b strings.Builder
	b.Grow(32)
	if shown > 0 {
		b.WriteString(firstRunes(s, shown))
		b.WriteString("…")
		b.WriteString(lastRunes(s, shown))
	} else {
		b.WriteString("…")
	}
	b.WriteString(" (fp ")
	b.WriteString(Fingerprint(s))
	b.WriteString(")")
	return b.String()
}

func firstRunes(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strings.ToValidUTF8(s[:i], "?")
}

func lastRunes(s string, n int) string {
	i := len(s)
	for k := 0; k < n && i > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return strings.ToValidUTF8(s[i:], "?")
}

// headerWords make a header name a credential's wherever they appear in it.
var headerWords = []string{"token", "secret", "password", "passwd", "credential", "api-key", "api_key", "apikey"}

// credentialHeaders are the credential headers whose names hold none of
// headerWords.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
}

// IsCredentialHeader reports whether a header of this name carries a
// credential (see the package documentation for the list).
//
// It allocates nothing for a name of up to 64 bytes: it runs for every
// header of every journaled request.
func IsCredentialHeader(name string) bool {
	if known, ok := commonHeaders[name]; ok {
		return known
	}
	return isCredentialHeader(name)
}

// commonHeaders answers IsCredentialHeader for the names most requests and
// answers carry, as net/http canonicalizes them, with one map lookup.
var commonHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, name := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection",
		"Content-Length", "Content-Security-Policy", "Content-Type", "Cookie", "Host", "Idempotency-Key",
		"Location", "Origin", "Proxy-Authorization", "Referer", "Retry-After", "Sec-Fetch-Mode",
		"Sec-Fetch-Site", "Set-Cookie", "User-Agent", "X-Api-Key", "X-Content-Type-Options",
		"X-Mock-Scenario", "X-Mock-Session", "X-Request-Id",
	} {
		m[name] = isCredentialHeader(name)
	}
	return m
}()

func isCredentialHeader(name string) bool {
	var buf [64]byte
	lower := asciiLower(buf[:0], strings.TrimSpace(name))
	if credentialHeaders[string(lower)] { // a map lookup with a converted key does not copy it
		return true
	}
	for _, w := range headerWords {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}

// asciiLower appends s to dst with ASCII letters lower-cased.
func asciiLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// MaskHeader masks value if name is a credential header: a cookie header
// keeps its cookie names and attributes and masks each value; any other
// is masked whole with Mask. Other headers are returned as they are.
func MaskHeader(name, value string) string {
	if !IsCredentialHeader(name) {
		return value
	}
	switch name = strings.TrimSpace(name); {
	case strings.EqualFold(name, "cookie"):
		return maskCookies(value, false)
	case strings.EqualFold(name, "set-cookie"):
		return maskCookies(value, true)
	}
	return Mask(value)
}

// maskCookies masks the values of a Cookie header ("a=1; b=2"), or with
// setCookie only the first pair of a Set-Cookie header, whose other
// parts are attributes (Path, Expires, HttpOnly …).
func maskCookies(value string, setCookie bool) string {
	parts := strings.Split(value, ";")
	for i, p := range parts {
		if setCookie && i > 0 {
			break
		}
		name, v, ok := strings.Cut(p, "=")
		if !ok {
			// A value without a name (browsers send one for a nameless cookie).
			if s := strings.TrimSpace(p); s != "" {
				parts[i] = leading(p) + maskSecret(s)
			}
			continue
		}
		s := strings.TrimSpace(v)
		if s == "" {
			continue
		}
		parts[i] = name + "=" + maskSecret(s)
	}
	return strings.Join(parts, ";")
}

// leading is the white space that starts s.
func leading(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }

// keyWords make a query key a credential's wherever they appear in it.
var keyWords = []string{"token", "secret", "password", "passwd", "credential", "signature", "api_key", "api-key", "apikey"}

// credentialKeys are the exact query keys that are credentials besides.
var credentialKeys = map[string]bool{"key": true, "sig": true, "pwd": true, "auth": true}

// IsCredentialKey reports whether a query (or fragment) parameter of this
// name carries a credential: access_token, api_key, key, sig, password …
// (see the package documentation for the list).
func IsCredentialKey(key string) bool {
	lower := strings.ToLower(strings.TrimSpace(key))
	if credentialKeys[lower] || strings.HasSuffix(lower, "_key") || strings.HasSuffix(lower, "-key") {
		return true
	}
	for _, w := range keyWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// MaskQuery masks the value of every credential key of a raw query with
// Mask, query-escaped, keeping every other byte: the pairs' order, their
// separators, the other values. Decoded, a masked value reads as Mask's
// text.
func MaskQuery(rawQuery string) string {
	return rewriteQuery(rawQuery, func(v string) string { return url.QueryEscape(Mask(v)) })
}

// redactQuery replaces the value of every credential key with xxxxx.
func redactQuery(rawQuery string) string {
	return rewriteQuery(rawQuery, func(string) string { return Redacted })
}

// rewriteQuery replaces, in a raw query, the non-empty value of every
// credential key with what replace makes of its decoded value.
func rewriteQuery(rawQuery string, replace func(decoded string) string) string {
	if rawQuery == "" || !strings.ContainsRune(rawQuery, '=') {
		return rawQuery
	}
	var b strings.Builder
	b.Grow(len(rawQuery) + 32)
	rest := rawQuery
	for {
		pair, after, more := strings.Cut(rest, "&")
		k, v, hasValue := strings.Cut(pair, "=")
		if hasValue && v != "" && IsCredentialKey(unescapeLoose(k)) {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(replace(unescapeLoose(v)))
		} else {
			b.WriteString(pair)
		}
		if !more {
			break
		}
		b.WriteByte('&')
		rest = after
	}
	return b.String()
}

// unescapeLoose decodes a query component; a malformed escape leaves it
// as written.
func unescapeLoose(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// RedactURL returns raw fit to print: a password in it as xxxxx (as
// url.URL.Redacted does), a lone user name as xxxxx, and every credential
// value of its query and fragment as xxxxx. A string that does not parse
// as a URL is redacted as well as its shape allows: what stands between
// "://" and an "@" and the credential values after a "?" or "#".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactLoose(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Redacted)
		} else if u.User.Username() != "" {
			u.User = url.User(Redacted)
		}
	}
	u.RawQuery = redactQuery(u.RawQuery)
	if u.Fragment != "" && strings.ContainsRune(u.Fragment, '=') {
		frag := redactQuery(u.EscapedFragment())
		u.Fragment, _ = url.PathUnescape(frag)
		u.RawFragment = frag
	}
	return u.String()
}

// redactLoose redacts a string url.Parse refused.
func redactLoose(raw string) string {
	out := raw
	if i := strings.Index(out, "://"); i >= 0 {
		authEnd := len(out)
		if j := strings.IndexAny(out[i+3:], "/?#"); j >= 0 {
			authEnd = i + 3 + j
		}
		if at := strings.LastIndex(out[i+3:authEnd], "@"); at >= 0 {
			out = out[:i+3] + Redacted + out[i+3+at:]
		}
	}
	if q := strings.IndexAny(out, "?#"); q >= 0 {
		head, tail := out[:q+1], out[q+1:]
		query, frag, hasFrag := strings.Cut(tail, "#")
		tail = redactQuery(query)
		if hasFrag {
			tail += "#" + redactQuery(frag)
		}
		out = head + tail
	}
	return out
}
