package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTableRandomSequences: inserts and removals over few keys (long
// probe runs, keys shared by several values, as two message ids whose
// hashes agree) leave a table that finds exactly what a map model holds,
// whose size follows its length both ways.
func TestTableRandomSequences(t *testing.T) {
	for seq := range 60 {
		if msg := runTableSequence(rand.New(rand.NewPCG(uint64(seq), 5)), 500); msg != "" {
			t.Fatalf("sequence %d: %s", seq, msg)
		}
	}
}

func runTableSequence(rng *rand.Rand, n int) string {
	var tb table
	model := map[uint64][]uint64{} // key → values
	size := 0
	keys := uint64(4 + rng.IntN(300))
	nextVal := uint64(1)
	growing := true
	for op := range n {
		if op%100 == 0 {
			growing = rng.IntN(3) > 0
		}
		key := rng.Uint64N(keys) << (rng.IntN(2) * 40) // some keys differ only in high bits
		if size == 0 || (growing && rng.IntN(3) > 0) || rng.IntN(4) == 0 {
			tb.insert(key, nextVal)
			model[key] = append(model[key], nextVal)
			nextVal++
			size++
		} else {
			var k uint64
			for k = range model { // any key held
				break
			}
			vals := model[k]
			v := vals[rng.IntN(len(vals))]
			if !tb.remove(k, v) {
				return fmt.Sprintf("op %d: remove %d→%d found nothing", op, k, v)
			}
			if vals = slices.DeleteFunc(vals, func(x uint64) bool { return x == v }); len(vals) == 0 {
				delete(model, k)
			} else {
				model[k] = vals
			}
			size--
		}
		if tb.len() != size {
			return fmt.Sprintf("op %d: %d entries, want %d", op, tb.len(), size)
		}
		if l := len(tb.entries); size > 0 && (size*4 > l*3 || l > max(tableMin, 16*size)) {
			return fmt.Sprintf("op %d: %d entries in a table of %d", op, size, l)
		}
		for k, vals := range model {
			for _, v := range vals {
				if got, ok := tb.find(k, func(x uint64) bool { return x == v }); !ok || got != v {
					return fmt.Sprintf("op %d: %d→%d not found (%d, %v)", op, k, v, got, ok)
				}
			}
		}
		if _, ok := tb.find(keys+1, nil); ok {
			return fmt.Sprintf("op %d: found a key never inserted", op)
		}
		if tb.remove(keys+1, 1) {
			return fmt.Sprintf("op %d: removed a key never inserted", op)
		}
	}
	return ""
}
