package mock_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/msgmock/msgmock/mock"
	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/scenarios"
)

// BenchmarkVerify10000 is one POST /__mock/verify over a journal of
// 10,000 requests (testdata/verify keeps that many): a count that holds
// (100 matches, read from each entry's body and masked key), and one that
// fails, which also ranks every other request to name the closest.
func BenchmarkVerify10000(b *testing.B) {
	store, err := scenarios.NewFSStore("verify", os.DirFS("testdata/verify"), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	now := frozenNow
	s := mock.NewServer(context.Background(), mock.Options{Fixtures: store, Clock: clock.New(&now), Seed: 1, Scenario: "billing",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	serve := func(method, path, body string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		req.Host = "127.0.0.1"
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for i := 0; i < 10000; i++ {
		var w *httptest.ResponseRecorder
		if i%2 == 0 {
			text := fmt.Sprintf("question %d", i)
			if i%100 == 0 {
				text = fmt.Sprintf("invoice %d", i)
			}
			w = serve("POST", "/v1/messages", `{"sender_id":"usr_a","sender_type":"user","text":"`+text+`","metadata":{"channel":"sms"}}`,
				"Authorization: Bearer "+seedKey, "Content-Type: application/json", "X-Trace: t")
		} else {
			w = serve("POST", "/api/v1/messages", fmt.Sprintf(`{"content":{"content":"note %d","sender_id":"usr_w"}}`, i),
				"Authorization: Bearer "+seedKey, "Content-Type: application/json")
		}
		if w.Code >= 300 {
			b.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := serve("POST", "/__mock/verify", `{"request":{},"count":{"exactly":10000}}`); w.Code != 200 {
		b.Fatalf("the journal does not hold 10,000 requests: %d %s", w.Code, w.Body)
	}
	pattern := `{"api":"conversations","method":"POST","headers":{"Authorization":"Bearer ` + seedKey + `"},"when":{"text":{"prefix":"invoice"},"sender_id":"usr_a"}}`
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"holds", `{"request":` + pattern + `,"count":{"exactly":100}}`, http.StatusOK},
		{"fails", `{"request":` + pattern + `,"count":{"exactly":101}}`, http.StatusUnprocessableEntity},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w := serve("POST", "/__mock/verify", c.body); w.Code != c.status {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
