package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// modelRecord is what the arena test expects of a live record.
type modelRecord struct {
	data []byte
	refs uint32
	gen  uint32
}

// TestArenaRandomSequences runs seeded random sequences of record
// operations — written, shared (another holder), released, rewritten at
// another size, compacted while a budget asks — and checks after each
// one: every live record reads back exactly and still answers to its
// handle and gen; a released one's handle and gen no longer do; the
// arena's own checks hold (audit: records where their slots say, no chunk
// but the current one under half live); what it counts is what its chunks
// and tables hold; and the chunks hold at most twice the live bytes and
// one chunk (the bound compaction keeps).
func TestArenaRandomSequences(t *testing.T) {
	for seq := range 60 {
		if msg := runArenaSequence(rand.New(rand.NewPCG(uint64(seq), 31)), 300); msg != "" {
			t.Fatalf("sequence %d: %s", seq, msg)
		}
	}
}

func runArenaSequence(rng *rand.Rand, n int) string {
	a := newArena()
	live := map[handle]*modelRecord{}
	var handles []handle // of live records, in no order
	type stale struct {
		h   handle
		gen uint32
	}
	var dead []stale
	size := func() int {
		switch k := rng.IntN(20); {
		case k == 0:
			return bigRecord + rng.IntN(3*bigRecord) // a chunk of its own
		case k < 3:
			return rng.IntN(bigRecord)
		case k < 5:
			return 0
		default:
			return rng.IntN(400)
		}
	}
	noise := make([]byte, 8*bigRecord)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	fill := func(b []byte) []byte { // from a random place in the noise
		copy(b, noise[rng.IntN(len(noise)-len(b)+1):])
		return append([]byte(nil), b...)
	}
	pick := func() int { return rng.IntN(len(handles)) }
	// Phases of growth and of shrinking, so that chunks empty unevenly
	// and the slot table grows and shrinks.
	growing := true
	for op := range n {
		if op%60 == 0 {
			growing = rng.IntN(2) == 0
		}
		k := rng.IntN(20)
		switch {
		case len(handles) == 0 || (growing && k < 10) || k < 5:
			h, b := a.alloc(size())
			live[h] = &modelRecord{data: fill(b), refs: 1, gen: a.slots[h].gen}
			handles = append(handles, h)
		case k < 12: // another holder
			i := pick()
			a.hold(handles[i])
			live[handles[i]].refs++
		case k < 18: // a holder lets go
			i := pick()
			h := handles[i]
			r := live[h]
			a.release(h)
			if r.refs--; r.refs == 0 {
				dead = append(dead, stale{h, r.gen})
				delete(live, h)
				handles[i] = handles[len(handles)-1]
				handles = handles[:len(handles)-1]
			}
		case k < 19: // rewritten at another size, its holders unchanged
			h := handles[pick()]
			live[h].data = fill(a.resize(h, size()))
		default: // a budget asks for everything compaction can give
			a.compactAll(func() bool { return true })
			for c := range a.chunks {
				ch := &a.chunks[c]
				if ch.data != nil && c != a.cur && !ch.big && int(ch.live) != len(ch.data) {
					// Only what the last compaction filled may be partly
					// empty: records that no longer fit moved on.
					if int(ch.live) < len(ch.data)-bigRecord {
						return fmt.Sprintf("op %d: chunk %d is %d/%d live after compacting all", op, c, ch.live, len(ch.data))
					}
				}
			}
		}
		a.settle() // as a session does after every write
		if msg := a.audit(); msg != "" {
			return fmt.Sprintf("op %d: %s", op, msg)
		}
		for h, r := range live {
			if !a.live(h, r.gen) || a.slots[h].refs != r.refs {
				return fmt.Sprintf("op %d: record %d (gen %d, %d holders) reads as slot %+v", op, h, r.gen, r.refs, a.slots[h])
			}
			if !bytes.Equal(a.bytes(h), r.data) {
				return fmt.Sprintf("op %d: record %d reads back wrong", op, h)
			}
		}
		for _, d := range dead {
			if a.live(d.h, d.gen) {
				return fmt.Sprintf("op %d: released record %d (gen %d) still answers", op, d.h, d.gen)
			}
		}
		if got, want := a.held(), a.recount(); got != want {
			return fmt.Sprintf("op %d: counts %d bytes, holds %d", op, got, want)
		}
		if a.chunkBytes > 2*a.liveBytes+chunkMax {
			return fmt.Sprintf("op %d: %d bytes of chunks for %d live", op, a.chunkBytes, a.liveBytes)
		}
		if len(live) == 0 && a.held() > int64(cap(a.chunks))*chunkSize+int64(cap(a.freeChunks)+cap(a.sparse))*4+chunkMax {
			return fmt.Sprintf("op %d: empty, holds %d bytes", op, a.held())
		}
	}
	return ""
}

// TestArenaReusesFreedChunks: an arena that turns over (a journal at its
// limit) fills the chunks it freed again instead of allocating.
func TestArenaReusesFreedChunks(t *testing.T) {
	a := newArena()
	var fifo []handle
	for range 4000 { // past the chunks' growth to full size
		h, b := a.alloc(900)
		b[0] = 1
		fifo = append(fifo, h)
		if len(fifo) > 500 {
			a.release(fifo[0])
			fifo = fifo[1:]
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		h, _ := a.alloc(900)
		fifo = append(fifo, h)
		a.release(fifo[0])
		fifo = fifo[1:]
	})
	// fifo's own growth aside (amortised), the arena allocates nothing.
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per record turned over", allocs)
	}
}
