//go:build soak

package scenarios_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/msgmock/msgmock/scenarios"
)

// smallScenario is what a test typically PUTs at /__mock/scenarios/NAME:
// a few rules, a regex, a fast template and one text/template needs.
const smallScenario = `description: refunds fail once, then the bot answers
rules:
  - name: refund-fails
    when: {api: conversations, text: {regex: "(?i)refund|chargeback"}, headers: {X-Tenant: acme}}
    times: 1
    respond: {status: 503, latency: 120ms}
  - name: answer
    when: {text: {contains: refund}}
    reply:
      after: {min: 50ms, max: 200ms}
      text: "Hi {{ .Request.SenderID }}, {{ Name }} here. {{ Sentence }}"
  - name: echo
    reply: {text: "{{ if .Request.Metadata.vip }}VIP {{ end }}{{ .Request.Text | ToUpper }}", metadata: {source: mock}}
`

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestParseScenarioHeap (go test -tags soak -run TestParseScenarioHeap
// ./scenarios/ -v) holds 2,000 scenarios parsed as the admin API parses
// them and reports the heap each costs against its Cost, and what a
// template worker costs (shared by every scenario, bounded in number).
func TestParseScenarioHeap(t *testing.T) {
	const n = 2000
	warm, err := scenarios.ParseScenario("warm", []byte(smallScenario))
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	held := make([]*scenarios.Scenario, n)
	for i := range held {
		if held[i], err = scenarios.ParseScenario(fmt.Sprintf("s%04d", i), []byte(smallScenario)); err != nil {
			t.Fatal(err)
		}
	}
	after := heapInUse()
	perScenario := float64(after-before) / n
	cost := held[0].Cost()
	t.Logf("%d scenarios: heap %.1f MiB in all, %.0f bytes each; Cost() says %d (%.0f%%)",
		n, float64(after-before)/(1<<20), perScenario, cost, 100*float64(cost)/perScenario)

	// Workers: render the text/template reply from many goroutines at once.
	slow := warm.Rules[2].Replies[0].Text
	before = heapInUse()
	var wg sync.WaitGroup
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := slow.RenderSeeded(context.Background(), uint64(i), 1, scenarios.RequestData{Text: "refund"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	workers := heapInUse() - before
	t.Logf("template workers made by 64 concurrent renderers: %.1f KiB in all (at most max(8, 4×GOMAXPROCS=%d) workers)", float64(workers)/1024, 4*runtime.GOMAXPROCS(0))
	runtime.KeepAlive(held)

	if perScenario > 32<<10 {
		t.Errorf("a small scenario holds %.0f bytes of heap", perScenario)
	}
	if c := float64(cost); c < perScenario/2 || c > 2*perScenario {
		t.Errorf("Cost() = %d, the heap says %.0f: not within a factor of two", cost, perScenario)
	}
}
