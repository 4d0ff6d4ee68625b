package capture

import (
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/msgmock/msgmock/scenarios"
)

func TestSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true, "X-Api-Key": true,
		"X-CSRF-Token": true, "access_token": true, "api_key": true, "password": true, "client_secret": true, "X-Session-Id": true,
		"key": true, "sig": true,
		"WWW-Authenticate": false, "Access-Control-Allow-Credentials": false, "Access-Control-Allow-Headers": false,
		"Content-Type": false, "sender_id": false, "conversation_id": false, "text": false, "monkey": false,
	} {
		if got := SensitiveName(name); got != want {
			t.Errorf("SensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestRedaction: what is noted is redacted in every file; what merely
// sits beside a credential (a scheme, a CORS flag) is not.
func TestRedaction(t *testing.T) {
	b := NewBook()
	b.NoteHeaders(map[string][]string{
		"Authorization":                    {"Bearer tok_12345"},
		"Cookie":                           {"sid=cookie_678; theme=dark"},
		"Access-Control-Allow-Credentials": {"true"},
		"Www-Authenticate":                 {`Bearer realm="api"`},
	})
	u, _ := url.Parse("https://qa:pass_999@h/v1/events?access_token=qs_4321&limit=10")
	b.NoteURL(u)
	b.NoteJSON([]byte(`{"user":{"password":"pw_2468"},"text":"hello"}`))
	sc := b.ScenarioFile(Scenario{Name: "s", Rules: []Rule{{
		Comment: "echoes tok_12345",
		When:    []Field{{Key: "api", Value: "conversations"}, {Key: "text", Value: "my pass_999 and pw_2468"}},
		Respond: &Respond{Status: 401, Headers: []Header{{Name: "WWW-Authenticate", Value: `Bearer realm="api"`}},
			Body: []byte(`{"status":"error","message":"cookie_678 and qs_4321 are wrong; true story; theme=dark","data":null}`)},
	}}})
	text := string(sc)
	for _, secret := range []string{"tok_12345", "cookie_678", "pass_999", "qs_4321", "pw_2468"} {
		if strings.Contains(text, secret) {
			t.Errorf("the file holds %s:\n%s", secret, text)
		}
	}
	for _, kept := range []string{`Bearer realm="api"`, "true story", "theme=dark", "# echoes <redacted>"} {
		if !strings.Contains(text, kept) {
			t.Errorf("the file lost %q:\n%s", kept, text)
		}
	}
	if _, err := scenarios.Load(fstest.MapFS{"s.yaml": {Data: sc}}, ""); err != nil {
		t.Fatalf("the scenario does not load: %v\n%s", err, text)
	}
}

// TestConversationsFileLoads: a reply whose parent no answer showed keeps
// its text but not the link, which a fixture may only make to an earlier
// message; a forgotten message goes.
func TestConversationsFileLoads(t *testing.T) {
	b := NewBook()
	b.Observe(scenarios.APIConversations, "GET", "/v1/conversations/con_1/messages", url.Values{"limit": {"2"}}, []byte(`{"status":"success","data":{"conversation_id":"con_1","messages":[
		{"id":"msg_b","sender_id":"agt","sender_type":"agent","text":"Done.","reply_to_message_id":"msg_a","created_at":"2026-03-15T14:00:02Z"},
		{"id":"msg_c","sender_id":"u","sender_type":"user","text":"Thanks","reply_to_message_id":"msg_b","created_at":"2026-03-15T14:00:03Z"},
		{"id":"msg_d","sender_id":"u","sender_type":"user","text":"Bye","created_at":"2026-03-15T14:00:04Z"}]}}`))
	b.Forget(scenarios.APIConversations, "con_1", "msg_d")
	file := b.ConversationsFile()
	set, err := scenarios.Load(fstest.MapFS{"c.yaml": {Data: file}}, "")
	if err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	msgs := set.Conversations[0].Messages
	if len(msgs) != 2 || msgs[0].ReplyTo != "" || msgs[1].ReplyTo != "msg_b" {
		t.Errorf("messages %+v\n%s", msgs, file)
	}
	if convs, n := b.Counts(); convs != 1 || n != 2 {
		t.Errorf("counts %d, %d", convs, n)
	}
}
