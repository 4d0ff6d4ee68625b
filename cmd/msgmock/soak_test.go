//go:build soak

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var soakFor = flag.Duration("soak", time.Minute, "how long TestSoak runs")

// soakBudget is retention.message_bytes in the soak: small enough that
// traffic sheds all the time. soakSessions is retention.sessions; the
// traffic uses three times as many.
const (
	soakBudget   = 32 << 20
	soakSessions = 20
)

// TestSoak (go test -tags soak -run TestSoak ./cmd/msgmock/ -args -soak=10m)
// builds msgmock and runs it in its own process, so that its memory is its
// own, with traffic to both APIs, sessions beyond the sessions limit under a budget
// small enough to shed, SSE clients that come and go, webhook deliveries
// and a reload every second, then checks: no unexpected 5xx, no
// acknowledged message lost (every one still readable or counted as
// evicted), goroutines back to the baseline, heap flat, peak RSS within
// the budget plus 20 MiB.
func TestSoak(t *testing.T) {
	var hooks atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hooks.Add(1)
	}))
	defer receiver.Close()

	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("settings.yaml", fmt.Sprintf("settings:\n  body_limit: 1MiB\n  retention: {sessions: %d, message_bytes: %d}\n  webhooks:\n    - {url: %s/hooks, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [message.created]}\n", soakSessions, soakBudget, receiver.URL))
	write("convs.yaml", "conversations:\n  - id: con_soak001\n  - {id: conv_0000000000000001, api: workspace}\n")
	scenario := func(v int) string {
		return fmt.Sprintf(`scenario:
  name: default
  rules:
    - when: {api: conversations, sender_type: user}
      reply: {after: {min: 5ms, max: 50ms}, text: "v%d {{ Sentence }}", stream: {chunk: word, interval: 2ms}}
    - when: {api: workspace}
      reply:
        - {inline: true, text: "v%d {{ Name }}"}
        - {after: 20ms, text: "{{ Sentence }}"}
`, v, v)
	}
	write("default.yaml", scenario(0))

	srv := startChild(t, dir)
	defer srv.stop(t)
	ts := struct{ URL string }{srv.url}
	baseline := srv.goroutines(t)

	ctx, cancel := context.WithTimeout(context.Background(), *soakFor)
	defer cancel()
	var sent, unexpected, sseSessions, reloads atomic.Int64
	var why sync.Map // what the unexpected answers were
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
	traffic := func(path, body string, want int) {
		defer wg.Done()
		for ctx.Err() == nil {
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer k")
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			sent.Add(1)
			if err != nil {
				unexpected.Add(1)
				why.Store(path+": "+err.Error(), true)
				continue
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				unexpected.Add(1)
				why.Store(fmt.Sprintf("%s: %d %.200s", path, res.StatusCode, b), true)
			}
		}
	}
	for i := 0; i < 3; i++ {
		wg.Add(2)
		go traffic("/v1/messages", `{"conversation_id":"con_soak001","sender_id":"u","sender_type":"user","text":"soak"}`, 200)
		go traffic("/api/v1/messages", `{"content":{"content":"soak","sender_id":"u"},"conversation_id":"conv_0000000000000001"}`, 201)
	}
	wg.Add(1)
	go traffic("/v1/messages", `{"sender_id":"u","sender_type":"user","text":"a new conversation each time"}`, 200)

	// Sessions beyond the limit, each used for a burst of sends with
	// bodies of up to 4 KiB; every acknowledged message is remembered.
	type ack struct{ session, conv, id string }
	var ackMu sync.Mutex
	var acks []ack
	var goneAtOnce atomic.Int64
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for n := 0; ctx.Err() == nil; n++ {
				session := fmt.Sprintf("soak-%d", rng.IntN(3*soakSessions))
				conv := ""
				for i := 0; i < 20 && ctx.Err() == nil; i++ {
					body := fmt.Sprintf(`{"sender_id":"u","sender_type":"agent","text":"%s"}`, strings.Repeat("s", 1+rng.IntN(4<<10)))
					if conv != "" {
						body = fmt.Sprintf(`{"conversation_id":%q,"sender_id":"u","sender_type":"agent","text":"%s"}`, conv, strings.Repeat("s", 1+rng.IntN(4<<10)))
					}
					req, _ := http.NewRequest("POST", ts.URL+"/v1/messages", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer k")
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Mock-Session", session)
					res, err := client.Do(req)
					sent.Add(1)
					if err != nil {
						unexpected.Add(1)
						continue
					}
					var out struct {
						Data struct {
							ConversationID string `json:"conversation_id"`
							Message        struct{ ID string }
						}
					}
					err = json.NewDecoder(res.Body).Decode(&out)
					res.Body.Close()
					if res.StatusCode == 404 && conv != "" {
						goneAtOnce.Add(1) // the session was evicted between two sends: counted, below
						conv = ""
						continue
					}
					if res.StatusCode != 200 || err != nil {
						unexpected.Add(1)
						why.Store(fmt.Sprintf("session send: %d %v", res.StatusCode, err), true)
						continue
					}
					conv = out.Data.ConversationID
					ackMu.Lock()
					acks = append(acks, ack{session, conv, out.Data.Message.ID})
					ackMu.Unlock()
				}
			}
		}(g)
	}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := "/v1/events/stream?access_token=k"
			if i%2 == 1 {
				path = "/api/v1/events/stream?access_token=k"
			}
			for ctx.Err() == nil {
				sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
				req, _ := http.NewRequestWithContext(sctx, "GET", ts.URL+path, nil)
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					sc := bufio.NewScanner(res.Body)
					for n := 0; n < 20 && sc.Scan(); n++ {
					}
					res.Body.Close()
					sseSessions.Add(1)
				}
				scancel()
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for v := 1; ; v++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				write("default.yaml", scenario(v))
				reloads.Add(1)
			}
		}
	}()

	var warmHeap atomic.Int64
	go func() {
		time.Sleep(*soakFor / 4)
		warmHeap.Store(srv.heap(t))
	}()
	go func() { // where the memory is, every 5 s
		for ctx.Err() == nil {
			time.Sleep(5 * time.Second)
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
			var parts []string
			for _, line := range strings.Split(string(b), "\n") {
				for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile"} {
					if strings.HasPrefix(line, k+":") {
						parts = append(parts, strings.Join(strings.Fields(line), " "))
					}
				}
			}
			t.Logf("memory: %s; heap %.1f MiB", strings.Join(parts, ", "), float64(srv.heap(t))/(1<<20))
		}
	}()
	wg.Wait()
	client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()

	// Drain: every scheduled reply and webhook lands, then shut down.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(ts.URL + "/__mock/status")
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Scheduled int }
		_ = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if st.Scheduled == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // queued webhook POSTs finish

	// Every acknowledged message is still readable, or was evicted by a
	// documented limit and counted.
	missing := 0
	byConv := map[[2]string][]string{}
	for _, a := range acks {
		k := [2]string{a.session, a.conv}
		byConv[k] = append(byConv[k], a.id)
	}
	for k, ids := range byConv {
		req, _ := http.NewRequest("GET", ts.URL+"/v1/conversations/"+k[1]+"/messages?limit=1000", nil)
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("X-Mock-Session", k[0])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, id := range ids {
			if res.StatusCode != 200 || !strings.Contains(string(body), `"id":"`+id+`"`) {
				missing++
			}
		}
	}
	var final struct {
		Memory  struct{ Bytes, Budget int64 }
		Evicted struct{ Sessions, Messages int64 }
	}
	if res, err := http.Get(ts.URL + "/__mock/status"); err == nil {
		_ = json.NewDecoder(res.Body).Decode(&final)
		res.Body.Close()
	}
	lost := int64(missing) - final.Evicted.Messages
	endHeap := srv.heap(t)
	peak := srv.peakRSS(t)
	client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	receiver.CloseClientConnections()
	after := srv.goroutines(t)
	for i := 0; i < 100 && after > baseline+2; i++ { // connections closing take a moment
		time.Sleep(50 * time.Millisecond)
		http.DefaultClient.CloseIdleConnections()
		after = srv.goroutines(t)
	}
	t.Logf("soak %s: %d requests (%.0f/s), %d unexpected, %d SSE sessions, %d webhook deliveries, %d reloads (generation %v)",
		*soakFor, sent.Load(), float64(sent.Load())/soakFor.Seconds(), unexpected.Load(), sseSessions.Load(), hooks.Load(), reloads.Load(), srv.status(t)["generation"])
	t.Logf("server goroutines %d at start, %d once idle; heap in use %.1f MiB after warm-up, %.1f MiB at the end",
		baseline, after, float64(warmHeap.Load())/(1<<20), float64(endHeap)/(1<<20))
	t.Logf("%d messages acknowledged in %d conversations of %d sessions (limit %d): %d no longer readable, %d evictions counted (%d sessions), %d conversations gone between two sends of a burst: lost %d",
		len(acks), len(byConv), 3*soakSessions, soakSessions, missing, final.Evicted.Messages, final.Evicted.Sessions, goneAtOnce.Load(), max(lost, 0))
	t.Logf("memory counted at the end %.1f MiB (budget %.1f MiB); peak RSS (VmHWM) %.1f MiB, budget + 20 MiB = %.1f MiB",
		float64(final.Memory.Bytes)/(1<<20), float64(soakBudget)/(1<<20), float64(peak)/(1<<20), float64(soakBudget+20<<20)/(1<<20))
	if lost > 0 {
		t.Errorf("%d acknowledged messages lost: %d not readable, only %d evictions counted", lost, missing, final.Evicted.Messages)
	}
	if final.Memory.Bytes > soakBudget {
		t.Errorf("%d bytes counted at the end, over the %d budget", final.Memory.Bytes, soakBudget)
	}
	if peak > soakBudget+20<<20 {
		t.Errorf("peak RSS %d bytes, over the budget plus 20 MiB", peak)
	}
	if unexpected.Load() != 0 {
		why.Range(func(k, _ any) bool { t.Log("unexpected:", k); return true })
		t.Errorf("%d requests got an unexpected answer or none", unexpected.Load())
	}
	if after > baseline+2 {
		t.Errorf("server goroutines: %d at start, %d once idle", baseline, after)
	}
	if w := warmHeap.Load(); w > 0 && endHeap > 2*w+(32<<20) {
		t.Errorf("heap grew: %d after warm-up, %d at the end", w, endHeap)
	}
	if hooks.Load() == 0 || sseSessions.Load() == 0 || reloads.Load() == 0 {
		t.Errorf("a part of the soak did nothing")
	}
}

// child is a msgmock binary running in its own process, so that its memory
// is measured alone.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

func startChild(t *testing.T, fixtures string) *child {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(t.TempDir(), "msgmock")
	build := exec.Command("go", "build", "-o", bin, "./cmd/msgmock")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := &child{cmd: exec.Command(bin, "--addr", "127.0.0.1:0", "--fixtures", fixtures, "--log-format", "json"), done: make(chan error, 1)}
	stdout, _ := c.cmd.StdoutPipe()
	c.cmd.Stderr = io.Discard
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v", err)
	}
	m := listenLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start line %q", line)
	}
	c.url = m[1]
	go io.Copy(io.Discard, stdout)
	waitHealthy(t, c.url)
	return c
}

func (c *child) status(t *testing.T) map[string]any {
	res, err := http.Get(c.url + "/__mock/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st map[string]any
	_ = json.NewDecoder(res.Body).Decode(&st)
	return st
}

func (c *child) goroutines(t *testing.T) int {
	return int(c.status(t)["runtime"].(map[string]any)["goroutines"].(float64))
}

func (c *child) heap(t *testing.T) int64 {
	return int64(c.status(t)["runtime"].(map[string]any)["heap_bytes"].(float64))
}

// peakRSS is the child's VmHWM, in bytes.
func (c *child) peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Skip("no /proc: peak RSS not measured")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (c *child) stop(t *testing.T) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		t.Error("no exit after SIGTERM")
	}
}
