package record_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/record"
	"github.com/msgmock/msgmock/mock/upstream"
	"github.com/msgmock/msgmock/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeClock is the time the upstream's pace is measured on: the upstream
// moves it before each answer and frame, so what is recorded is exact.
type fakeClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

var start = time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)

// frames the upstream streams, each after its wait: the user's message,
// four deltas of a reply, the reply.
var upstreamFrames = []struct {
	wait        time.Duration
	event, data string
}{
	{0, "message.created", `{"id":"evt_u1","type":"message.created","created_at":"2026-03-15T14:22:11Z","data":{"conversation_id":"con_rec0001","message":{"id":"msg_user01","sender_id":"u","sender_type":"user","text":"hi","created_at":"2026-03-15T14:22:11Z"}}}`},
	{700 * time.Millisecond, "message.delta", `{"id":"evt_d1","type":"message.delta","created_at":"2026-03-15T14:22:11Z","data":{"conversation_id":"con_rec0001","message_id":"msg_repl01","delta":"Hello "}}`},
	{40 * time.Millisecond, "message.delta", `{"id":"evt_d2","type":"message.delta","created_at":"2026-03-15T14:22:11Z","data":{"conversation_id":"con_rec0001","message_id":"msg_repl01","delta":"there, "}}`},
	{50 * time.Millisecond, "message.delta", `{"id":"evt_d3","type":"message.delta","created_at":"2026-03-15T14:22:11Z","data":{"conversation_id":"con_rec0001","message_id":"msg_repl01","delta":"dear "}}`},
	{60 * time.Millisecond, "message.delta", `{"id":"evt_d4","type":"message.delta","created_at":"2026-03-15T14:22:12Z","data":{"conversation_id":"con_rec0001","message_id":"msg_repl01","delta":"friend."}}`},
	{50 * time.Millisecond, "message.created", `{"id":"evt_r1","type":"message.created","created_at":"2026-03-15T14:22:12Z","data":{"conversation_id":"con_rec0001","message":{"id":"msg_repl01","sender_id":"agt_assistant","sender_type":"agent","text":"Hello there, dear friend.","reply_to_message_id":"msg_user01","created_at":"2026-03-15T14:22:12Z"}}}`},
}

// TestRecordKeepsThePaceAndReplaysIt: the recorder writes how long the
// upstream took to answer and how it streamed its reply (first token,
// gaps, chunk sizes), and msgmock serving the recording with --speed 2
// streams a reply at half those waits, on the virtual clock.
func TestRecordKeepsThePaceAndReplaysIt(t *testing.T) {
	clk := &fakeClock{at: start}
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/messages":
			clk.advance(250 * time.Millisecond)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"success","message":"Message sent successfully.","data":{"conversation_id":"con_rec0001","message":{"id":"msg_user01","sender_id":"u","sender_type":"user","text":"hi","created_at":"2026-03-15T14:22:11Z"},"auto_reply_enqueued":true}}`)
		case r.URL.Path == "/v1/events/stream":
			clk.advance(20 * time.Millisecond)
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			for _, f := range upstreamFrames {
				<-next // the client has read the frame before
				clk.advance(f.wait)
				fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", strings.Split(f.data, `"`)[3], f.event, f.data)
				w.(http.Flusher).Flush()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer up.Close()
	client, err := upstream.New(up.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rec, err := record.New(client, dir, record.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	req, _ := http.NewRequest("POST", proxy.URL+"/v1/messages", strings.NewReader(`{"sender_id":"u","sender_type":"user","text":"hi"}`))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("send through the recorder: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	res, err := http.Get(proxy.URL + "/v1/events/stream?access_token=k")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	for range upstreamFrames {
		next <- struct{}{}
		for sc.Scan() && sc.Text() != "" {
		}
	}
	res.Body.Close()
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(filepath.Join(dir, record.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	written = []byte(strings.ReplaceAll(string(written), up.URL, "http://upstream.test"))
	golden := filepath.Join("testdata", "recorded-pace.golden.yaml")
	if *update {
		_ = os.MkdirAll("testdata", 0o755)
		_ = os.WriteFile(golden, written, 0o644)
	}
	if want, _ := os.ReadFile(golden); string(written) != string(want) {
		t.Errorf("%s differs from %s:\n%s", record.ScenarioFile, golden, written)
	}

	// Replayed twice as fast.
	store, err := scenarios.NewFSStore(dir, os.DirFS(dir), dir, nil)
	if err != nil {
		t.Fatalf("the recording does not load: %v", err)
	}
	srv := mock.NewServer(context.Background(), mock.Options{Fixtures: store, Clock: clock.NewVirtual(start), Seed: 1, Scenario: record.ScenarioName, Speed: 2})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	call := func(method, path, body string) []byte {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return b
	}
	var st struct {
		Waiting   int `json:"waiting"`
		Scheduler struct {
			Pending int `json:"pending"`
		} `json:"scheduler"`
	}
	status := func() {
		_ = json.Unmarshal(call("GET", "/__mock/status", ""), &st)
	}
	sent := make(chan []byte, 1)
	go func() { sent <- call("POST", "/v1/messages", `{"sender_id":"u","sender_type":"user","text":"again"}`) }()
	for deadline := time.Now().Add(10 * time.Second); st.Waiting != 1; status() {
		if time.Now().After(deadline) {
			t.Fatal("the send never waited out its recorded latency")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The reply: some deltas and its message, all pending; the first at
	// half the recorded 700ms, after the send's half of 250ms.
	status()
	pending := st.Scheduler.Pending
	advance := func(d string) { call("POST", "/__mock/clock", `{"advance":"`+d+`"}`) }
	advance("125ms")
	if b := <-sent; !strings.Contains(string(b), `"auto_reply_enqueued":true`) {
		t.Fatalf("the send: %s", b)
	}
	advance("224ms")
	if status(); st.Scheduler.Pending != pending {
		t.Fatalf("a delta came before half the first token: %d of %d pending", st.Scheduler.Pending, pending)
	}
	advance("1ms")
	if status(); st.Scheduler.Pending != pending-1 {
		t.Fatalf("the first delta did not come at half the first token (350ms): %d of %d pending", st.Scheduler.Pending, pending)
	}
}
