package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// TestHARGolden imports each HAR of testdata/ and compares the summary and
// both files with testdata/NAME.golden (go test -update rewrites them).
// The replay of these files against a real msgmock is cmd/msgmock's
// TestImportHARReplaysTheRecordedAnswers.
func TestHARGolden(t *testing.T) {
	hars, _ := filepath.Glob("testdata/*.har")
	if len(hars) < 3 {
		t.Fatalf("testdata holds %d HARs", len(hars))
	}
	for _, har := range hars {
		t.Run(filepath.Base(har), func(t *testing.T) {
			data, err := os.ReadFile(har)
			if err != nil {
				t.Fatal(err)
			}
			res, err := HAR(data, Options{Source: filepath.Base(har), NoReadRules: true})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			sum, _ := json.MarshalIndent(res.Summary, "", "  ")
			got.Write(sum)
			for _, f := range res.Files {
				got.WriteString("\n--- " + f.Name + "\n")
				got.Write(f.Data)
			}
			golden := strings.TrimSuffix(har, ".har") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs (go test -update rewrites it):\n%s", golden, got.String())
			}
		})
	}
}

// har builds a HAR of the given entries (JSON objects).
func har(entries ...string) []byte {
	return []byte(`{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[` + strings.Join(entries, ",") + `]}}`)
}

func TestRedactsCredentialsHoweverTheyAreWritten(t *testing.T) {
	// A token with characters YAML and JSON escape, echoed by the error
	// body; a cookie; a token inside a message's metadata and text.
	tok := `tok"en\with\u00e9-SECRET1`
	authJSON, _ := json.Marshal("Bearer " + tok)
	echo, _ := json.Marshal(map[string]any{"status": "error", "message": "Invalid token " + tok + ".", "data": nil})
	echoText, _ := json.Marshal(string(echo))
	listing, _ := json.Marshal(string(`{"status":"success","message":"Messages retrieved successfully.","data":{"conversation_id":"con_1","messages":[` +
		`{"id":"msg_aaaaaa","sender_id":"u","sender_type":"user","text":"my key is COOKIE-SECRET2, right?","metadata":{"api_key":"META-SECRET3"},"created_at":"2026-03-15T14:00:00Z"}]}}`))
	data := har(
		`{"request":{"method":"POST","url":"https://u:PASS-SECRET4@api.example.com/v1/messages","headers":[{"name":"Authorization","value":`+string(authJSON)+`},{"name":"Content-Type","value":"application/json"},{"name":"Cookie","value":"sid=COOKIE-SECRET2"}],
		  "postData":{"mimeType":"application/json","text":"{\"sender_id\":\"u\",\"sender_type\":\"user\",\"text\":\"hi\"}"}},
		 "response":{"status":401,"headers":[{"name":"Content-Type","value":"application/json"}],"content":{"size":0,"mimeType":"application/json","text":`+string(echoText)+`}},"timings":{"wait":5}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v1/conversations/con_1/messages?token=QUERY-SECRET5","headers":[{"name":"Authorization","value":"Bearer x1234"}]},
		 "response":{"status":200,"headers":[],"content":{"size":0,"mimeType":"application/json","text":`+string(listing)+`}},"timings":{"wait":5}}`,
	)
	res, err := HAR(data, Options{Source: "creds.har"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		for _, secret := range []string{"SECRET1", "COOKIE-SECRET2", "META-SECRET3", "PASS-SECRET4", "QUERY-SECRET5", "x1234"} {
			if bytes.Contains(f.Data, []byte(secret)) {
				t.Errorf("%s holds %s:\n%s", f.Name, secret, f.Data)
			}
		}
		if !bytes.Contains(f.Data, []byte("<redacted>")) {
			t.Errorf("%s redacts nothing:\n%s", f.Name, f.Data)
		}
	}
	if !bytes.Contains(res.Files[1].Data, []byte("message: Invalid token <redacted>.")) {
		t.Errorf("the error body is not kept with the token redacted:\n%s", res.Files[1].Data)
	}
}

// TestHARCredentialsEchoedOrEncoded: testdata/credentials-echoed.har holds
// credentials that no request header teaches: a key a "sanitized" export
// left only in an error body, a key percent-encoded in a WWW-Authenticate
// challenge, an OAuth code and an access token in redirects' Location, a
// refresh token minted in an answer, a JWT, a Basic password echoed.
// None reaches the files.
func TestHARCredentialsEchoedOrEncoded(t *testing.T) {
	data, err := os.ReadFile("testdata/credentials-echoed.har")
	if err != nil {
		t.Fatal(err)
	}
	res, err := HAR(data, Options{Source: "credentials-echoed.har"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		for _, secret := range []string{"sk_live_ECHOED", "PCT%2BKEY", "PCT+KEY", "OAUTHCODE_SECRET", "NEW_MINTED_ACCESS", "rt_MINTED_REFRESH", "eyJhbGciOi", "S3cretPass", "Hunter2Secret"} {
			if bytes.Contains(bytes.ToLower(f.Data), bytes.ToLower([]byte(secret))) {
				t.Errorf("%s holds %s:\n%s", f.Name, secret, f.Data)
			}
		}
	}
}

func TestHARSkipsWhatItCannotUse(t *testing.T) {
	ok := `"response":{"status":200,"headers":[],"content":{"size":2,"mimeType":"application/json","text":"{}"}},"timings":{"wait":1}`
	data := har(
		`{"request":{"method":"GET","url":"https://api.example.com/api/v1/messages/msg_1"},"response":{"status":200,"headers":[],"content":{"size":5000,"mimeType":"application/json","text":"{\"id\":"}}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/api/v1/messages/msg_2"},"response":{"status":200,"headers":[],"content":{"size":4,"mimeType":"application/json","encoding":"base64","text":"%%%"}}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/api/v1/messages/msg_3"},"response":{"status":200,"headers":[],"content":{"size":4,"mimeType":"application/json"}}}`,
		`{"request":{"method":"DELETE","url":"https://api.example.com/api/v1/messages"},`+ok+`}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v2/other"},`+ok+`}`,
		`{"request":{"method":"GET","url":"blob:https://app.example.com/0c1f"},`+ok+`}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v1/events/stream"},"response":{"status":200,"headers":[{"name":"Content-Type","value":"text/event-stream"}],"content":{"size":0,"mimeType":"text/event-stream","text":""}}}`,
		`{"request":"not an object"}`,
		`{"request":{"method":"POST","url":"https://api.example.com/v1/messages","headers":[{"name":"Authorization","value":"Bearer k"},{"name":"Content-Type","value":"application/json"}],"postData":{"mimeType":"application/json","text":"{\"sender_id\":\"u\",\"sender_type\":\"user\",\"text\":\"hi\"}"}},"response":{"status":0,"headers":[],"content":{"size":0,"mimeType":""},"_error":"net::ERR_BLOCKED_BY_CLIENT"}}`,
	)
	res, err := HAR(data, Options{Source: "x.har"})
	if !errors.Is(err, ErrNothingToImport) {
		t.Fatalf("err %v, want ErrNothingToImport", err)
	}
	want := []string{
		"#1 the HAR truncated its body (6 of 5000 bytes)",
		"#2 its body is base64 that does not decode",
		"#3 the HAR holds no body for it",
		"#4 DELETE is not a method of /api/v1/messages",
		"#5 not a path of either API",
		"#6 not an HTTP request (blob:)",
		"#7 a stream whose events the HAR did not record",
		"#8 not a HAR entry: request is JSON string, a HAR has an object there",
		"#9 no answer was recorded (net::ERR_BLOCKED_BY_CLIENT)",
	}
	var got []string
	for _, n := range res.Summary.Skipped {
		got = append(got, "#"+itoa(n.Index)+" "+n.Note)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestScenarioNameFromTheFile(t *testing.T) {
	for source, want := range map[string]string{
		"bug-1234.har":                  "bug-1234",
		"/tmp/Support Chat (2).har":     "support-chat-2",
		`C:\Users\qa\checkout.har.json`: "checkout",
		"default.har":                   "har",
		".har":                          "har",
	} {
		got, err := scenarioName(Options{Source: source})
		if err != nil || got != want {
			t.Errorf("scenarioName(%q) = %q, %v; want %q", source, got, err, want)
		}
	}
	if _, err := scenarioName(Options{Scenario: "../etc"}); err == nil {
		t.Error("a scenario name with a path is accepted")
	}
}

func TestReadRulesSupportedAsksTheLoader(t *testing.T) {
	_, err := scenarios.ParseScenario("x", []byte("rules: [{when: {method: GET, path: /v1/events}, respond: {status: 500}}]"))
	if ReadRulesSupported() != (err == nil) {
		t.Fatalf("ReadRulesSupported() = %v, but the loader says %v", ReadRulesSupported(), err)
	}
}

// TestSanitizedHAR: Chromium's default export leaves Authorization and
// cookies out. The requests the service answered were authorized all the
// same: their rules are made as for the full HAR, with a warning.
func TestSanitizedHAR(t *testing.T) {
	data, err := os.ReadFile("testdata/send-errors-firefox.har")
	if err != nil {
		t.Fatal(err)
	}
	full, err := HAR(data, Options{Source: "full.har", NoReadRules: true})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	stripped := 0
	for _, e := range doc["log"].(map[string]any)["entries"].([]any) {
		req := e.(map[string]any)["request"].(map[string]any)
		var kept []any
		for _, h := range req["headers"].([]any) {
			if name := h.(map[string]any)["name"].(string); strings.EqualFold(name, "Authorization") {
				stripped++
				continue
			}
			kept = append(kept, h)
		}
		req["headers"] = kept
	}
	sanitized, _ := json.Marshal(doc)
	res, err := HAR(sanitized, Options{Source: "full.har", NoReadRules: true})
	if err != nil {
		t.Fatal(err)
	}
	if stripped < 10 || res.Summary.Rules != full.Summary.Rules || !bytes.Equal(res.Files[1].Data, full.Files[1].Data) {
		t.Errorf("stripped %d Authorization headers: %d rules, want the full HAR's %d\n%s", stripped, res.Summary.Rules, full.Summary.Rules, res.Files[1].Data)
	}
	if len(res.Summary.Warnings) != 1 || !strings.Contains(res.Summary.Warnings[0], "exported without them") {
		t.Errorf("warnings %q", res.Summary.Warnings)
	}
}

// TestReadRulesShape: the rules for errors of reads, which the loader
// takes once when.method and when.path exist (HAR then writes them):
// method and path, a regex where the path holds an id the replay mints.
func TestReadRulesShape(t *testing.T) {
	data := har(
		`{"request":{"method":"POST","url":"https://api.example.com/v1/messages","headers":[{"name":"Authorization","value":"Bearer k"},{"name":"Content-Type","value":"application/json"}],
		  "postData":{"mimeType":"application/json","text":"{\"sender_id\":\"u\",\"sender_type\":\"user\",\"text\":\"hi\"}"}},
		 "response":{"status":200,"headers":[],"content":{"size":0,"mimeType":"application/json","text":"{\"status\":\"success\",\"message\":\"Message sent successfully.\",\"data\":{\"conversation_id\":\"con_new1234\",\"message\":{\"id\":\"msg_new123\",\"sender_id\":\"u\",\"sender_type\":\"user\",\"text\":\"hi\",\"created_at\":\"2026-03-15T14:00:00Z\"},\"auto_reply_enqueued\":false}}"}},"timings":{"wait":3}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v1/conversations/con_new1234/messages","headers":[{"name":"Authorization","value":"Bearer k"}]},
		 "response":{"status":503,"headers":[{"name":"Retry-After","value":"4"}],"content":{"size":0,"mimeType":"application/json","text":"{\"status\":\"error\",\"message\":\"Busy.\",\"data\":null}"}},"timings":{"wait":7}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v1/events?after=evt_1","headers":[{"name":"Authorization","value":"Bearer k"}]},
		 "response":{"status":200,"headers":[],"content":{"size":0,"mimeType":"application/json","text":"{\"status\":\"success\",\"data\":{\"events\":[],\"has_more\":false}}"}},"timings":{"wait":3}}`,
		`{"request":{"method":"GET","url":"https://api.example.com/v1/events?after=evt_2","headers":[{"name":"Authorization","value":"Bearer k"}]},
		 "response":{"status":500,"headers":[],"content":{"size":0,"mimeType":"application/json","text":"{\"status\":\"error\",\"message\":\"Oops.\",\"data\":null}"}},"timings":{"wait":9}}`,
	)
	log, err := parseHAR(data)
	if err != nil {
		t.Fatal(err)
	}
	im := &harImport{book: capture.NewBook(), minted: map[string]bool{}, readRules: true}
	im.read(*log.Entries)
	im.learn()
	rules, _ := im.plan()
	got := string(im.book.ScenarioFile(capture.Scenario{Name: "reads", Rules: rules}))
	for _, want := range []string{
		"    - name: entry-2-503\n      when:\n        api: conversations\n        method: GET\n        path:\n          regex: ^/v1/conversations/[^/]+/messages$\n      times: 1\n",
		"    - name: entry-3-ok\n      when:\n        api: conversations\n        method: GET\n        path: /v1/events\n      times: 1\n      respond:\n        status: 200\n",
		"    - name: entry-4-500\n      when:\n        api: conversations\n        method: GET\n        path: /v1/events\n      times: 1\n",
		"          Retry-After: \"4\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the scenario lacks\n%s\nin\n%s", want, got)
		}
	}
}

// TestHARPastWhatOneFileHolds: a HAR of more distinct failing sends than a
// scenario holds (MaxRules), and one whose few answers are too large for
// one fixtures file, import the HAR's first rules that fit — the output
// loads — and say which entries were left out and why.
func TestHARPastWhatOneFileHolds(t *testing.T) {
	har := func(n, bodyBytes int) []byte {
		var entries []map[string]any
		for i := 0; i < n; i++ {
			body, _ := json.Marshal(map[string]any{"status": "error", "message": fmt.Sprintf("boom %d %s", i, strings.Repeat("x", bodyBytes)), "data": nil})
			req, _ := json.Marshal(map[string]any{"sender_id": "u1", "sender_type": "user", "text": fmt.Sprintf("message %d", i)})
			entries = append(entries, map[string]any{
				"request": map[string]any{"method": "POST", "url": "https://api.example-ai.com/v1/messages",
					"headers":  []map[string]string{{"name": "Content-Type", "value": "application/json"}},
					"postData": map[string]any{"mimeType": "application/json", "text": string(req)}},
				"response": map[string]any{"status": 500, "headers": []map[string]string{{"name": "Content-Type", "value": "application/json"}},
					"content": map[string]any{"mimeType": "application/json", "text": string(body)}},
				"timings": map[string]any{"wait": 5},
			})
		}
		data, _ := json.Marshal(map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]any{"name": "test"}, "entries": entries}})
		return data
	}
	for _, tc := range []struct {
		name      string
		n, bytes  int
		wantRules int
	}{
		{"more rules than a scenario holds", MaxRules + 200, 0, MaxRules},
		{"answers too large for one file", 6, 900 << 10, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := HAR(har(tc.n, tc.bytes), Options{Source: "big.har"})
			if err != nil {
				t.Fatal(err)
			}
			if err := checkLoads(res.Files); err != nil {
				t.Fatalf("the output does not load: %v", err)
			}
			if res.Summary.Rules != tc.wantRules || len(res.Summary.Skipped) != tc.n-tc.wantRules {
				t.Fatalf("%d rules, %d entries skipped; want %d and %d", res.Summary.Rules, len(res.Summary.Skipped), tc.wantRules, tc.n-tc.wantRules)
			}
			first := res.Summary.Skipped[0]
			if first.Index != tc.wantRules+1 || !strings.Contains(first.Note, fmt.Sprintf("left out: the scenario holds the HAR's first %d rules", tc.wantRules)) {
				t.Errorf("first entry left out: %+v", first)
			}
			if len(res.Summary.Warnings) == 0 || !strings.Contains(res.Summary.Warnings[len(res.Summary.Warnings)-1], fmt.Sprintf("the scenario holds the first %d of %d rules", tc.wantRules, tc.n)) {
				t.Errorf("warnings: %q", res.Summary.Warnings)
			}
		})
	}
}
