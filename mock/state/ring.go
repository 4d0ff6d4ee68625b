package state

import "unsafe"

// ring is a first-in first-out list in one pointer-free array (when T
// holds no pointer): the event log, the journal and each conversation's
// messages. It grows by doubling and shrinks by half when a quarter full,
// so that the bytes it holds — what the memory budget counts — follow its
// length.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

const ringMin = 8

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) bytes() int64 {
	var zero T
	return int64(cap(r.buf)) * int64(unsafe.Sizeof(zero))
}

// at returns the i-th element, oldest first.
func (r *ring[T]) at(i int) T { return r.buf[(r.head+i)&(len(r.buf)-1)] }

// ref returns the i-th element's address, valid until the next push or pop.
func (r *ring[T]) ref(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.resize(max(ringMin, 2*len(r.buf)))
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// pop removes and returns the oldest element.
func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	if len(r.buf) > ringMin && r.n*4 < len(r.buf) {
		r.resize(len(r.buf) / 2)
	}
	return v
}

func (r *ring[T]) resize(size int) {
	buf := make([]T, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.at(i)
	}
	r.buf, r.head = buf, 0
}

// search returns the first index in [0, n) where f is true, f being
// false then true along the ring (sort.Search over the ring).
func (r *ring[T]) search(f func(T) bool) int {
	lo, hi := 0, r.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(r.at(m)) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
