package state

import (
	"hash/fnv"
	"math/rand/v2"
)

const (
	alnum     = "abcdefghijklmnopqrstuvwxyz0123456789"
	hexDigits = "0123456789abcdef"
)

// entropy is one session's random stream. Every draw of a request (ids,
// fake text, chance rolls, latency samples) comes from its session's
// stream while the request is handled, under the session's lock: so the
// same requests sent one at a time give the same draws on every run, and
// parallel sessions cannot perturb each other.
type entropy struct {
	pcg  *rand.PCG
	rand *rand.Rand
	seed uint64
}

func newEntropy(base uint64, session string) *entropy {
	seed := base
	if session != "" {
		h := fnv.New64a()
		h.Write([]byte(session))
		seed ^= h.Sum64()
	}
	pcg := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &entropy{pcg: pcg, rand: rand.New(pcg), seed: seed}
}

// reset rewinds the stream to its start, as POST /__mock/reset does.
func (e *entropy) reset() { e.pcg.Seed(e.seed, e.seed^0x9e3779b97f4a7c15) }

// id returns prefix followed by n characters drawn from alphabet.
func (e *entropy) id(prefix string, n int, alphabet string) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	e.fill(b[len(prefix):], alphabet)
	return string(b)
}

// fill fills b with characters drawn from alphabet.
func (e *entropy) fill(b []byte, alphabet string) {
	n := len(alphabet)
	limit := n * (64 / n)
	for i := 0; i < len(b); {
		x := e.pcg.Uint64()
		// 64 random bits give ten 6-bit picks; rejecting values past the
		// alphabet keeps every character equally likely.
		for k := 0; k < 10 && i < len(b); k++ {
			v := int(x & 63)
			x >>= 6
			if v < limit {
				// v%n without a division for the ids' alphabets (62
				// characters: v < n already; 16: a mask) — the same pick.
				switch {
				case n > 32:
				case n == 16:
					v &= 15
				default:
					v %= n
				}
				b[i] = alphabet[v]
				i++
			}
		}
	}
}

// float returns a number in [0, 1).
func (e *entropy) float() float64 { return e.rand.Float64() }
