package mock_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/scenarios"
)

// BenchmarkReloadLatency measures the time from writing a fixtures file to
// the new behaviour being served over HTTP, over 50 edits of one scenario
// in a directory of 500 files. Run with -benchtime=1x.
func BenchmarkReloadLatency(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 499; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("team%02d", i%20))
		_ = os.MkdirAll(sub, 0o755)
		body := fmt.Sprintf("# filler %d\nscenario:\n  name: filler-%d\n  rules:\n    - when: {text: {contains: \"needle %d\"}}\n      reply: {after: 1s, text: \"{{ Sentence }}\"}\n    - respond: {status: 503}\n", i, i, i)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("s%03d.yaml", i)), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	target := filepath.Join(dir, "target.yaml")
	edit := func(v int) {
		body := fmt.Sprintf("scenario:\n  name: target\n  rules:\n    - respond: {status: 202, body: {v: %d}}\n", v)
		if err := os.WriteFile(target, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	edit(0)
	store, err := scenarios.NewFSStore(dir, os.DirFS(dir), dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = scenarios.Watch(ctx, store, dir, scenarios.WatchOptions{}) }()
	m := mock.NewServer(context.Background(), mock.Options{Fixtures: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer m.Close()
	ts := startHTTP(m)
	defer ts.Close()
	time.Sleep(100 * time.Millisecond) // let the watcher register the tree

	served := func(v int) bool {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/messages", strings.NewReader(`{"sender_id":"u","sender_type":"user","text":"x"}`))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mock-Scenario", "target")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return string(body) == fmt.Sprintf(`{"v":%d}`, v)
	}
	var lat []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 1; i <= 50; i++ {
			v := n*100 + i
			start := time.Now()
			edit(v)
			for !served(v) {
				if time.Since(start) > 10*time.Second {
					b.Fatalf("edit %d never served", v)
				}
				time.Sleep(200 * time.Microsecond)
			}
			lat = append(lat, time.Since(start))
			time.Sleep(30 * time.Millisecond) // separate the edits
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(store.Current().Files)), "files")
}
