package secret_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock/secret"
)

// fp computes a fingerprint independently of the package.
func fp(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

func TestMask(t *testing.T) {
	const key = "sk_live_TOPSECRET_4242"
	for _, tt := range []struct{ in, want string }{
		{"Bearer " + key, "Bearer sk_l…4242 (fp " + fp(key) + ")"},
		{"bearer  " + key + " ", "bearer sk_l…4242 (fp " + fp(key) + ")"},
		{key, "sk_l…4242 (fp " + fp(key) + ")"},
		{"Basic dXNlcjpwYXNzd29yZA==", "Basic dXNl…ZA== (fp " + fp("dXNlcjpwYXNzd29yZA==") + ")"},
		{"Token abcdefghijkl", "Token ab…kl (fp " + fp("abcdefghijkl") + ")"}, // 12: 2 each side
		{"Bearer abcdefghijk", "Bearer … (fp " + fp("abcdefghijk") + ")"},     // 11: none
		{"Bearer k", "Bearer … (fp " + fp("k") + ")"},
		{"Bearer", "… (fp " + fp("Bearer") + ")"}, // no secret after it: the word is the secret
		{"Bearer ", "… (fp " + fp("Bearer") + ")"},
		{"", ""},
		{"   ", "   "},
		{"Secret words here to hide", "Secr…hide (fp " + fp("Secret words here to hide") + ")"}, // not a scheme
		{"Bearer ééééééééééééééééééééé", "Bearer éééé…éééé (fp " + fp("ééééééééééééééééééééé") + ")"},
	} {
		if got := secret.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if secret.Fingerprint(key) != fp(key) {
		t.Errorf("Fingerprint(%q) = %q, want %q", key, secret.Fingerprint(key), fp(key))
	}
}

func TestIsCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "Proxy-Authorization": true, "X-Api-Key": true, "api-key": true,
		"Cookie": true, "Set-Cookie": true, "X-Auth-Token": true, "X-Amz-Security-Token": true, "X-Client-Secret": true,
		"X-Db-Password": true, "X-Csrf-Token": true, "X-Apikey": true, "X-Goog-Api-Key": true,
		"Content-Type": false, "X-Mock-Session": false, "X-Mock-Scenario": false, "Accept": false, "Idempotency-Key": false,
		"Sec-Websocket-Key": false, "X-Workspace-Id": false, "Webhook-Id": false, "": false,
	} {
		if got := secret.IsCredentialHeader(name); got != want {
			t.Errorf("IsCredentialHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestMaskHeader(t *testing.T) {
	const sess = "s3ss10n_v4lu3_abcdefgh"
	for _, tt := range []struct{ name, in, want string }{
		{"Authorization", "Bearer sk_live_TOPSECRET_4242", "Bearer sk_l…4242 (fp " + fp("sk_live_TOPSECRET_4242") + ")"},
		{"X-Api-Key", "sk_live_TOPSECRET_4242", "sk_l…4242 (fp " + fp("sk_live_TOPSECRET_4242") + ")"},
		{"Content-Type", "application/json", "application/json"},
		{"Cookie", "sid=" + sess + "; theme=dark", "sid=s3ss…efgh (fp " + fp(sess) + "); theme=… (fp " + fp("dark") + ")"},
		{"Cookie", "sid=; lone", "sid=; … (fp " + fp("lone") + ")"},
		{"Set-Cookie", "sid=" + sess + "; Path=/; HttpOnly; Secure", "sid=s3ss…efgh (fp " + fp(sess) + "); Path=/; HttpOnly; Secure"},
		{"set-cookie", "sid=", "sid="},
	} {
		if got := secret.MaskHeader(tt.name, tt.in); got != tt.want {
			t.Errorf("MaskHeader(%q, %q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestMaskQuery(t *testing.T) {
	const tok = "sk_live_TOPSECRET_4242"
	masked := url.QueryEscape("sk_l…4242 (fp " + fp(tok) + ")")
	for _, tt := range []struct{ in, want string }{
		{"access_token=" + tok + "&conversation_id=con_1", "access_token=" + masked + "&conversation_id=con_1"},
		{"a=1&API_KEY=" + tok, "a=1&API_KEY=" + masked},
		{"key=" + tok + "&key=", "key=" + masked + "&key="},
		{"sig=" + tok + "&signature=" + tok + "&client_secret=" + tok, "sig=" + masked + "&signature=" + masked + "&client_secret=" + masked},
		{"access%5Ftoken=" + url.QueryEscape(tok), "access%5Ftoken=" + masked},
		{"session=s1&limit=5&after=evt_1", "session=s1&limit=5&after=evt_1"},
		{"monkey=banana&private_key=" + tok, "monkey=banana&private_key=" + masked},
		{"", ""},
		{"noequals&&", "noequals&&"},
		{"token=%zz" + tok, "token=" + url.QueryEscape("%zzs…4242 (fp "+fp("%zz"+tok)+")")},
	} {
		got := secret.MaskQuery(tt.in)
		if got != tt.want {
			t.Errorf("MaskQuery(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, tok) {
			t.Errorf("MaskQuery(%q) keeps the token: %q", tt.in, got)
		}
	}
	// Decoded, a masked value is Mask's text.
	v, err := url.ParseQuery(secret.MaskQuery("access_token=" + tok))
	if err != nil || v.Get("access_token") != secret.Mask(tok) {
		t.Errorf("decoded: %v, %v", v, err)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://user:password@example.com:8080/v1?x=1", "http://user:xxxxx@example.com:8080/v1?x=1"},
		{"https://ghp_TOKEN1234567890@example.com/", "https://xxxxx@example.com/"},
		{"https://api.example-ai.com/base?api_key=sk_live_1&limit=5", "https://api.example-ai.com/base?api_key=xxxxx&limit=5"},
		{"https://h/cb#access_token=abc123456789&state=s", "https://h/cb#access_token=xxxxx&state=s"},
		{"https://api.example-ai.com", "https://api.example-ai.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://u:p%40ss@h/", "http://u:xxxxx@h/"},
		// Not a URL url.Parse accepts: redacted by shape.
		{"http://user:pa ss@exa mple.com:99999/x?token=abc", "http://xxxxx@exa mple.com:99999/x?token=xxxxx"},
		{"%zz://a:b@c?key=k", "%zz://xxxxx@c?key=xxxxx"},
		{"", ""},
	} {
		if got := secret.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// FuzzMask: no input panics any function of the package, and a secret of
// 8 characters or more never appears in what Mask, MaskHeader or
// RedactURL return.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"Bearer sk_live_TOPSECRET_4242", "Basic dXNlcjpwYXNzd29yZA==", "sid=abc; x=y", "http://u:passw0rd!@h/?token=abcdefgh",
		"", "Bearer", "Bearer Bearer Bearer", "\xff\xfe", "%zz://a:b@c?key=k", "a=b&c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		out := secret.Mask(value)
		trimmed := strings.TrimSpace(value)
		candidates := []string{trimmed}
		if _, after, ok := strings.Cut(trimmed, " "); ok {
			candidates = append(candidates, strings.TrimSpace(after))
		}
		for _, c := range candidates {
			if len([]rune(c)) >= 8 && strings.Contains(out, c) {
				t.Fatalf("Mask(%q) = %q shows %q", value, out, c)
			}
		}
		if trimmed != "" && !strings.Contains(out, "(fp ") {
			t.Fatalf("Mask(%q) = %q has no fingerprint", value, out)
		}
		if got := secret.MaskHeader("X-Api-Key", value); got != out {
			t.Fatalf("MaskHeader(X-Api-Key, %q) = %q, Mask gives %q", value, got, out)
		}
		cookie := secret.MaskHeader("Cookie", "sid="+value)
		if s := strings.TrimSpace(strings.SplitN(value, ";", 2)[0]); len([]rune(s)) >= 8 && strings.Contains(cookie, s) {
			t.Fatalf("MaskHeader(Cookie, sid=%q) = %q shows it", value, cookie)
		}
		_ = secret.MaskHeader("Set-Cookie", value)
		_ = secret.MaskQuery(value)
		_ = secret.IsCredentialHeader(value)
		red := secret.RedactURL(value)
		if u, err := url.Parse(value); err == nil && u.User != nil {
			p, _ := u.User.Password()
			u.User = nil
			if len(p) >= 8 && !strings.Contains(u.String(), p) && !strings.Contains(value[strings.Index(value, "@")+1:], p) &&
				!strings.Contains(p, secret.Redacted) && strings.Contains(red, p) {
				t.Fatalf("RedactURL(%q) = %q shows the password %q", value, red, p)
			}
		}
		for _, query := range []string{"access_token=" + url.QueryEscape(value), "api_key=" + url.QueryEscape(value)} {
			if v := strings.TrimSpace(value); len(v) >= 8 && !strings.Contains(query[:strings.Index(query, "=")], v) {
				// Only the query is searched: the value may well spell the
				// address itself ("http://h").
				got := secret.RedactURL("http://h/?" + query)
				if q := strings.TrimPrefix(got, "http://h/?"); strings.Contains(q, value) || strings.Contains(q, url.QueryEscape(value)) {
					t.Fatalf("RedactURL(%q) = %q shows the value", "http://h/?"+query, got)
				}
				if got := secret.MaskQuery(query); strings.Contains(got, url.QueryEscape(value)) {
					t.Fatalf("MaskQuery(%q) = %q shows the value", query, got)
				}
			}
		}
	})
}
