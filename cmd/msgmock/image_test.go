package main

import (
	"bufio"
	"debug/elf"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStaticBinaryFromEmptyDir builds the binary as the Dockerfile does
// (CGO_ENABLED=0, -trimpath) and runs it as the image runs it: from an
// empty working directory, with MSGMOCK_ADDR set, serving the built-in
// fixtures. (No Docker engine is needed; TestDockerImage uses one if any.)
func TestStaticBinaryFromEmptyDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(t.TempDir(), "msgmock")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", bin, "./cmd/msgmock")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("the binary needs a dynamic loader; FROM scratch could not run it")
		}
	}
	f.Close()

	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // empty: no ./fixtures
	cmd.Env = []string{"MSGMOCK_ADDR=127.0.0.1:0"}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v", err)
	}
	m := regexp.MustCompile(`^msgmock test listening on (http://127\.0\.0\.1:\d+) \(fixtures: built-in; \d+ files, \d+ scenarios, \d+ conversations\)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start line %q", line)
	}
	go io.Copy(io.Discard, stdout)
	waitHealthy(t, m[1])
	// The image's HEALTHCHECK: `msgmock health` with the container's MSGMOCK_ADDR.
	hc := exec.Command(bin, "health")
	hc.Env = []string{"MSGMOCK_ADDR=0.0.0.0:" + m[1][strings.LastIndex(m[1], ":")+1:]}
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("msgmock health, as the HEALTHCHECK runs it: %v\n%s", err, out)
	}
	status, body := post(t, m[1]+"/v1/messages", `{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"from the image"}`,
		"Authorization: Bearer sk_test_51_fakeapikey123456", "Content-Type: application/json")
	if status != 200 || !strings.Contains(string(body), `"auto_reply_enqueued":true`) {
		t.Fatalf("%d %s", status, body)
	}
	http.DefaultClient.CloseIdleConnections()
	// docker stop sends SIGTERM: a graceful exit 0.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// TestDockerImage builds and runs the image where a Docker engine answers.
func TestDockerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine on this machine (the static binary is checked by TestStaticBinaryFromEmptyDir)")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if out, err := exec.Command("docker", "build", "-t", "msgmock:test", root).CombinedOutput(); err != nil {
		if offline.Match(out) {
			// An engine that cannot reach a registry cannot pull the base
			// images: that says nothing about msgmock's Dockerfile.
			t.Skipf("docker build cannot fetch the base images here (offline?): %s", lastLine(out))
		}
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	out, err := exec.Command("docker", "run", "-d", "--rm", "-p", "127.0.0.1::8080", "msgmock:test").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "stop", id).Run()
	port, err := exec.Command("docker", "port", id, "8080").Output()
	if err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, "http://"+strings.TrimSpace(strings.Split(string(port), "\n")[0]))
}

// offline matches what docker build prints when it cannot reach a registry.
var offline = regexp.MustCompile(`(?i)(failed to resolve source metadata|pull access denied|failed to do request|dial tcp|no such host|i/o timeout|TLS handshake timeout|connection refused|network is unreachable|temporary failure in name resolution|failed to fetch oauth token|error getting credentials)`)

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
