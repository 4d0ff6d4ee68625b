package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures the time from starting the msgmock process to
// its first 200 from /__mock/health, with the built-in fixtures.
func BenchmarkStartup(b *testing.B) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	bin := filepath.Join(b.TempDir(), "msgmock")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/msgmock")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	empty := b.TempDir()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--watch=false")
		cmd.Dir = empty
		out, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		url := strings.Fields(line[strings.Index(line, "http://"):])[0]
		for {
			res, err := client.Get(url + "/__mock/health")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		b.StartTimer()
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
