package importer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/scenarios"
)

// The three ways QA gets a curl command: Chromium's "Copy as cURL
// (bash)", Firefox's "Copy as cURL (POSIX)", and the inspector's "copy as
// curl" (mock/inspector/static/app.js, curlFor).
const (
	chromiumCurl = `curl 'https://api.example-ai.com/v1/messages' \
  -H 'accept: */*' \
  -H 'accept-language: en-US,en;q=0.9' \
  -H 'authorization: Bearer sk_test_51_fakeapikey123456' \
  -H 'content-type: application/json' \
  -b 'session=COOKIE_abc123; theme=dark' \
  -H 'origin: https://app.example.com' \
  -H 'priority: u=1, i' \
  -H 'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \
  --data-raw $'{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"it\'s caf\u00e9 time\\n"}'`
	firefoxCurl   = `curl 'https://api.example-ai.com/api/v1/messages' --compressed -X POST -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' -H 'Accept: */*' -H 'Accept-Encoding: gzip, deflate, br, zstd' -H 'Content-Type: application/json' -H 'x-api-key: sk_live_FIREFOX_789' -H 'Origin: https://app.example.com' -H 'Connection: keep-alive' -H 'Cookie: session=COOKIE_ff_456' -H 'Sec-Fetch-Mode: cors' --data-raw '{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92"},"conversation_id":"conv_5f2a9c0e7b1d4a36"}'`
	inspectorCurl = `curl -i -X POST 'http://127.0.0.1:8080/v1/messages' \
  -H 'Authorization: Bearer sk_test_51_fakeapikey123456' \
  -H 'Content-Type: application/json' \
  -H 'Prefer: code=503' \
  --data-raw '{"sender_id":"usr_1","sender_type":"user","text":"it'\''s down"}'`
)

func TestParseCurlCommand(t *testing.T) {
	tests := []struct {
		name, command    string
		method, url      string
		headers          map[string]string // some of the headers
		body             string
		missingHeaderKey string
	}{
		{name: "chromium", command: chromiumCurl, method: "POST", url: "https://api.example-ai.com/v1/messages",
			headers: map[string]string{"Authorization": "Bearer sk_test_51_fakeapikey123456", "Cookie": "session=COOKIE_abc123; theme=dark",
				"Sec-Ch-Ua": `"Chromium";v="131", "Not_A Brand";v="24"`, "Content-Type": "application/json"},
			body: `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"it's café time\n"}`},
		{name: "firefox", command: firefoxCurl, method: "POST", url: "https://api.example-ai.com/api/v1/messages",
			headers: map[string]string{"X-Api-Key": "sk_live_FIREFOX_789", "Accept-Encoding": "gzip, deflate, br, zstd"},
			body:    `{"content":{"content":"Summarise the deck","sender_id":"usr_82hd92"},"conversation_id":"conv_5f2a9c0e7b1d4a36"}`},
		{name: "inspector", command: inspectorCurl, method: "POST", url: "http://127.0.0.1:8080/v1/messages",
			headers: map[string]string{"Prefer": "code=503"}, body: `{"sender_id":"usr_1","sender_type":"user","text":"it's down"}`},
		{name: "a GET", command: `curl "https://api.example-ai.com/v1/conversations/con_1/messages?limit=2" -H "Authorization: Bearer \$k"`,
			method: "GET", url: "https://api.example-ai.com/v1/conversations/con_1/messages?limit=2", headers: map[string]string{"Authorization": "Bearer $k"}},
		{name: "grouped and attached short options", command: `curl -sSLXPUT -H'X-A: 1' localhost:8080/v1/messages -d 'a=1' -d 'b=2'`,
			method: "PUT", url: "http://localhost:8080/v1/messages", headers: map[string]string{"X-A": "1", "Content-Type": "application/x-www-form-urlencoded"}, body: "a=1&b=2"},
		{name: "--json", command: `curl --json '{"a":1}' --url https://h/api/v1/messages`, method: "POST", url: "https://h/api/v1/messages",
			headers: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, body: `{"a":1}`},
		{name: "-G moves the data to the query", command: `curl -G https://h/v1/events --data-urlencode 'conversation_id=con 1' -d limit=5`,
			method: "GET", url: "https://h/v1/events?conversation_id=con+1&limit=5"},
		{name: "-u and a removed header", command: `curl -u qa:pw https://h/v1/events -H 'Accept:'`, method: "GET", url: "https://h/v1/events",
			headers: map[string]string{"Authorization": "Basic cWE6cHc="}, missingHeaderKey: "Accept"},
		{name: "ANSI-C escapes", command: `curl https://h/v1/messages --data-raw $'\x41\101\u00e9\t\'\\'`, method: "POST", url: "https://h/v1/messages", body: "AAé\t'\\"},
		{name: "a comment line", command: "# copied from the inspector\ncurl https://h/v1/events", method: "GET", url: "https://h/v1/events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseCurlCommand(tt.command)
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != tt.method || req.URL.String() != tt.url || string(req.Body) != tt.body {
				t.Errorf("got %s %s %q, want %s %s %q", req.Method, req.URL, req.Body, tt.method, tt.url, tt.body)
			}
			for k, v := range tt.headers {
				if got := req.Header[k]; !reflect.DeepEqual(got, []string{v}) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.missingHeaderKey != "" && req.Header[tt.missingHeaderKey] != nil {
				t.Errorf("header %s is sent: %q", tt.missingHeaderKey, req.Header[tt.missingHeaderKey])
			}
		})
	}
}

func TestParseCurlRefusesWhatItCannotReproduce(t *testing.T) {
	for command, says := range map[string]string{
		`curl https://h/v1/messages | jq .`:                     "\"|\" outside quotes",
		`curl https://h/v1/messages; rm -rf /`:                  "\";\" outside quotes",
		`curl https://h/v1/messages -H "Authorization: $TOKEN"`: "expands $TOKEN",
		`curl https://h/v1/messages -d $(cat body.json)`:        "expands $(cat",
		"curl https://h/v1/messages -d `cat body`":              "substitutes `…`",
		`curl https://h/v1/messages -d @body.json`:              "reads the body from a file",
		`curl https://h/v1/messages --data-binary @-`:           "reads the body from a file",
		`curl https://h/v1/messages -F file=@a.png`:             "multipart form",
		`curl https://h/v1/messages --frobnicate`:               "curl option --frobnicate is not one msgmock import knows",
		`curl https://h/v1/messages -Z`:                         "curl option -Z is not one",
		`curl -H 'x: y'`:                                        "no URL",
		`curl https://a/ https://b/`:                            "more than one URL",
		`curl 'https://h/v1/messages`:                           "' quote is not closed",
		`wget https://h/`:                                       `the command is "wget", not curl`,
		`curl ftp://h/file`:                                     "not an HTTP request (ftp:)",
		``:                                                      "no command",
	} {
		_, err := ParseCurlCommand(command)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: error %v, want one saying %q", command, err, says)
		}
	}
}

func TestCurlRule(t *testing.T) {
	req, err := ParseCurlCommand(inspectorCurl)
	if err != nil {
		t.Fatal(err)
	}
	// No answer given: the request's own Prefer: code=503.
	rule, book, err := CurlRule(req, Answer{})
	if err != nil {
		t.Fatal(err)
	}
	if rule.Respond.Status != 503 || rule.Times != 0 {
		t.Errorf("the rule answers %+v times %d, want 503 every time", rule.Respond, rule.Times)
	}
	wantWhen := `[{"Key":"api","Value":"conversations"},{"Key":"text","Value":"it's down"},{"Key":"sender_id","Value":"usr_1"},{"Key":"sender_type","Value":"user"}]`
	if got, _ := json.Marshal(rule.When); string(got) != wantWhen {
		t.Errorf("when %s, want %s", got, wantWhen)
	}
	if !book.HasSecrets() {
		t.Error("the command's token is not noted for redaction")
	}
	// A command without Prefer and no answer: refused, saying what to give.
	plain, _ := ParseCurlCommand(chromiumCurl)
	if _, _, err := CurlRule(plain, Answer{}); err == nil || !strings.Contains(err.Error(), "--status") {
		t.Errorf("a curl without an answer: %v", err)
	}
	notAPI, _ := ParseCurlCommand(`curl https://h/healthz`)
	if _, _, err := CurlRule(notAPI, Answer{Status: 500}); err == nil || !strings.Contains(err.Error(), "not a path of either API") {
		t.Errorf("a curl of another path: %v", err)
	}
	read, _ := ParseCurlCommand(`curl https://h/v1/events -H 'Authorization: Bearer k'`)
	_, _, err = CurlRule(read, Answer{Status: 500})
	if ReadRulesSupported() != (err == nil) {
		t.Errorf("a read's rule: %v (read rules supported: %v)", err, ReadRulesSupported())
	}
}

func TestAddRule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixtures")
	add := func(command string, a Answer, scenario string) (string, string) {
		t.Helper()
		req, err := ParseCurlCommand(command)
		if err != nil {
			t.Fatal(err)
		}
		rule, book, err := CurlRule(req, a)
		if err != nil {
			t.Fatal(err)
		}
		file, name, err := AddRule(dir, scenario, rule, book)
		if err != nil {
			t.Fatal(err)
		}
		return file, name
	}
	file, name := add(chromiumCurl, Answer{Status: 429, Headers: nil, Body: json.RawMessage(`{"status":"error","message":"Slow down.","data":null}`)}, "bug")
	if file != filepath.Join(dir, "bug.yaml") || name != "curl-1" {
		t.Fatalf("first rule: %s %s", file, name)
	}
	file2, name2 := add(firefoxCurl, Answer{Fault: "reset", Times: 2}, "bug")
	if file2 != file || name2 != "curl-2" {
		t.Fatalf("second rule: %s %s", file2, name2)
	}
	set, err := scenarios.Load(os.DirFS(dir), "")
	if err != nil {
		t.Fatal(err)
	}
	sc := set.Scenario("bug")
	if sc == nil || len(sc.Rules) != 2 || sc.Rules[0].Respond.Status != 429 || sc.Rules[1].Respond.Fault != "reset" || sc.Rules[1].Times != 2 {
		t.Fatalf("the scenario: %+v", sc)
	}
	data, _ := os.ReadFile(file)
	for _, secret := range []string{"sk_test_51_fakeapikey123456", "COOKIE_abc123", "sk_live_FIREFOX_789", "COOKIE_ff_456"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("%s holds %s:\n%s", file, secret, data)
		}
	}
	if !strings.Contains(string(data), "# from a curl command: POST /api/v1/messages") || !strings.HasPrefix(string(data), "# yaml-language-server") {
		t.Errorf("the file lost its comments:\n%s", data)
	}

	// A scenario a HAR import wrote: the rule joins that file.
	har, err := os.ReadFile("testdata/send-errors-firefox.har")
	if err != nil {
		t.Fatal(err)
	}
	res, err := HAR(har, Options{Source: "send-errors-firefox.har"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, res.Files, false); err != nil {
		t.Fatal(err)
	}
	file3, name3 := add(inspectorCurl, Answer{}, "send-errors-firefox")
	if file3 != filepath.Join(dir, "send-errors-firefox.yaml") || name3 != "curl-1" {
		t.Errorf("a rule for the imported scenario went to %s as %s", file3, name3)
	}
	if _, err := scenarios.Load(os.DirFS(dir), ""); err != nil {
		t.Fatal(err)
	}

	// A directory that does not load is left alone.
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("scenario: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req, _ := ParseCurlCommand(inspectorCurl)
	rule, book, _ := CurlRule(req, Answer{})
	before, _ := os.ReadFile(file)
	if _, _, err := AddRule(dir, "bug", rule, book); err == nil || !strings.Contains(err.Error(), "does not load as it is") {
		t.Errorf("a broken directory: %v", err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("a refused rule changed the file")
	}
}
