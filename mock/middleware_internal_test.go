package mock

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/msgmock/msgmock/fixtures"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPanicBecomesNative500: whatever panics inside a handler, the client
// gets its API's own 500 and the log gets a line with the panic.
func TestPanicBecomesNative500(t *testing.T) {
	store, err := scenarios.NewFSStore("built-in", fixtures.FS, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	s := NewServer(context.Background(), Options{Fixtures: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer s.Close()
	boom := func(*wire.Exchange, *http.Request) *wire.Problem { panic("boom") }
	tests := []struct {
		sf   *surface
		want string
	}{
		{conversationsSurface, `{"status":"error","message":"Failed to enqueue message. Please retry.","data":null}`},
		{workspaceSurface, `{"detail":"Internal Server Error"}`},
		{adminSurface, `{"error":"internal error; see the server log"}`},
	}
	for _, tt := range tests {
		// The handler panics after routing has marked its surface, as a
		// real handler would.
		ts := httptest.NewServer(s.middleware(s.surfaced(tt.sf, boom)))
		defer ts.Close()
		res, err := http.Post(ts.URL+"/any", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("%s: %v (the connection must survive a panic)", tt.want, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 500 || string(body) != tt.want {
			t.Errorf("got %d %s, want 500 %s", res.StatusCode, body, tt.want)
		}
	}
	if !strings.Contains(logs.String(), "panic=boom") {
		t.Errorf("no log line for the panic: %s", logs.String())
	}
}
