package mocktest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/mocktest"
)

// A test starts msgmock, sends what the code under test would send, and
// asserts on what msgmock received.
func Example() {
	mm, err := mocktest.Start(
		mocktest.WithSeed(42),
		mocktest.WithNow(time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC)),
	)
	if err != nil {
		panic(err)
	}
	defer mm.Close()

	req, _ := http.NewRequest("POST", mm.URL+"/v1/messages", strings.NewReader(
		`{"conversation_id":"con_9s2kd81","sender_id":"usr_82hd92","sender_type":"user","text":"Hi"}`))
	req.Header.Set("Authorization", "Bearer sk_test_51_fakeapikey123456")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	reqs, _ := mm.Journal("/v1/messages")
	fmt.Println(len(reqs), reqs[0].Method, reqs[0].Status)
	// Output:
	// 200 {"status":"success","message":"Message sent successfully.","data":{"conversation_id":"con_9s2kd81","message":{"id":"msg_61rv0q","sender_id":"usr_82hd92","sender_type":"user","text":"Hi","created_at":"2026-03-15T14:22:11Z"},"auto_reply_enqueued":true}}
	// 1 POST 200
}
