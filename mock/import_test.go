package mock_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestImportHAROverTheAdminAPI: a HAR sent to the admin API comes back as
// the two fixtures files msgmock import har writes (nothing is written to
// disk), the scenario loads over PUT /__mock/scenarios and answers the
// HAR's first error; what is not a HAR is refused with 400, a HAR of
// nothing with 422 and its summary, a page of another site with 403.
func TestImportHAROverTheAdminAPI(t *testing.T) {
	ts := startServer(t, nil)
	har, err := os.ReadFile("importer/testdata/send-errors-firefox.har")
	if err != nil {
		t.Fatal(err)
	}
	res := ts.call(t, "POST", "/__mock/import/har?source=bug.har", string(har))
	var out struct {
		Scenario string
		Summary  struct {
			Entries, Rules int
			Skipped        []struct{ Note string }
		}
		Files []struct{ Name, Content string }
	}
	if err := json.Unmarshal(res.Body, &out); err != nil || res.Status != 200 {
		t.Fatalf("import: %d %s", res.Status, res.Body)
	}
	if out.Scenario != "bug" || out.Summary.Entries != 18 || out.Summary.Rules == 0 || len(out.Files) != 2 ||
		out.Files[0].Name != "bug-conversations.yaml" || out.Files[1].Name != "bug.yaml" {
		t.Fatalf("import: %+v", out)
	}
	if put := ts.call(t, "PUT", "/__mock/scenarios/bug", out.Files[1].Content); put.Status != 200 {
		t.Fatalf("the imported scenario does not load: %d %s", put.Status, put.Body)
	}
	// The HAR's first send was answered 429: so is its replay.
	send := ts.call(t, "POST", "/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Cancel my order"}`,
		"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Scenario: bug")
	if send.Status != 429 {
		t.Logf("scenario:\n%s", out.Files[1].Content)
		t.Errorf("the replay's first send: %d %s, want 429", send.Status, send.Body)
	}
	tests := []struct {
		body   string
		status int
		want   string
	}{
		{"not json", 400, "not a HAR"},
		{`{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"https://cdn.example/app.js","headers":[]},"response":{"status":200,"headers":[],"content":{"size":0}},"timings":{},"time":1,"startedDateTime":"2026-03-15T14:22:11Z"}]}}`, 422, "no entry of the HAR belongs to either API"},
	}
	for _, tt := range tests {
		res := ts.call(t, "POST", "/__mock/import/har", tt.body)
		if res.Status != tt.status || !strings.Contains(string(res.Body), tt.want) {
			t.Errorf("%.20s: %d %s, want %d %q", tt.body, res.Status, res.Body, tt.status, tt.want)
		}
	}
	if res := ts.rawCall(t, "POST", "/__mock/import/har", string(har), map[string]string{"Origin": "https://evil.example"}); res.Status != 403 {
		t.Errorf("from another site: %d", res.Status)
	}
}
