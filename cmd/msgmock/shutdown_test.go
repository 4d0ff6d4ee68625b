package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGracefulShutdownUnderLoad: requests in flight when shutdown starts
// get their answers; open event streams end cleanly; run returns nil.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	inTempDir(t)
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "slow.yaml"), []byte("scenario:\n  name: slow\n  rules:\n    - respond: {latency: 800ms}\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("conversations:\n  - id: con_a\n"), 0o644)
	r := start(t, nil, "--fixtures", dir)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	// Three open streams.
	var streams sync.WaitGroup
	streamErrs := make(chan error, 3)
	opened := make(chan struct{}, 3)
	for i := 0; i < 3; i++ {
		streams.Add(1)
		go func() {
			defer streams.Done()
			res, err := client.Get(r.url + "/v1/events/stream?access_token=k")
			if err != nil {
				streamErrs <- err
				return
			}
			defer res.Body.Close()
			opened <- struct{}{}
			_, err = io.Copy(io.Discard, bufio.NewReader(res.Body))
			streamErrs <- err // nil: the stream ended with a clean end of body
		}()
	}
	for i := 0; i < 3; i++ {
		<-opened
	}
	// Twenty slow requests in flight.
	var inflight sync.WaitGroup
	statuses := make(chan int, 20)
	for i := 0; i < 20; i++ {
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			req, _ := http.NewRequest("POST", r.url+"/v1/messages", strings.NewReader(`{"conversation_id":"con_a","sender_id":"u","sender_type":"user","text":"t"}`))
			req.Header.Set("Authorization", "Bearer k")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Mock-Scenario", "slow")
			res, err := client.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	time.Sleep(300 * time.Millisecond) // well inside the 800ms latency: all are in flight
	if err := r.stop(); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	inflight.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("an in-flight request got %d during shutdown, want 200", s)
		}
	}
	streams.Wait()
	close(streamErrs)
	for err := range streamErrs {
		if err != nil && !errors.Is(err, io.EOF) {
			t.Errorf("a stream ended badly: %v", err)
		}
	}
}
