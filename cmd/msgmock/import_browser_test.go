package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// A HAR made by a real browser: headless Chromium loads a page that
// talks to a msgmock scripted to fail (a send answered 503 twice, a
// Workspace send 429 once), with another site's script and image beside
// it. The Network domain's events are written as a HAR the way DevTools
// exports one; the HAR is imported, served, and its API requests replayed.
// Without a Chromium the test skips, unless MSGMOCK_BROWSER_TESTS=require.

const (
	browserToken  = "sk_live_BROWSER_TOKEN_7"
	browserCookie = "BROWSER_COOKIE_SECRET_9"
)

const browserPage = `<!doctype html>
<meta charset="utf-8">
<title>Support chat</title>
<script src="ASSETS/lib.js"></script>
<img src="ASSETS/logo.png" alt="">
<script>
const auth = {'Authorization': 'Bearer ` + browserToken + `'};
async function read(url) { const r = await fetch(url, {headers: auth}); await r.text(); return r.status; }
// As the app does: retry a send while the service says 5xx or 429.
async function send(url, body) {
  for (let i = 0; i < 5; i++) {
    const r = await fetch(url, {method: 'POST', headers: {...auth, 'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    await r.text();
    if (r.status < 500 && r.status !== 429) return r.status;
  }
}
(async () => {
  document.cookie = 'session=` + browserCookie + `; path=/';
  await read('/v1/conversations/con_9s2kd81/messages');
  await send('/v1/messages', {conversation_id: 'con_9s2kd81', sender_id: 'usr_82hd92', sender_type: 'user', text: 'Where is my parcel?'});
  await read('/v1/conversations/con_9s2kd81/messages');
  await send('/api/v1/messages', {content: {content: 'Summarise the deck', sender_id: 'usr_82hd92'}, conversation_id: 'conv_5f2a9c0e7b1d4a36'});
  await read('/api/v1/messages?conversation_id=conv_5f2a9c0e7b1d4a36');
  window.done = true;
})().catch((e) => { window.failed = String(e); });
</script>`

const browserFixtures = `conversations:
  - id: con_9s2kd81
    messages:
      - {id: msg_1a2b3c, sender_id: usr_82hd92, sender_type: user, text: "Hi! Can you pull up my account?", created_at: 2026-03-15T14:00:05Z}
      - {id: msg_4d5e6f, sender_id: agt_assistant, sender_type: agent, text: "Of course.", reply_to_message_id: msg_1a2b3c, created_at: 2026-03-15T14:00:07Z}
  - id: conv_5f2a9c0e7b1d4a36
    api: workspace
    created_at: 2026-03-15T14:00:00Z
    messages:
      - {id: msg_0a1b2c3d4e5f6071, sender_id: usr_82hd92, role: user, content: "What changed in the Q3 deck?", created_at: 2026-03-15T14:00:01.250000Z}
`

const browserScenario = `rules:
  - {when: {text: "Where is my parcel?"}, times: 2, respond: {status: 503}}
  - {when: {text: "Summarise the deck"}, times: 1, respond: {status: 429, headers: {Retry-After: "2"}}}
`

func TestImportHARRecordedByChromium(t *testing.T) {
	chromium := chromiumPath(t)

	// The service: a msgmock scripted to fail over its admin API.
	svcDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(svcDir, "conversations.yaml"), []byte(browserFixtures), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := start(t, nil, "--fixtures", svcDir, "--seed", "11")
	if status, body := send(t, "PUT", svc.url+"/__mock/scenarios/flaky", browserScenario, "Content-Type: application/yaml"); status != 200 {
		t.Fatalf("PUT scenario: %d %s", status, body)
	}
	if status, body := send(t, "PUT", svc.url+"/__mock/scenario", `{"name":"flaky"}`, "Content-Type: application/json"); status != 200 {
		t.Fatalf("PUT active scenario: %d %s", status, body)
	}

	// Another site's assets.
	assets := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/lib.js":
			w.Header().Set("Content-Type", "application/javascript")
			fmt.Fprint(w, "window.libLoaded = true;")
		case "/logo.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer assets.Close()
	// The app: its page, and the API behind the same origin, as a
	// development server proxies it.
	svcURL, _ := url.Parse(svc.url)
	proxy := httputil.NewSingleHostReverseProxy(svcURL)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/"), strings.HasPrefix(r.URL.Path, "/api/"):
			proxy.ServeHTTP(w, r)
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, strings.ReplaceAll(browserPage, "ASSETS", assets.URL))
		default:
			http.NotFound(w, r)
		}
	}))
	defer app.Close()

	harPath := filepath.Join(t.TempDir(), "support-chat.har")
	recordHAR(t, chromium, app.URL+"/", harPath)
	recorded, _ := os.ReadFile(harPath)
	for _, secret := range []string{"Bearer " + browserToken, "session=" + browserCookie} {
		if !strings.Contains(string(recorded), secret) {
			t.Fatalf("the HAR does not hold %q: the redaction below would prove nothing", secret)
		}
	}

	out := filepath.Join(t.TempDir(), "bug")
	stdout, stderr, err := importHARCmd(t, harPath, "--out", out)
	if err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
	}
	assetsHost := strings.TrimPrefix(assets.URL, "http://")
	for _, line := range []string{"(WebInspector", "another site (" + assetsHost + ")", "rule entry-", "(error 503)", "(error 429)", "not a path of either API"} {
		if !strings.Contains(stdout, line) {
			t.Errorf("the summary does not say %q:\n%s", line, stdout)
		}
	}
	for _, secret := range []string{browserToken, browserCookie} {
		assertNoSecret(t, out, secret)
	}
	replay := start(t, nil, "--fixtures", out, "--scenario", "support-chat")
	r := newReplayer(t, replay.url, []string{browserToken, browserCookie})
	r.replay(readTestHAR(t, harPath))
	if r.compared != 8 { // a read, 3 sends, a read, 2 sends, a read
		t.Errorf("compared %d requests, want 8", r.compared)
	}
	if testing.Verbose() {
		t.Logf("the import:\n%s", stdout)
	}
}

// cdpRequest is what the Network domain told of one request.
type cdpRequest struct {
	sent      *network.EventRequestWillBeSent
	sentExtra *network.EventRequestWillBeSentExtraInfo
	response  *network.EventResponseReceived
	respExtra *network.EventResponseReceivedExtraInfo
	finished  *network.EventLoadingFinished
	failed    *network.EventLoadingFailed
	body      []byte
	postData  string
}

// recordHAR loads page in Chromium, waits for window.done, and writes the
// HAR as DevTools' "Save all as HAR (with content)" does.
func recordHAR(t *testing.T, chromium, page, harPath string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	var mu sync.Mutex
	reqs := map[network.RequestID]*cdpRequest{}
	var order []network.RequestID
	get := func(id network.RequestID) *cdpRequest {
		if reqs[id] == nil {
			reqs[id] = &cdpRequest{}
			order = append(order, id)
		}
		return reqs[id]
	}
	// Events arrive on chromedp's reader: only note them here.
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			get(e.RequestID).sent = e
		case *network.EventRequestWillBeSentExtraInfo:
			get(e.RequestID).sentExtra = e
		case *network.EventResponseReceived:
			get(e.RequestID).response = e
		case *network.EventResponseReceivedExtraInfo:
			get(e.RequestID).respExtra = e
		case *network.EventLoadingFinished:
			get(e.RequestID).finished = e
		case *network.EventLoadingFailed:
			get(e.RequestID).failed = e
		}
	}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	pollCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[chromedp.Void](`window.done || window.failed`, chromedp.WithPollingInterval(25*time.Millisecond))); err != nil {
		t.Fatalf("the page did not finish: %v", err)
	}
	if failed, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.failed || ""`)); failed != "" {
		t.Fatalf("the page failed: %s", failed)
	}
	// Every request that finished has its body to fetch (DevTools reads
	// them the same way when it exports).
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		pending := 0
		for _, id := range order {
			if rq := reqs[id]; rq.sent != nil && rq.finished == nil && rq.failed == nil {
				pending++
			}
		}
		mu.Unlock()
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	ids := append([]network.RequestID(nil), order...)
	mu.Unlock()
	for _, id := range ids {
		mu.Lock()
		rq := reqs[id]
		mu.Unlock()
		if rq.sent == nil {
			continue
		}
		if rq.finished != nil {
			if res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id}); err == nil {
				rq.body = res.Body
			}
		}
		if rq.sent.Request.HasPostData {
			if res, err := chromedp.Call(ctx, network.GetRequestPostData, network.GetRequestPostDataParams{RequestID: id}); err == nil {
				rq.postData = string(res.PostData)
			}
		}
	}
	var entries []map[string]any
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := reqs[ids[i]].sent, reqs[ids[j]].sent
		return a != nil && b != nil && a.Timestamp < b.Timestamp
	})
	for _, id := range ids {
		if rq := reqs[id]; rq.sent != nil && (rq.response != nil || rq.failed != nil) {
			entries = append(entries, harEntryOf(rq))
		}
	}
	har := map[string]any{"log": map[string]any{
		"version": "1.2", "creator": map[string]any{"name": "WebInspector", "version": "537.36"},
		"pages":   []any{map[string]any{"startedDateTime": entries[0]["startedDateTime"], "id": "page_1", "title": page, "pageTimings": map[string]any{}}},
		"entries": entries,
	}}
	data, err := json.MarshalIndent(har, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(harPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// harEntryOf is one request as DevTools' HAR writer (HARWriter.ts) puts it.
func harEntryOf(rq *cdpRequest) map[string]any {
	nv := func(h network.Headers) []any {
		var keys []string
		for k := range h {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := []any{}
		for _, k := range keys {
			for _, v := range strings.Split(fmt.Sprint(h[k]), "\n") { // raw headers join repeats with \n
				out = append(out, map[string]any{"name": k, "value": v})
			}
		}
		return out
	}
	req := rq.sent.Request
	reqHeaders := req.Headers
	if rq.sentExtra != nil {
		reqHeaders = rq.sentExtra.Headers // as sent, cookies included
	}
	u, _ := url.Parse(req.URL)
	query := []any{}
	for k, vs := range u.Query() {
		for _, v := range vs {
			query = append(query, map[string]any{"name": k, "value": v})
		}
	}
	cookies := []any{}
	for k, v := range reqHeaders {
		if strings.EqualFold(k, "cookie") {
			for _, part := range strings.Split(fmt.Sprint(v), ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
				cookies = append(cookies, map[string]any{"name": name, "value": value})
			}
		}
	}
	request := map[string]any{"method": req.Method, "url": req.URL, "httpVersion": "HTTP/1.1", "headers": nv(reqHeaders),
		"queryString": query, "cookies": cookies, "headersSize": -1, "bodySize": len(rq.postData)}
	if rq.postData != "" {
		mime := ""
		for k, v := range reqHeaders {
			if strings.EqualFold(k, "content-type") {
				mime = fmt.Sprint(v)
			}
		}
		request["postData"] = map[string]any{"mimeType": mime, "text": rq.postData}
	}
	entry := map[string]any{
		"_initiator": map[string]any{"type": "script"}, "_priority": "High", "_resourceType": strings.ToLower(string(rq.sent.Type)),
		"cache": map[string]any{}, "pageref": "page_1", "request": request,
		"startedDateTime": time.UnixMicro(int64(rq.sent.WallTime.Float64() * 1e6)).UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	response := map[string]any{"status": 0, "statusText": "", "httpVersion": "", "headers": []any{}, "cookies": []any{},
		"content": map[string]any{"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 0, "_error": nil}
	timings := map[string]any{"blocked": -1, "dns": -1, "ssl": -1, "connect": -1, "send": 0, "wait": 0, "receive": 0}
	total := 0.0
	if res := rq.response; res != nil {
		r := res.Response
		headers := r.Headers
		if rq.respExtra != nil {
			headers = rq.respExtra.Headers
		}
		content := map[string]any{"size": len(rq.body), "mimeType": r.MimeType, "compression": 0}
		if rq.finished != nil {
			content["text"] = string(rq.body)
		}
		response = map[string]any{"status": r.Status, "statusText": r.StatusText, "httpVersion": strings.ToUpper(r.Protocol),
			"headers": nv(headers), "cookies": []any{}, "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1,
			"_transferSize": r.EncodedDataLength, "_error": nil}
		if tm := r.Timing; tm != nil {
			first := func(vs ...float64) float64 {
				for _, v := range vs {
					if v >= 0 {
						return v
					}
				}
				return tm.SendStart
			}
			span := func(a, b float64) float64 {
				if a < 0 || b < 0 {
					return -1
				}
				return b - a
			}
			receive := 0.0
			if rq.finished != nil {
				receive = (rq.finished.Timestamp.Float64()-tm.RequestTime)*1000 - tm.ReceiveHeadersEnd
			}
			timings = map[string]any{"blocked": first(tm.DNSStart, tm.ConnectStart, tm.SendStart), "dns": span(tm.DNSStart, tm.DNSEnd),
				"ssl": span(tm.SslStart, tm.SslEnd), "connect": span(tm.ConnectStart, tm.ConnectEnd), "send": tm.SendEnd - tm.SendStart,
				"wait": tm.ReceiveHeadersEnd - tm.SendEnd, "receive": receive, "_blocked_queueing": first(tm.DNSStart, tm.ConnectStart, tm.SendStart)}
			total = tm.ReceiveHeadersEnd + receive
		}
	}
	if rq.failed != nil {
		response["_error"] = rq.failed.ErrorText
	}
	entry["response"], entry["timings"], entry["time"] = response, timings, total
	return entry
}
