package mock_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkReplayHeld is what an event stream holds while its client does
// not read: 16 streams replay 256 events of 3,000 control characters each
// (~18 KB once JSON-escaped) to clients that never read, and the heap
// they add is reported per stream (held-B/stream). A stream writes what
// it encoded every 64 KiB, so it holds about that plus one event — not a
// batch of 256 events (4.6 MB here), as it did before (red-team finding
// 3). Run it alone: go test -run XXX -bench BenchmarkReplayHeld -benchtime 1x ./mock
func BenchmarkReplayHeld(b *testing.B) {
	ts := startServer(b, mapFS(map[string]string{"default.yaml": "scenario: {name: default, rules: []}\n"}))
	body, _ := json.Marshal(map[string]any{"sender_id": "usr_a", "sender_type": "user", "text": strings.Repeat("\x01\x02", 1500)})
	for i := 0; i < 256; i++ {
		if res := ts.sendConversations(b, string(body), "X-Mock-Session: held"); res.Status != http.StatusOK {
			b.Fatalf("send: %d %s", res.Status, res.Body)
		}
	}
	const streams = 16
	var held float64
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		conns := make([]net.Conn, streams)
		for j := range conns {
			c, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096) // a small window: the server's writes block soon
			}
			fmt.Fprintf(c, "GET /v1/events/stream?access_token=k&session=held HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: evt_unknown\r\n\r\n")
			conns[j] = c
		}
		time.Sleep(time.Second) // the streams encode and block on their first writes
		held += float64(heapInUse()-before) / streams
		for _, c := range conns {
			c.Close()
		}
	}
	b.ReportMetric(held/float64(b.N), "held-B/stream")
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
