//go:build soak

package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var rssLimitMiB = flag.Int("rss-limit-mib", 0, "TestSoakConnections fails past this peak RSS (0: report only)")

// TestSoakConnections (go test -tags soak -run TestSoakConnections
// ./cmd/msgmock/ -v [-args -rss-limit-mib=68]) runs msgmock in its own
// process and throws at it 20,000 idle keep-alive connections, then 1,000
// uploads of 1 MiB that stall just before their end. It checks that
// /__mock/health keeps answering and that msgmock holds no more
// connections than --max-connections (1024), and reports RSS (VmRSS, and
// the peak, VmHWM) after each phase.
func TestSoakConnections(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("conversations:\n  - id: con_soak001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startChild(t, dir)
	defer srv.stop(t)
	addr := strings.TrimPrefix(srv.url, "http://")
	mem := func(phase string) (rss, hwm int64) {
		rss, hwm = srv.procStatus(t, "VmRSS:"), srv.procStatus(t, "VmHWM:")
		t.Logf("%-42s VmRSS %6.1f MiB, VmHWM %6.1f MiB, %5d fds open in msgmock", phase, float64(rss)/(1<<20), float64(hwm)/(1<<20), srv.fds(t))
		return rss, hwm
	}
	healthy := func(when string) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for attempt := 0; ; attempt++ {
			res, err := client.Get(srv.url + "/__mock/health")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return
				}
			}
			// Past the cap with none idle, a connection is refused; an
			// idle one makes room at the next try.
			if attempt == 20 {
				t.Fatalf("%s: /__mock/health does not answer: %v", when, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	mem("at start")

	// 20,000 keep-alive connections, each used once, then left idle.
	const idleConns = 20_000
	var closedByServer, dialFailed atomic.Int64
	var readers sync.WaitGroup
	var conns []net.Conn
	for i := 0; i < idleConns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			dialFailed.Add(1)
			continue
		}
		br := bufio.NewReader(c)
		if _, err := io.WriteString(c, "GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err == nil {
			if res, err := http.ReadResponse(br, nil); err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}
		conns = append(conns, c)
		readers.Add(1)
		go func() { // frees this process's descriptor when msgmock closes its end
			defer readers.Done()
			_, _ = io.Copy(io.Discard, br)
			closedByServer.Add(1)
			c.Close()
		}()
		if i%2000 == 1999 {
			healthy(fmt.Sprintf("after %d idle connections", i+1))
		}
	}
	mem(fmt.Sprintf("%d idle connections opened", idleConns))
	if fds := srv.fds(t); fds > defaultMaxConnections+64 {
		t.Errorf("msgmock holds %d descriptors with --max-connections %d", fds, defaultMaxConnections)
	}
	t.Logf("%d closed by msgmock to make room, %d dials failed", closedByServer.Load(), dialFailed.Load())
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()

	// 1,000 uploads of 1 MiB that stall 1 KiB before their end.
	const uploads, size = 1000, 1 << 20
	body := strings.Repeat("x", size-1024)
	var stalled sync.WaitGroup
	var sent atomic.Int64
	var upConns []net.Conn
	var mu sync.Mutex
	for i := 0; i < uploads; i++ {
		stalled.Add(1)
		go func() {
			defer stalled.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			mu.Lock()
			upConns = append(upConns, c)
			mu.Unlock()
			_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			head := "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n"
			if _, err := io.WriteString(c, head+`{"sender_id":"u","sender_type":"user","text":"`+body); err == nil {
				sent.Add(1)
			}
		}()
	}
	stalled.Wait()
	healthy("with the uploads stalled")
	mem(fmt.Sprintf("%d uploads stalled (%d fully sent)", uploads, sent.Load()))
	for _, c := range upConns {
		c.Close()
	}
	time.Sleep(time.Second)
	healthy("after the uploads")
	mem("after the uploads closed")

	// 2,000 scenarios added at run time: 20 sessions of 100 each, every
	// one with a reply template (which once cost a template engine each).
	const sessions, perSession = 20, 100
	scenario := "rules:\n  - when: {text: {regex: '(?i)invoice [0-9]+'}}\n    reply: {text: 'Invoice {{ Number 1000 9999 }}: {{ Sentence 12 }}'}\n"
	added, refused := 0, 0
	for sess := 0; sess < sessions; sess++ {
		for i := 0; i < perSession; i++ {
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/__mock/scenarios/s%d", srv.url, i), strings.NewReader(scenario))
			req.Header.Set("X-Mock-Session", fmt.Sprintf("soak-%d", sess))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode == 200 {
				added++
			} else {
				refused++
			}
		}
	}
	healthy("with the scenarios added")
	mem(fmt.Sprintf("%d scenarios added at run time (%d refused)", added, refused))
	_, peak := mem("at the end")
	t.Logf("peak RSS %.1f MiB; the default budget (48 MiB) + 20 MiB = 68 MiB", float64(peak)/(1<<20))
	if *rssLimitMiB > 0 && peak > int64(*rssLimitMiB)<<20 {
		t.Errorf("peak RSS %.1f MiB, over %d MiB", float64(peak)/(1<<20), *rssLimitMiB)
	}
}

// procStatus reads one field of the child's /proc status, in bytes.
func (c *child) procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Skip("no /proc: RSS not measured")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// fds counts the child's open file descriptors.
func (c *child) fds(t *testing.T) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", c.cmd.Process.Pid))
	if err != nil {
		t.Skip("no /proc: descriptors not counted")
	}
	return len(entries)
}
