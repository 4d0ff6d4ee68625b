package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestRenderConcurrently: renderings share no lock and no random source,
// so many at once give each exactly what it gives alone; a template parsed
// after workers exist renders too.
func TestRenderConcurrently(t *testing.T) {
	tmpl, err := parseTemplate("{{ Sentence 6 }} {{ Number 1 1000000 }} {{ .Request.Text }}")
	if err != nil {
		t.Fatal(err)
	}
	render := func(tm *Template, seed uint64) string {
		out, err := tm.Render(context.Background(), rand.NewPCG(seed, seed), RequestData{Text: fmt.Sprint(seed)})
		if err != nil {
			t.Error(err)
		}
		return out
	}
	want := make([]string, 64)
	for i := range want {
		want[i] = render(tmpl, uint64(i))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range want {
				if got := render(tmpl, uint64(i)); got != want[i] {
					t.Errorf("seed %d: got %q, want %q", i, got, want[i])
				}
			}
		}()
	}
	wg.Wait()
	later, err := parseTemplate("{{ Word }}!")
	if err != nil {
		t.Fatal(err)
	}
	if got := render(later, 1); len(got) < 2 || got[len(got)-1] != '!' {
		t.Errorf("a template parsed after the workers were made rendered %q", got)
	}
}
