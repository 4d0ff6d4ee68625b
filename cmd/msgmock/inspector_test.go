package main

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The inspector (GET /__mock/) driven in headless Chromium against a real
// msgmock. Without a Chromium these tests skip, unless
// MSGMOCK_BROWSER_TESTS=require (as .ci/run sets it), when they fail.

var updateScreenshot = flag.Bool("update-screenshot", false, "write the README's screenshot of the inspector")

const screenshotPath = "../../mock/admin/inspector/testdata/inspector.png"

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MSGMOCK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MSGMOCK_BROWSER_TESTS") == "require" {
		t.Fatal("no Chromium found (MSGMOCK_BROWSER_TESTS=require): install Debian's chromium")
	}
	t.Skip("no Chromium on this machine (set MSGMOCK_BROWSER_TESTS=require to fail instead)")
	return ""
}

// page is one browser tab on a msgmock's inspector.
type page struct {
	t    *testing.T
	ctx  context.Context
	srv  *running
	mu   sync.Mutex
	errs []string // uncaught exceptions in the page
}

// openInspector starts a browser of the given window size and loads the
// inspector of srv.
func openInspector(t *testing.T, srv *running, width, height int) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	p := &page{t: t, ctx: ctx, srv: srv}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			what := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				what += " " + e.ExceptionDetails.Exception.Description
			}
			p.mu.Lock()
			p.errs = append(p.errs, what)
			p.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	// The window's size includes the browser's own bars: fix the page's.
	_, err = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(width), Height: int64(height), DeviceScaleFactor: 1,
	})
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	p.run(chromedp.Navigate(srv.url + "/__mock/"))
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Errorf("uncaught exception in the page: %s", e)
		}
	})
	return p
}

func (p *page) run(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// waitFor polls a JavaScript expression until it is truthy.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(25*time.Millisecond))); err != nil {
		page, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		p.t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, page)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// value reads a form control's value.
func (p *page) value(sel string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("browser: value of %s: %v", sel, err)
	}
	return v
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), v)
}

// colorScheme emulates the system's light or dark preference.
func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	_, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// compose fills the composer and sends.
func (p *page) compose(api, conversation, scenario, prefer, text string) {
	p.t.Helper()
	p.run(click(`input[name=api][value=` + api + `]`))
	p.waitFor("the conversation choices", `[...document.querySelectorAll('#compose-conversation option')].some(o => o.value === `+js(conversation)+`)`)
	p.run(
		setValue("#compose-conversation", conversation),
		setValue("#compose-scenario", scenario),
		setValue("#compose-prefer", prefer),
		setValue("#compose-text", text),
		click("#compose-send"),
	)
}

// fixturesDir writes the built-in fixtures into a new directory.
func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fixtures")
	if err := run(context.Background(), []string{"init", dir}, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInspectorShowsMessagesAndStreamsReplies(t *testing.T) {
	srv := start(t, nil, "--fixtures", fixturesDir(t), "--clock", "virtual", "--seed", "7")
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the fixture conversation", `document.querySelector('#conversation-list [data-conv="conversations:con_9s2kd81"]')`)

	// A message sent with the streaming scenario appears as sent.
	p.compose("conversations", "con_9s2kd81", "streaming", "", "Where is my parcel?")
	p.waitFor("the sent message", `[...document.querySelectorAll('#messages .msg.user .text')].some(e => e.textContent === 'Where is my parcel?')`)

	// The reply is due in 300ms of virtual time, then a word every 40ms:
	// the page's clock control moves time, and the reply grows word by word.
	p.run(setValue("#clock-by", "300ms"), click("#clock-advance button"))
	p.waitFor("the first chunk", `document.querySelector('#messages .msg.streaming .text')?.textContent.length > 0`)
	var seen []string
	for i := 0; i < 200; i++ {
		draft := eval[string](p, `document.querySelector('#messages .msg.streaming .text')?.textContent ?? ''`)
		if draft == "" {
			break // the whole message arrived
		}
		if len(seen) == 0 || seen[len(seen)-1] != draft {
			seen = append(seen, draft)
		}
		p.run(setValue("#clock-by", "40ms"), click("#clock-advance button"))
		p.waitFor("the next chunk", `(document.querySelector('#messages .msg.streaming .text')?.textContent ?? '') !== `+js(draft))
	}
	if len(seen) < 3 {
		t.Fatalf("the reply did not grow chunk by chunk: %q", seen)
	}
	for i := 1; i < len(seen); i++ {
		if !strings.HasPrefix(seen[i], seen[i-1]) {
			t.Fatalf("chunk %d does not extend the text before it: %q then %q", i, seen[i-1], seen[i])
		}
	}

	// The full text is what the API stored.
	_, body := get(t, srv.url+"/v1/conversations/con_9s2kd81/messages", "Authorization: Bearer sk_test_51_fakeapikey123456")
	var list struct {
		Data struct {
			Messages []struct {
				Text       string `json:"text"`
				SenderType string `json:"sender_type"`
			} `json:"messages"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	msgs := list.Data.Messages
	last := msgs[len(msgs)-1]
	if last.SenderType != "agent" || !strings.HasPrefix(last.Text, "Re: “Where is my parcel?”") {
		t.Fatalf("last stored message: %+v", last)
	}
	p.waitFor("the whole reply", `[...document.querySelectorAll('#messages .msg.agent .text')].some(e => e.textContent === `+js(last.Text)+`)`)
	if !strings.HasPrefix(last.Text, seen[len(seen)-1]) {
		t.Fatalf("the streamed text %q is not a prefix of the stored reply %q", seen[len(seen)-1], last.Text)
	}

	// A message sent from elsewhere (curl, the app under test) appears too.
	status, _ := post(t, srv.url+"/api/v1/messages", `{"content":{"content":"from another client","sender_id":"usr_1"}}`,
		"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json")
	if status != 201 {
		t.Fatalf("workspace send: %d", status)
	}
	p.waitFor("a new Workspace conversation in the list", `[...document.querySelectorAll('#conversation-list button')].some(b => b.dataset.conv.startsWith('workspace:') && b.textContent.includes('· 1'))`)
}

func TestInspectorScenarioSwitchShowsTheErrorInTheJournal(t *testing.T) {
	srv := start(t, nil, "--fixtures", fixturesDir(t))
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the scenario list", `document.querySelector('#scenario-list button[data-name="conversations-500"]')`)

	// One click switches the server to the error scenario…
	p.run(click(`#scenario-list button[data-name="conversations-500"]`))
	p.waitFor("the switch", `document.querySelector('#server-scenario').textContent === 'conversations-500'`)
	_, body := get(t, srv.url+"/__mock/status")
	if !strings.Contains(string(body), `"active_scenario":"conversations-500"`) {
		t.Fatalf("the server did not switch: %s", body)
	}
	// …and the next send shows that error in the journal.
	p.compose("conversations", "con_9s2kd81", "", "", "hello")
	p.waitFor("the 500 in the journal", `(() => { const r = document.querySelector('#journal tbody tr'); return r && r.cells[3].textContent === '500' && r.cells[4].textContent === 'conversations-500'; })()`)
	p.waitFor("the response in the composer", `document.querySelector('#compose-status').textContent.startsWith('500')`)

	// A documented error by Prefer: the Workspace 422, in two clicks.
	p.run(click(`#scenario-list button[data-name="default"]`))
	p.waitFor("the switch back", `document.querySelector('#server-scenario').textContent === 'default'`)
	p.compose("workspace", "", "", "422", "hello")
	p.waitFor("the 422 in the journal", `(() => { const r = document.querySelector('#journal tbody tr'); return r && r.cells[2].textContent === '/api/v1/messages' && r.cells[3].textContent === '422'; })()`)

	// Reset empties the journal and restores the scenario active at start.
	p.run(click(`#scenario-list button[data-name="workspace-503"]`))
	p.waitFor("the switch", `document.querySelector('#server-scenario').textContent === 'workspace-503'`)
	p.run(click("#reset"))
	p.waitFor("the reset", `document.querySelector('#server-scenario').textContent === 'default' && document.querySelectorAll('#journal tbody tr').length === 0`)
}

func TestInspectorReloadPanelShowsProblems(t *testing.T) {
	dir := fixturesDir(t)
	srv := start(t, nil, "--fixtures", dir)
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("a good load", `document.querySelector('#reload-summary strong')?.textContent === 'Loaded'`)

	broken := "scenario:\n  name: broken\n  rules:\n    - name: r\n      when: {api: conversations}\n      respond: {status: 99}\n"
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the problem with its file, line and column", `[...document.querySelectorAll('#reload-errors li')].some(li => /broken\.yaml:6:\d+: /.test(li.textContent))`)
	p.waitFor("the failed state", `document.querySelector('#reload-summary strong').textContent === 'Last reload failed'`)

	if err := os.Remove(filepath.Join(dir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the recovery", `document.querySelector('#reload-summary strong').textContent === 'Loaded' && document.querySelectorAll('#reload-errors li').length === 0`)
}

func TestInspectorCopyAsCurlReplaysTheRequest(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl")
	}
	srv := start(t, nil, "--fixtures", fixturesDir(t))
	p := openInspector(t, srv, 1280, 800)
	// A body whose bytes JSON would re-encode differently (1.50, spacing,
	// a quote for the shell).
	body := `{"conversation_id": "con_9s2kd81", "sender_id":"usr_82hd92","sender_type":"user","text":"it's 1.50 USD","metadata":{"n":1.50}}`
	status, _ := post(t, srv.url+"/v1/messages", body, "Authorization: Bearer sk_test_51_fakeapikey123456", "X-Request-Tag: replay-me", "Content-Type: application/json")
	if status != 200 {
		t.Fatalf("send: %d", status)
	}
	p.waitFor("the request in the journal", `document.querySelector('#journal tbody tr td.path button')`)
	p.run(click(`#journal tbody tr td.path button`))
	p.waitFor("the request's detail", `document.querySelector('#detail-resp-body').textContent.includes('Message sent successfully.')`)
	p.run(click("#copy-curl"))
	p.waitFor("the curl command", `document.querySelector('#curl').value.startsWith('curl ')`)
	cmd := p.value("#curl")

	// The journal masks the key: the command takes it from $API_KEY, and
	// refuses to run without it, naming the key it stands for.
	if out, err := exec.Command("bash", "-c", cmd).CombinedOutput(); err == nil || !strings.Contains(string(out), "API_KEY: set API_KEY to the credential sk_t…3456 (fp ") {
		t.Fatalf("without API_KEY: %v\n%s", err, out)
	}
	replay := exec.Command("bash", "-c", cmd)
	replay.Env = append(os.Environ(), "API_KEY=sk_test_51_fakeapikey123456")
	out, err := replay.Output()
	if err != nil {
		t.Fatalf("%s\n%v: %s", cmd, err, out)
	}
	if !strings.HasPrefix(string(out), "HTTP/1.1 200") {
		t.Fatalf("the replay answered:\n%s", out)
	}
	_, jr := get(t, srv.url+"/__mock/requests")
	var journal struct {
		Requests []struct {
			ID      string            `json:"id"`
			Method  string            `json:"method"`
			Path    string            `json:"path"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(jr, &journal); err != nil || len(journal.Requests) != 2 {
		t.Fatalf("journal: %v %s", err, jr)
	}
	first, again := journal.Requests[0], journal.Requests[1]
	if again.Method != first.Method || again.Path != first.Path || again.Status != first.Status {
		t.Fatalf("replay %+v differs from %+v", again, first)
	}
	for _, h := range []string{"Authorization", "Content-Type", "X-Request-Tag"} {
		if again.Headers[h] != first.Headers[h] {
			t.Errorf("header %s: replay %q, original %q", h, again.Headers[h], first.Headers[h])
		}
	}
	_, rawFirst := get(t, srv.url+"/__mock/requests/"+first.ID+"/body")
	_, rawReplay := get(t, srv.url+"/__mock/requests/"+again.ID+"/body")
	if string(rawFirst) != body || string(rawReplay) != body {
		t.Fatalf("bodies differ:\n sent   %s\n first  %s\n replay %s", body, rawFirst, rawReplay)
	}
}

func TestInspectorAdminTokenAndSessions(t *testing.T) {
	srv := start(t, nil, "--fixtures", fixturesDir(t), "--admin-token", "s3cret")
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the token prompt", `document.querySelector('#token-dialog').open`)
	p.run(setValue("#token-input", "wrong"), click("#token-form button"))
	p.waitFor("the refusal", `document.querySelector('#token-dialog').open && document.querySelector('#token-error').textContent.includes('refused')`)
	p.run(setValue("#token-input", "s3cret"), click("#token-form button"))
	p.waitFor("the status", `document.querySelector('#reload-summary strong')?.textContent === 'Loaded'`)
	kept := eval[string](p, `sessionStorage.getItem('msgmock.adminToken')`)
	if kept != "s3cret" {
		t.Fatalf("token kept for the tab: %q", kept)
	}
	local := eval[int](p, `localStorage.length`)
	if local != 0 {
		t.Fatal("the token must not outlive the tab (localStorage used)")
	}

	// A session of its own: what it sends stays in it.
	p.run(setValue("#session-name", "qa-1"), click("#session-form button"))
	p.waitFor("the session", `document.querySelector('#session').value === 'qa-1'`)
	p.compose("conversations", "con_9s2kd81", "", "404", "in qa-1")
	p.waitFor("the 404 in qa-1's journal", `(() => { const r = document.querySelector('#journal tbody tr'); return r && r.cells[3].textContent === '404'; })()`)
	_, def := get(t, srv.url+"/__mock/requests", "Authorization: Bearer s3cret")
	_, qa := get(t, srv.url+"/__mock/requests", "Authorization: Bearer s3cret", "X-Mock-Session: qa-1")
	if strings.Contains(string(def), "in qa-1") || !strings.Contains(string(qa), "in qa-1") {
		t.Fatalf("the send went to the wrong session:\ndefault: %s\nqa-1: %s", def, qa)
	}
	// Live messages follow the session.
	post(t, srv.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"u","sender_type":"user","text":"only in qa-1"}`,
		"Authorization: Bearer k", "X-Mock-Session: qa-1", "Content-Type: application/json")
	p.run(click(`#conversation-list [data-conv="conversations:con_9s2kd81"]`))
	p.waitFor("the session's message", `[...document.querySelectorAll('#messages .text')].some(e => e.textContent === 'only in qa-1')`)
	// Back to the default session: its conversation does not have it.
	p.run(setValue("#session", ""), chromedp.Func(func(context.Context, *chromedp.Target) error {
		_, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.querySelector('#session').dispatchEvent(new Event('change'))`))
		return err
	}))
	p.waitFor("the default session", `document.querySelector('#conversation-list [data-conv="conversations:con_9s2kd81"]') && !document.querySelector('#scenario-scope').hidden === false`)
	p.waitFor("the default session's messages", `document.querySelectorAll('#messages .msg').length > 0 && ![...document.querySelectorAll('#messages .text')].some(e => e.textContent === 'only in qa-1')`)
}

func TestInspectorLayout(t *testing.T) {
	srv := start(t, nil, "--fixtures", fixturesDir(t), "--seed", "3", "--now", "2026-03-15T14:22:11Z")
	for _, size := range []struct{ w, h int }{{1280, 800}, {420, 800}} {
		p := openInspector(t, srv, size.w, size.h)
		p.waitFor("the status", `document.querySelector('#reload-summary strong')?.textContent === 'Loaded'`)
		if eval[bool](p, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("%dx%d: the page scrolls sideways", size.w, size.h)
		}
		// Every control can be reached with the keyboard and has a name.
		unnamed := eval[[]string](p, `[...document.querySelectorAll('button, input, select, textarea')].filter(e => !e.closest('[hidden], dialog') && e.type !== 'radio' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.outerHTML)`)
		if len(unnamed) > 0 {
			t.Errorf("controls without a name: %v", unnamed)
		}
		tabs := eval[int](p, `[...document.querySelectorAll('button, input, select, textarea, a[href]')].filter(e => !e.closest('[hidden], dialog') && e.tabIndex < 0).length`)
		if tabs > 0 {
			t.Errorf("%d controls are out of the tab order", tabs)
		}
	}

	// Light and dark follow the system.
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the status", `document.querySelector('#reload-summary strong')?.textContent === 'Loaded'`)
	background := func() string { return eval[string](p, `getComputedStyle(document.body).backgroundColor`) }
	p.colorScheme("light")
	light := background()
	p.colorScheme("dark")
	dark := background()
	if light == dark {
		t.Errorf("the same background in light and dark: %s", light)
	}

	if *updateScreenshot {
		p.colorScheme("light")
		p.run(setValue("#compose-text", "Where is my parcel?"), click("#compose-send"))
		p.waitFor("the reply", `document.querySelectorAll('#messages .msg.agent').length >= 2`)
		p.run(click(`#journal tbody tr td.path button`))
		p.waitFor("the curl command", `document.querySelector('#curl').value.startsWith('curl ')`)
		eval[int](p, `window.scrollTo(0, 0), 0`)
		png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(screenshotPath, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInspectorShowsWebhookDeliveriesAndSetsTheClock(t *testing.T) {
	// A webhook receiver that refuses every delivery, so that attempts,
	// errors and the next retry show.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not today", http.StatusServiceUnavailable)
	}))
	defer receiver.Close()
	dir := fixturesDir(t)
	settings, err := os.ReadFile(filepath.Join(dir, "settings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	settings = []byte(strings.Replace(string(settings), "settings:\n", "settings:\n  webhooks:\n    - url: "+receiver.URL+"/hooks\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 1))
	if err := os.WriteFile(filepath.Join(dir, "settings.yaml"), settings, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := start(t, nil, "--fixtures", dir, "--now", "2026-03-15T14:22:11Z")
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the clock", `document.querySelector('#clock-now').textContent === '2026-03-15T14:22:11Z'`)

	p.compose("conversations", "con_9s2kd81", "", "", "hello hooks")
	p.waitFor("a failed delivery with its retry", `[...document.querySelectorAll('#deliveries tbody tr')].some(r => r.cells[2].textContent.endsWith('/hooks') && r.cells[4].textContent === '503' && r.cells[7].textContent !== '')`)

	// Set the clock from the page.
	p.run(setValue("#clock-to", "2027-01-02T03:04:05Z"), click("#clock-set button"))
	p.waitFor("the clock set", `document.querySelector('#clock-now').textContent === '2027-01-02T03:04:05Z'`)
	_, body := get(t, srv.url+"/__mock/clock")
	if !strings.Contains(string(body), `"now":"2027-01-02T03:04:05Z"`) {
		t.Fatalf("the server's clock: %s", body)
	}
}

// TestInspectorVerifyAndNearMisses: a request no rule answered shows its
// closest rules in its detail view; the verify panel runs a pattern,
// shows a failure's report and opens the closest request it names.
func TestInspectorVerifyAndNearMisses(t *testing.T) {
	dir := fixturesDir(t)
	billing := "scenario:\n  name: billing\n  rules:\n    - name: web-invoice\n      when: {api: conversations, text: {contains: invoice}, metadata: {channel: web}}\n      respond: {status: 503}\n"
	if err := os.WriteFile(filepath.Join(dir, "billing.yaml"), []byte(billing), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := start(t, nil, "--fixtures", dir, "--scenario", "billing")
	status, body := post(t, srv.url+"/v1/messages", `{"sender_id":"agt_1","sender_type":"agent","text":"my invoice","metadata":{"channel":"sms"}}`,
		"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	p := openInspector(t, srv, 1280, 800)
	p.waitFor("the request, unmatched", `document.querySelector('#journal tbody tr td.unmatched')?.textContent === 'none · 2 near'`)
	p.run(click(`#journal tbody tr td.path button`))
	p.waitFor("its near misses", `[...document.querySelectorAll('#detail-near-list li')].map(li => li.textContent).join('\n') === `+
		js("billing/web-invoice: metadata.channel: expected \"web\", got \"sms\"\ndefault/assistant-replies: sender_type: expected \"user\", got \"agent\""))

	p.run(setValue("#verify-body", `{"request":{"when":{"text":{"contains":"invoice"},"metadata":{"channel":"web"}}},"count":{"exactly":1}}`), click("#verify-run"))
	p.waitFor("the failure", `document.querySelector('#verify-status').textContent === 'Does not hold (1 failure).'`)
	report := eval[string](p, `document.querySelector('#verify-report').textContent`)
	if !strings.Contains(report, `closest  req_000001: metadata.channel: expected "web", got "sms"`) {
		t.Errorf("the report shown:\n%s", report)
	}
	eval[int](p, `(document.querySelector('#request-detail').hidden = true, 0)`)
	p.run(click(`#verify-ids button[data-id="req_000001"]`))
	p.waitFor("the closest request opened", `!document.querySelector('#request-detail').hidden && document.querySelector('#detail-title').textContent.startsWith('req_000001: POST /v1/messages')`)

	p.run(setValue("#verify-body", `{"sequence":[{"method":"POST","rule":{"absent":true}}]}`), click("#verify-run"))
	p.waitFor("a verification that holds", `document.querySelector('#verify-status').textContent === 'Holds: 1 matching request.' && document.querySelector('#verify-report').textContent === ''`)
	p.run(setValue("#verify-body", `{"request":{"colour":"red"}}`), click("#verify-run"))
	p.waitFor("a bad pattern's problem", `document.querySelector('#verify-report').textContent.startsWith('body:1:13: unknown key "colour" in request')`)
}

// TestInspectorImportsADroppedHAR: a HAR given to the page's import panel
// is summarised (entries read, used, skipped with why), its two files are
// offered for download, and one click adds its scenario to the session and
// makes it active: the next send gets the HAR's first error.
func TestInspectorImportsADroppedHAR(t *testing.T) {
	srv := start(t, nil)
	p := openInspector(t, srv, 1280, 800)
	har, err := filepath.Abs("../../mock/importer/testdata/send-errors-firefox.har")
	if err != nil {
		t.Fatal(err)
	}
	p.run(chromedp.SetUploadFiles(chromedp.CSS("#har-file"), []string{har}))
	p.waitFor("the import's summary", `document.querySelector('#har-summary').textContent.includes('18 entries read')`)
	summary := eval[string](p, `document.querySelector('#har-summary').textContent`)
	if !strings.Contains(summary, "scenario send-errors-firefox") || !strings.Contains(eval[string](p, `document.querySelector('#har-notes').textContent`), "no answer was recorded") {
		t.Errorf("summary %q, notes %q", summary, eval[string](p, `document.querySelector('#har-notes').textContent`))
	}
	if n := eval[int](p, `document.querySelectorAll('#har-actions a[download]').length`); n != 2 {
		t.Errorf("%d files offered for download, want 2", n)
	}
	p.run(click(`#har-actions button`))
	p.waitFor("the scenario active", `document.querySelector('#server-scenario').textContent === 'send-errors-firefox'`)
	status, body := post(t, srv.url+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Cancel my order"}`,
		"Authorization: Bearer k", "Content-Type: application/json")
	if status != 429 {
		t.Errorf("the send after the import: %d %s, want the HAR's 429", status, body)
	}
}
