package engine

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msgmock/msgmock/mock/state"
	"github.com/msgmock/msgmock/scenarios"
)

// chunks splits a streamed reply's text into its message.delta pieces:
// words (each with the space after it), characters, or runs of N
// characters — or, with SizeMax above Size, runs of a size drawn for each
// piece with draw (a number in [0, 1)). Concatenated, the pieces are the
// text again.
func chunks(text string, st *scenarios.Stream, draw func() float64) []string {
	if st == nil || text == "" {
		return nil
	}
	var out []string
	switch st.Chunk {
	case scenarios.ChunkWord:
		for len(text) > 0 {
			i := strings.IndexAny(text, " \n\t")
			if i < 0 {
				out = append(out, text)
				break
			}
			j := i
			for j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
				j++
			}
			out = append(out, text[:j])
			text = text[j:]
		}
	default:
		size := st.Size
		if st.Chunk == scenarios.ChunkChar {
			size = 1
		}
		for len(text) > 0 {
			if st.Chunk == "" && st.SizeMax > st.Size {
				size = st.Size + int(draw()*float64(st.SizeMax-st.Size+1))
			}
			i, n := 0, 0
			for i < len(text) && n < size {
				_, w := utf8.DecodeRuneInString(text[i:])
				i += w
				n++
			}
			out = append(out, text[:i])
			text = text[i:]
		}
	}
	return out
}

// paceStream draws when each chunk of a streamed reply comes, after the
// reply's delay — the first after the plan's first token, each next one a
// gap later — and which chunks its faults hit, and returns when the
// message.created comes: a gap after the last chunk. A stall lengthens the
// gap after its chunk; drop, malformed and repeat mark their chunk, for
// the streams and webhooks that deliver it. Called with sess locked: every
// draw comes from the session's stream while the request is handled.
func (e *Engine) paceStream(sess *state.Session, plan *scenarios.Stream, deltas []delta) (created time.Duration) {
	n := len(deltas)
	at := e.scale(scenarios.ClampWait(sampleWith(sess, plan.FirstToken)))
	for _, f := range plan.Faults {
		if f.Chance > 0 && f.Chance < 1 && sess.Float() >= f.Chance {
			continue
		}
		k := f.Chunk
		if k == 0 {
			k = 1 + int(sess.Float()*float64(n))
		}
		k = min(k, n)
		switch f.Kind {
		case scenarios.StreamStall:
			deltas[k-1].stall += e.scale(f.For)
		case scenarios.StreamDrop:
			deltas[k-1].fault |= state.FaultDrop
		case scenarios.StreamMalformed:
			deltas[k-1].fault |= state.FaultMalformed
		case scenarios.StreamRepeat:
			deltas[k-1].fault |= state.FaultRepeat
		}
	}
	interval, jitter := plan.GapDraws()
	gap := func() time.Duration {
		var uniform, normal, vary float64
		if interval {
			uniform, normal = sess.Float(), sess.Norm()
		}
		if jitter {
			vary = sess.Float()
		}
		return e.scale(scenarios.ClampWait(plan.Gap(uniform, normal, vary)))
	}
	for i := range deltas {
		if i > 0 {
			at += gap() + deltas[i-1].stall
		}
		deltas[i].at = at
	}
	return at + gap() + deltas[n-1].stall
}
