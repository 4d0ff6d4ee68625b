package verify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeAPI is a small chat API over HTTP. Two of them, making different ids
// and times, stand for the real service and msgmock; tweak makes one
// answer differently.
type fakeAPI struct {
	prefix      string    // in every id it makes: "U" or "M"
	epoch       time.Time // its clock
	allow       string    // its Allow header for a method not allowed
	contentType string    // of its JSON answers
	tweak       func(n int, a *fakeAnswer)

	mu    sync.Mutex
	seq   int
	n     int
	convs map[string][]any
	got   []string // "METHOD URI body" of each request
}

// fakeAnswer is an answer before it is written: body is JSON (decoded, so
// a tweak may change it), a string sent as text, or nil.
type fakeAnswer struct {
	status int
	header http.Header
	body   any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.got = append(f.got, strings.TrimSpace(r.Method+" "+r.RequestURI+" "+string(raw)))
	a := f.answer(r, raw)
	a.header.Set("X-Request-Id", fmt.Sprintf("req_%s%d", f.prefix, f.n)) // differs; does not matter
	if f.tweak != nil {
		f.tweak(f.n, a)
	}
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(a.status)
	switch b := a.body.(type) {
	case nil:
	case string:
		_, _ = io.WriteString(w, b)
	default:
		_ = json.NewEncoder(w).Encode(b)
	}
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *fakeAPI) id(kind string) string {
	f.seq++
	return fmt.Sprintf("%s_%s%d", kind, f.prefix, f.seq)
}

func (f *fakeAPI) answer(r *http.Request, raw []byte) *fakeAnswer {
	h := http.Header{"Content-Type": {f.contentType}}
	jsonAnswer := func(status int, body any) *fakeAnswer {
		return &fakeAnswer{status: status, header: h, body: clone(body)}
	}
	path := r.URL.Path
	switch {
	case path == "/v1/messages" && r.Method == http.MethodPost:
		var in map[string]any
		if json.Unmarshal(raw, &in) != nil {
			return jsonAnswer(400, obj{"error": obj{"type": "invalid_request", "message": "Malformed JSON"}})
		}
		cid, _ := in["conversation_id"].(string)
		if _, ok := f.convs[cid]; !ok {
			cid = f.id("con")
		}
		msg := obj{
			"id": f.id("msg"), "conversation_id": cid, "text": in["text"],
			"created_at":       f.epoch.Add(time.Duration(f.seq) * time.Second).Format(time.RFC3339Nano),
			"conversation_url": "/v1/conversations/" + cid,
		}
		if to, ok := in["reply_to"]; ok {
			msg["reply_to"] = to
		}
		f.convs[cid] = append(f.convs[cid], msg)
		h.Set("Location", "/v1/conversations/"+cid)
		return jsonAnswer(201, obj{"data": obj{"conversation_id": cid, "message": msg}})
	case path == "/v1/messages":
		h.Del("Content-Type")
		h.Set("Allow", f.allow)
		return &fakeAnswer{status: 405, header: h}
	case path == "/v1/health":
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return &fakeAnswer{status: 200, header: h, body: "ok"}
	case strings.HasPrefix(path, "/v1/conversations/") && strings.HasSuffix(path, "/messages"):
		cid := strings.TrimSuffix(strings.TrimPrefix(path, "/v1/conversations/"), "/messages")
		msgs, ok := f.convs[cid]
		if !ok {
			return jsonAnswer(404, obj{"error": obj{"type": "not_found", "message": "No such conversation: " + cid}})
		}
		return jsonAnswer(200, obj{"data": msgs, "has_more": false})
	}
	return &fakeAnswer{status: 404, header: h}
}

type obj = map[string]any

// clone is a deep copy through JSON, so a tweak never changes what the
// fake API keeps.
func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// at is the object at a dotted path of a decoded JSON body.
func at(body any, path string) obj {
	v := body
	for _, part := range strings.Split(path, ".") {
		v = v.(obj)[part]
	}
	return v.(obj)
}
