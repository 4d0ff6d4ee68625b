package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Rate limits and broken streams as real clients meet them: the
// `eventsource` npm package resuming a stream msgmock drops, and a page in
// Chromium reading the rate-limit headers across origins.

// TestEventSourceResumesADroppedStream: a reply streamed word by word
// whose stream drops after the 4th chunk reaches an EventSource whole —
// it reconnects with Last-Event-ID and gets the rest — and the deltas join
// to the reply's text. Needs Node and `npm ci --prefix
// cmd/msgmock/testdata/node`.
func TestEventSourceResumesADroppedStream(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	node := filepath.Join(testdataDir(t), "node")
	if _, err := os.Stat(filepath.Join(node, "node_modules", "eventsource")); err != nil {
		t.Skip("eventsource is not installed: npm ci --prefix cmd/msgmock/testdata/node")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "default.yaml"), `
scenario:
  name: default
  rules:
    - when: {api: conversations, sender_type: user}
      reply:
        text: "Once upon a time a stream broke and nothing was lost."
        stream:
          interval: 100ms
          faults: [{fault: drop, chunk: 4}]
`)
	r := start(t, nil, "--fixtures", dir, "--clock", "virtual", "--seed", "7", "--watch=false")
	defer r.stop()
	cmd := exec.Command("node", filepath.Join(node, "eventsource-resume.mjs"), r.url)
	cmd.Env = nodeEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got struct {
		Deltas   []string `json:"deltas"`
		Text     string   `json:"text"`
		Opens    int      `json:"opens"`
		Repeated []string `json:"repeated"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Text != "Once upon a time a stream broke and nothing was lost." || strings.Join(got.Deltas, "") != got.Text {
		t.Errorf("deltas %q join to %q, the reply is %q", got.Deltas, strings.Join(got.Deltas, ""), got.Text)
	}
	if len(got.Deltas) != 11 || got.Opens != 2 || len(got.Repeated) != 0 {
		t.Errorf("%d deltas over %d connections, %d repeated; want 11 over 2, none repeated", len(got.Deltas), got.Opens, len(got.Repeated))
	}
}

// TestBrowserReadsRateLimitHeaders: a page on another origin calls the
// API with fetch and reads X-RateLimit-*, Retry-After and the OpenAI-style
// names: CORS exposes them; the inspector then shows the spent window.
// Without a Chromium it skips (see chromiumPath).
func TestBrowserReadsRateLimitHeaders(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "settings.yaml"), `
settings:
  rate_limits:
    - {name: per-key, key: api_key, requests: 2, per: 1m, headers: openai}
`)
	r := start(t, nil, "--fixtures", dir, "--clock", "virtual", "--watch=false")
	defer r.stop()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>app</title><script>
(async () => {
  const out = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(` + js(r.url+"/v1/messages") + `, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk_test_browser', 'Content-Type': 'application/json' },
      body: JSON.stringify({ sender_id: 'u', sender_type: 'user', text: 'hi' }),
    });
    const h = (n) => res.headers.get(n);
    out.push([res.status, h('X-RateLimit-Limit'), h('X-RateLimit-Remaining'), h('X-RateLimit-Reset'),
      h('Retry-After'), h('retry-after-ms'), h('x-ratelimit-remaining-requests')].join(' '));
  }
  window.results = out.join('\n');
})();
</script>`))
	}))
	defer app.Close()
	p := openInspector(t, r, 800, 600)
	// The page's own document, loaded, before anything is evaluated in it.
	p.run(chromedp.Navigate(app.URL), chromedp.WaitReady(chromedp.CSS("body")))
	p.waitFor("the page's requests", `window.results !== undefined`)
	got := eval[string](p, `window.results`)
	want := strings.Join([]string{
		"200 2 1 60   1",
		"200 2 0 60   0",
		"429 2 0 60 60 60000 0",
	}, "\n")
	if got != want {
		t.Errorf("the page read\n%s\nwant\n%s", got, want)
	}
	// The inspector shows the window the page spent.
	p.run(chromedp.Navigate(r.url+"/__mock/"), chromedp.WaitReady(chromedp.CSS("#rate-limit-list")))
	p.waitFor("the rate-limit window in the inspector",
		`[...document.querySelectorAll('#rate-limit-list li')].some(li => li.textContent.includes('settings/per-key') && li.textContent.includes('0 of 2 requests left') && li.textContent.includes('resets in 60.0 s'))`)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
