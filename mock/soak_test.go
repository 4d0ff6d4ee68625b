//go:build soak

package mock_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/scenarios"
)

var soakFor = flag.Duration("soak", time.Minute, "how long TestSoak runs")

// TestSoak (go test -tags soak -run TestSoak ./mock/ -args -soak=5m) runs
// traffic to both APIs, SSE clients that come and go, webhook deliveries
// and a reload every second, then checks: no unexpected 5xx, goroutines back
// to the baseline, heap flat.
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
	write("settings.yaml", fmt.Sprintf("settings:\n  webhooks:\n    - {url: %s/hooks, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [message.created]}\n", receiver.URL))
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

	runtime.GC()
	baseline := runtime.NumGoroutine()

	store, err := scenarios.NewFSStore(dir, os.DirFS(dir), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	var watchDone sync.WaitGroup
	watchDone.Add(1)
	go func() { defer watchDone.Done(); _ = scenarios.Watch(watchCtx, store, dir, scenarios.WatchOptions{}) }()
	m := mock.NewServer(context.Background(), mock.Options{Fixtures: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(m)

	ctx, cancel := context.WithTimeout(context.Background(), *soakFor)
	defer cancel()
	var sent, unexpected, sseSessions, reloads atomic.Int64
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
				continue
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				unexpected.Add(1)
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

	var warmHeap uint64
	go func() {
		time.Sleep(*soakFor / 4)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		atomic.StoreUint64(&warmHeap, ms.HeapInuse)
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
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	endHeap := ms.HeapInuse
	http.DefaultClient.CloseIdleConnections()
	ts.Close()
	m.Close()
	stopWatch()
	watchDone.Wait()
	receiver.CloseClientConnections()

	var after int
	for i := 0; i < 100; i++ {
		runtime.GC()
		if after = runtime.NumGoroutine(); after <= baseline+2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("soak %s: %d requests (%.0f/s), %d unexpected, %d SSE sessions, %d webhook deliveries, %d reloads (generation %d)",
		*soakFor, sent.Load(), float64(sent.Load())/soakFor.Seconds(), unexpected.Load(), sseSessions.Load(), hooks.Load(), reloads.Load(), store.Status().Generation)
	t.Logf("goroutines %d before, %d after; heap in use %.1f MiB after warm-up, %.1f MiB at the end",
		baseline, after, float64(atomic.LoadUint64(&warmHeap))/(1<<20), float64(endHeap)/(1<<20))
	if unexpected.Load() != 0 {
		t.Errorf("%d requests got an unexpected answer or none", unexpected.Load())
	}
	if after > baseline+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", baseline, after, buf[:runtime.Stack(buf, true)])
	}
	if w := atomic.LoadUint64(&warmHeap); w > 0 && endHeap > 2*w+(32<<20) {
		t.Errorf("heap grew: %d after warm-up, %d at the end", w, endHeap)
	}
	if hooks.Load() == 0 || sseSessions.Load() == 0 || reloads.Load() == 0 {
		t.Errorf("a part of the soak did nothing")
	}
}
