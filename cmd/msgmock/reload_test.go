package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHotReloadUnderTraffic edits the fixtures directory while requests
// keep flowing to both APIs: every change takes effect, a broken save keeps
// the last good configuration serving, and not one request fails.
func TestHotReloadUnderTraffic(t *testing.T) {
	inTempDir(t)
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("conversations.yaml", "conversations:\n  - id: con_live01\n  - {id: conv_live000000001, api: workspace}\n")
	r := start(t, nil, "--fixtures", dir)

	// Traffic: both APIs, as fast as they go, until the test ends.
	var sent, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for _, target := range []struct{ path, body string }{
		{"/v1/messages", `{"conversation_id":"con_live01","sender_id":"u","sender_type":"user","text":"traffic"}`},
		{"/api/v1/messages", `{"content":{"content":"traffic","sender_id":"u"},"conversation_id":"conv_live000000001"}`},
	} {
		target := target
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", r.url+target.path, strings.NewReader(target.body))
				req.Header.Set("Authorization", "Bearer k")
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), true)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 && res.StatusCode != 201 {
					failed.Add(1)
					failures.Store(fmt.Sprintf("%s: %d", target.path, res.StatusCode), true)
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
		if n := failed.Load(); n > 0 {
			var list []string
			failures.Range(func(k, _ any) bool { list = append(list, k.(string)); return true })
			t.Errorf("%d of %d traffic requests failed: %v", n, sent.Load(), list)
		}
		if sent.Load() < 50 {
			t.Errorf("only %d traffic requests were sent", sent.Load())
		}
	}()

	// probe answers the scenario's scripted body, or the status it got.
	probe := func(scenario string) string {
		req, _ := http.NewRequest("POST", r.url+"/v1/messages", strings.NewReader(`{"conversation_id":"con_live01","sender_id":"u","sender_type":"user","text":"probe"}`))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mock-Scenario", scenario)
		res, err := client.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode == 202 {
			return string(b)
		}
		return fmt.Sprint(res.StatusCode)
	}
	status := func() (ok bool, errs []string, gen int) {
		res, err := client.Get(r.url + "/__mock/status")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var st struct {
			Reload struct {
				OK     bool     `json:"ok"`
				Errors []string `json:"errors"`
			} `json:"reload"`
			Generation int `json:"generation"`
		}
		_ = json.NewDecoder(res.Body).Decode(&st)
		return st.Reload.OK, st.Reload.Errors, st.Generation
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		waitFor(t, what, cond)
	}
	scenario := func(name, value string) string {
		return fmt.Sprintf("# %s\nscenario:\n  name: %s\n  rules:\n    - respond: {status: 202, body: {v: %s}}\n", value, name, value)
	}

	if got := probe("alpha"); got != "400" {
		t.Fatalf("before alpha exists: %s, want 400", got)
	}
	_, _, gen0 := status()

	// 1. Add.
	write("alpha.yaml", scenario("alpha", "one"))
	until("a new scenario file is served", func() bool { return probe("alpha") == `{"v":"one"}` })

	// 2. Break: the previous configuration keeps serving, the problem shows.
	write("alpha.yaml", "scenario:\n  name: alpha\n  rules:\n    - respond: {status: 2000}\n")
	until("the broken save is reported", func() bool {
		ok, errs, _ := status()
		return !ok && len(errs) == 1 && strings.Contains(errs[0], "alpha.yaml:4:25: rules[0].respond.status")
	})
	if got := probe("alpha"); got != `{"v":"one"}` {
		t.Fatalf("after a broken save: %s, want the last good configuration", got)
	}

	// 3. Fix by rename, as editors save: write a temporary file, move it in place.
	write("alpha.yaml.tmp", scenario("alpha", "two"))
	if err := os.Rename(filepath.Join(dir, "alpha.yaml.tmp"), filepath.Join(dir, "alpha.yaml")); err != nil {
		t.Fatal(err)
	}
	until("the fixed file is served", func() bool { return probe("alpha") == `{"v":"two"}` })
	if ok, errs, gen := status(); !ok || len(errs) != 0 || gen <= gen0 {
		t.Errorf("status after the fix: ok=%v errors=%v generation=%d (started at %d)", ok, errs, gen, gen0)
	}

	// 4. Delete.
	if err := os.Remove(filepath.Join(dir, "alpha.yaml")); err != nil {
		t.Fatal(err)
	}
	until("the deleted scenario is gone", func() bool { return probe("alpha") == "400" })

	// 5. Add in a new subfolder (created after the watch started).
	write("team/qa/beta.yaml", scenario("beta", "three"))
	until("a file in a new subfolder is served", func() bool { return probe("beta") == `{"v":"three"}` })

	// 6. New fixture conversations appear; what was sent so far stays.
	write("team/more.yaml", "conversations:\n  - id: con_added1\n")
	until("a new fixture conversation appears", func() bool {
		req, _ := http.NewRequest("GET", r.url+"/v1/conversations/con_added1/messages", nil)
		req.Header.Set("Authorization", "Bearer k")
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	req, _ := http.NewRequest("GET", r.url+"/v1/conversations/con_live01/messages?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if n := strings.Count(string(body), `"text":"traffic"`); n < 10 {
		t.Errorf("con_live01 kept %d traffic messages across reloads, want them all", n)
	}

	// 7. Hazards appear in the tree: a FIFO and an alias bomb. The reload
	// reports them, returns, and the last good configuration keeps serving.
	if err := mkfifo(filepath.Join(dir, "pipe.yaml")); err == nil {
		laughs := "a: &a [x, x, x, x, x, x, x, x, x]\n"
		prev := "a"
		for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
			laughs += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
			prev = name
		}
		write("bomb.yaml", laughs+"scenario:\n  rules:\n    - {respond: {status: 500, body: *h}}\n")
		until("the hazards are reported", func() bool {
			ok, errs, _ := status()
			all := strings.Join(errs, "\n")
			return !ok && strings.Contains(all, "pipe.yaml: not a regular file") && strings.Contains(all, "bomb.yaml:")
		})
		if got := probe("beta"); got != `{"v":"three"}` {
			t.Fatalf("while the tree holds hazards: %s, want the last good configuration", got)
		}
		_ = os.Remove(filepath.Join(dir, "pipe.yaml"))
		_ = os.Remove(filepath.Join(dir, "bomb.yaml"))
		until("recovered from the hazards", func() bool { ok, _, _ := status(); return ok })
	}

	// 8. Editor leftovers are ignored: a broken swap file changes nothing.
	write(".alpha.yaml.swp", "::: not yaml")
	write("beta.yaml~", "::: not yaml")
	time.Sleep(100 * time.Millisecond)
	if ok, _, _ := status(); !ok {
		t.Errorf("an editor leftover broke the reload")
	}
}

// TestReloadResetsOnlyChangedScenarios: a rule's counter survives reloads
// of other files and restarts when its own scenario changes.
func TestReloadResetsOnlyChangedScenarios(t *testing.T) {
	inTempDir(t)
	dir := t.TempDir()
	once := "scenario:\n  name: once\n  rules:\n    - {times: 1, respond: {status: 500}}\n"
	_ = os.WriteFile(filepath.Join(dir, "once.yaml"), []byte(once), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("conversations:\n  - id: con_a\n"), 0o644)
	r := start(t, nil, "--fixtures", dir)
	send := func() int {
		status, _ := post(t, r.url+"/v1/messages", `{"sender_id":"u","sender_type":"user","text":"x"}`,
			"Authorization: Bearer k", "Content-Type: application/json", "X-Mock-Scenario: once")
		return status
	}
	generation := func() int {
		res, err := http.Get(r.url + "/__mock/status")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var st struct{ Generation int }
		_ = json.NewDecoder(res.Body).Decode(&st)
		return st.Generation
	}
	waitGen := func(want int) {
		deadline := time.Now().Add(10 * time.Second)
		for generation() < want {
			if time.Now().After(deadline) {
				t.Fatalf("generation never reached %d", want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if s := send(); s != 500 {
		t.Fatalf("first: %d, want 500", s)
	}
	if s := send(); s != 200 {
		t.Fatalf("second: %d, want 200 (times: 1)", s)
	}
	_ = os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("conversations:\n  - id: con_b\n"), 0o644)
	waitGen(2)
	if s := send(); s != 200 {
		t.Errorf("after another file changed: %d, want 200 (counter kept)", s)
	}
	// Saving a file unchanged publishes nothing: only the next real change counts.
	_ = os.WriteFile(filepath.Join(dir, "once.yaml"), []byte(once), 0o644)
	time.Sleep(100 * time.Millisecond)
	_ = os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("conversations:\n  - id: con_c\n"), 0o644)
	waitGen(3)
	if g := generation(); g != 3 {
		t.Errorf("generation %d after an unchanged save and one change, want 3", g)
	}
	if s := send(); s != 200 {
		t.Errorf("after an unchanged save: %d, want 200 (counter kept)", s)
	}
	_ = os.WriteFile(filepath.Join(dir, "once.yaml"), []byte(once+"# edited\n    - {respond: {status: 201}}\n"), 0o644)
	waitGen(4)
	if s := send(); s != 500 {
		t.Errorf("after its own file changed: %d, want 500 (counter restarted)", s)
	}
}
