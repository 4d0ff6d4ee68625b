package record

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

const (
	maxSamples  = 10_000
	maxFollowed = 10_000
)

// samples is a bounded list of durations.
type samples []time.Duration

func (s *samples) add(d time.Duration) {
	if len(*s) >= maxSamples {
		*s = append((*s)[:0], (*s)[maxSamples/2:]...)
	}
	*s = append(*s, d)
}

// spread is the samples' median and 99th percentile, rounded to the
// millisecond (the microsecond under 10ms); nil without samples.
func (s samples) spread() *capture.Spread {
	if len(s) == 0 {
		return nil
	}
	sorted := append(samples(nil), s...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	p99 := (len(sorted)*99 + 99) / 100
	out := &capture.Spread{Median: round(sorted[len(sorted)/2]), P99: round(sorted[p99-1])}
	if out.Median <= 0 {
		out.Median = time.Microsecond
	}
	return out
}

func round(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// streamPace is what the recorder saw of one API's streamed replies.
type streamPace struct {
	firstToken, gaps   samples
	chunkMin, chunkMax int
	lastText           string               // the last reply streamed whole
	created            map[string]time.Time // conversation → its last message.created
	open               map[string]*openReply
}

type openReply struct {
	last time.Time
	text strings.Builder
}

type timing struct {
	answers map[string]*samples // "<api> <send|read>"
	streams map[scenarios.API]*streamPace
}

func newTiming() timing {
	return timing{answers: map[string]*samples{}, streams: map[scenarios.API]*streamPace{}}
}

// answered notes how long the upstream took to answer a request.
func (t *timing) answered(api scenarios.API, method string, took time.Duration) {
	key := string(api) + " read"
	if method == http.MethodPost {
		key = string(api) + " send"
	}
	s := t.answers[key]
	if s == nil {
		s = &samples{}
		t.answers[key] = s
	}
	s.add(took)
}

// frame notes one event of an upstream stream, seen at at.
func (t *timing) frame(api scenarios.API, event string, data []byte, at time.Time) {
	var ev struct {
		Data json.RawMessage `json:"data"` // Conversations: the event wraps its data
	}
	payload := data
	if api == scenarios.APIConversations && json.Unmarshal(data, &ev) == nil && len(ev.Data) > 0 {
		payload = ev.Data
	}
	var d struct {
		ConversationID string `json:"conversation_id"`
		MessageID      string `json:"message_id"`
		Delta          string `json:"delta"`
		ID             string `json:"id"` // the Workspace API's Message
		Message        struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	if json.Unmarshal(payload, &d) != nil || d.ConversationID == "" {
		return
	}
	p := t.streams[api]
	if p == nil {
		p = &streamPace{created: map[string]time.Time{}, open: map[string]*openReply{}}
		t.streams[api] = p
	}
	switch event {
	case "message.delta":
		if d.MessageID == "" {
			return
		}
		r := p.open[d.MessageID]
		if r == nil {
			if len(p.open) >= maxFollowed {
				clear(p.open)
			}
			r = &openReply{}
			p.open[d.MessageID] = r
			if c, ok := p.created[d.ConversationID]; ok {
				p.firstToken.add(at.Sub(c))
			}
		} else {
			p.gaps.add(at.Sub(r.last))
		}
		r.last = at
		r.text.WriteString(d.Delta)
		n := utf8.RuneCountInString(d.Delta)
		if n > 0 && (p.chunkMin == 0 || n < p.chunkMin) {
			p.chunkMin = min(n, 65536)
		}
		p.chunkMax = min(max(p.chunkMax, n), 65536)
	case "message.created":
		id := d.Message.ID
		if id == "" {
			id = d.ID
		}
		if r := p.open[id]; r != nil {
			p.lastText = r.text.String()
			delete(p.open, id)
		}
		if len(p.created) >= maxFollowed {
			clear(p.created)
		}
		p.created[d.ConversationID] = at
	}
}

// latencyRules are the recorded-latency rules, in a stable order.
func (t *timing) latencyRules() []capture.Rule {
	var out []capture.Rule
	for _, api := range []scenarios.API{scenarios.APIConversations, scenarios.APIWorkspace} {
		for _, kind := range []string{"send", "read"} {
			s := t.answers[string(api)+" "+kind]
			if s == nil {
				continue
			}
			method := http.MethodGet
			if kind == "send" {
				method = http.MethodPost
			}
			out = append(out, capture.Rule{
				Name:     "recorded-latency-" + string(api) + "-" + kind,
				When:     []capture.Field{{Key: "api", Value: string(api)}, {Key: "method", Value: method}},
				Respond:  &capture.Respond{Spread: s.spread()},
				Continue: true,
			})
		}
	}
	return out
}

// streamRules are the recorded-stream rules: a reply at the pace seen.
func (t *timing) streamRules() []capture.Rule {
	var out []capture.Rule
	for _, api := range []scenarios.API{scenarios.APIConversations, scenarios.APIWorkspace} {
		p := t.streams[api]
		if p == nil || p.lastText == "" {
			continue
		}
		st := &capture.Stream{FirstToken: p.firstToken.spread(), Interval: p.gaps.spread(), ChunkMin: p.chunkMin, ChunkMax: p.chunkMax}
		if st.Interval == nil {
			st.Interval = &capture.Spread{} // one chunk: no gap to keep
		}
		role := capture.Field{Key: "sender_type", Value: "user"}
		if api == scenarios.APIWorkspace {
			role = capture.Field{Key: "role", Value: "user"}
		}
		out = append(out, capture.Rule{
			Name:    "recorded-stream-" + string(api),
			When:    []capture.Field{{Key: "api", Value: string(api)}, role},
			Replies: []capture.Reply{{Text: p.lastText, Stream: st}},
		})
	}
	return out
}

// relayStream forwards an event stream as it comes, frame by frame, and
// notes when each frame arrived. A frame is stamped before it is passed
// on, so a client that has read it knows its time is taken.
func (rc *Recorder) relayStream(w http.ResponseWriter, r *http.Request, api scenarios.API) {
	start := rc.now()
	res, err := rc.up.Open(r.Context(), r)
	if err != nil {
		rc.log.Warn("record: no answer from the upstream", "upstream", rc.up.Base(), "path", r.URL.Path, "error", err.Error())
		wire.UpstreamFailure(dialectOf(api), err).Write(w)
		return
	}
	defer res.Body.Close()
	rc.mu.Lock()
	rc.book.NoteHeaders(res.Header)
	rc.timing.answered(api, r.Method, rc.now().Sub(start))
	rc.dirty = true
	rc.mu.Unlock()
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	rcw := http.NewResponseController(w)
	_ = rcw.Flush()
	br := bufio.NewReader(res.Body)
	var frame strings.Builder
	event, data := "", ""
	for {
		line, err := br.ReadString('\n')
		frame.WriteString(line)
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(trimmed, "event:"):
			event = strings.TrimSpace(trimmed[len("event:"):])
		case strings.HasPrefix(trimmed, "data:"):
			data += strings.TrimPrefix(trimmed[len("data:"):], " ")
		case trimmed == "" && line != "":
			if event != "" && data != "" && res.StatusCode == http.StatusOK {
				rc.mu.Lock()
				rc.timing.frame(api, event, []byte(data), rc.now())
				rc.dirty = true
				rc.mu.Unlock()
			}
			if _, werr := io.WriteString(w, frame.String()); werr != nil || rcw.Flush() != nil {
				return
			}
			frame.Reset()
			event, data = "", ""
		}
		if err != nil {
			_, _ = io.WriteString(w, frame.String())
			return
		}
	}
}
