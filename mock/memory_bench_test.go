package mock_test

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
)

var millionCount = flag.Int("messages", 1_000_000, "how many messages BenchmarkMemoryMillion sends")

// BenchmarkMemoryMillion sends 1,000,000 messages through the default path
// (the built-in fixtures, every message answered by a scheduled AI reply),
// half into con_9s2kd81 and half each starting a new conversation, and
// reports the peak and final live heap. Retention is what keeps them
// bounded. Run with -benchtime=1x; it takes a minute or two.
func BenchmarkMemoryMillion(b *testing.B) {
	ts := startServer(b, nil, func(o *mock.Options) { o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	bodies := []string{
		benchConversationsBody,
		`{"sender_id":"usr_82hd92","sender_type":"user","text":"A new conversation, please."}`,
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	total := int64(*millionCount)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				status, err := roundTrip(client, "POST", ts.URL+"/v1/messages", bodies[i%2], map[string]string{"Authorization": "Bearer k", "Content-Type": "application/json"})
				if err != nil || status != 200 {
					b.Errorf("StatusCode=%d, err=%v", status, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	client.CloseIdleConnections()
	// Let the replies still scheduled land, then measure what stays.
	time.Sleep(2500 * time.Millisecond)
	close(stop)
	sampler.Wait()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "final-heap-MiB")
	fmt.Fprintf(io.Discard, "%d", ms.NumGC)
}

// BenchmarkMemoryRoundRobin is the worst case for per-conversation limits:
// 400,000 messages spread over 1,000 conversations, so every conversation
// grows instead of being evicted. The server-wide message budget bounds
// the heap. Run with -benchtime=1x.
func BenchmarkMemoryRoundRobin(b *testing.B) {
	var convs strings.Builder
	convs.WriteString("conversations:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&convs, "  - id: con_rr%05d\n", i)
	}
	ts := startServer(b, mapFS(map[string]string{"c.yaml": convs.String()}), func(o *mock.Options) { o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var next atomic.Int64
	var wg sync.WaitGroup
	const total = 400_000
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				body := fmt.Sprintf(`{"conversation_id":"con_rr%05d","sender_id":"usr_82hd92","sender_type":"agent","text":"Can you summarize my last 5 calls?","metadata":{"channel":"web"}}`, i%1000)
				if _, err := roundTrip(client, "POST", ts.URL+"/v1/messages", body, map[string]string{"Authorization": "Bearer k", "Content-Type": "application/json"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}
