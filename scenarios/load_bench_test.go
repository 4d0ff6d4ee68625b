package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/msgmock/msgmock/scenarios"
)

// BenchmarkLoad500 loads a fixtures directory of 500 scenario files.
func BenchmarkLoad500(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 500; i++ {
		body := fmt.Sprintf("# filler %d\nscenario:\n  name: filler-%d\n  rules:\n    - when: {text: {contains: \"needle %d\"}}\n      reply: {after: 1s, text: \"{{ Sentence }}\"}\n    - respond: {status: 503}\n", i, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%03d.yaml", i)), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := scenarios.Load(fsys, ""); err != nil {
			b.Fatal(err)
		}
	}
}
