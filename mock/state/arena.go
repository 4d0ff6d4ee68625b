package state

import (
	"cmp"
	"encoding/binary"
	mathbits "math/bits"
	"slices"
	"sync"
	"unsafe"
)

// The arena keeps a session's retained records (messages, deltas, journal
// entries) as bytes in large pointer-free chunks, so that the garbage
// collector marks a chunk as one object and never looks inside: its work
// per cycle follows the number of chunks, not the number of records.
//
// A record is addressed by a handle, an index into the slot table, which
// says where the record lies and how many holders it has. Handles stay
// valid while records move: compaction copies the live records of a
// sparse chunk into the chunk being filled and updates their slots, so
// that every chunk but the one being filled is at least half live and the
// bytes held stay under twice the bytes live (plus one chunk).

// handle addresses a record of an arena; 0 is none.
type handle = uint32

const (
	chunkMin = 4 << 10  // a session's first chunk: small sessions stay small
	chunkMax = 64 << 10 // chunks double up to this size
	// bigRecord: a record (with its header) over this size, or over half
	// the next chunk while chunks still grow, gets a chunk of its own, freed
	// when the record dies, so that a few large journal entries never leave
	// a large chunk pinned by small records.
	bigRecord = chunkMax / 4
	// recordHeader precedes every record in its chunk: its handle and its
	// size, so that compaction can walk a chunk and tell live records
	// (their slot still points there) from dead ones.
	recordHeader = 8
)

// slot is a handle's entry in the slot table. It holds no pointer.
type slot struct {
	chunk uint32 // where the record lies
	off   uint32 // offset of its bytes (after the header)
	size  uint32 // its bytes
	refs  uint32 // holders; 0: the slot is free
	gen   uint32 // which issue of the slot it is: a handle kept with its gen detects reuse
}

// chunk is a block of records. data is allocated as []byte: noscan.
type chunk struct {
	data []byte // nil: the chunk's id is free
	used uint32 // bytes written from the start
	live uint32 // bytes of live records, headers included
	big  bool   // holds one record, sized to it
}

const (
	slotSize  = int64(unsafe.Sizeof(slot{}))
	chunkSize = int64(unsafe.Sizeof(chunk{}))
)

// arena is one session's record store, guarded by the session's lock.
type arena struct {
	chunks     []chunk
	freeChunks []uint32
	slots      []slot   // slots[0] is never used: handle 0 is none
	freeSlots  []uint64 // a bit per slot, set when it is free
	nfree      int      // slots free
	lowFree    int      // no slot under it is free
	issued     uint32   // slots issued so far: the next one's gen
	cur        int      // the chunk being filled, -1: none
	grown      int      // small chunks made so far: each is twice the last, up to chunkMax
	sparse     []uint32 // retired chunks found under half live, to compact
	chunkBytes int64    // bytes of all chunks
	liveBytes  int64    // bytes of live records, headers included
}

func newArena() *arena { return &arena{cur: -1} }

// held is what the arena holds: its chunks, its slot table and the lists
// that index them.
func (a *arena) held() int64 {
	return a.chunkBytes + int64(cap(a.slots))*slotSize + int64(cap(a.chunks))*chunkSize +
		int64(cap(a.freeSlots))*8 + int64(cap(a.freeChunks)+cap(a.sparse))*4
}

// alloc makes a record of size bytes with one holder and returns its
// handle and its bytes, to be written before any other arena call.
func (a *arena) alloc(size int) (handle, []byte) {
	h := a.newSlot()
	return h, a.place(h, size)
}

// newSlot takes the lowest free slot, so that the handles in use stay
// low and the table can shrink from its end (freeSlot) when records die.
func (a *arena) newSlot() handle {
	if a.nfree > 0 {
		for w := a.lowFree / 64; ; w++ {
			if bits := a.freeSlots[w]; bits != 0 {
				h := w*64 + mathbits.TrailingZeros64(bits)
				a.freeSlots[w] &^= 1 << (h % 64)
				a.nfree--
				a.lowFree = h + 1
				a.slots[h] = slot{refs: 1, gen: a.issue()}
				return handle(h)
			}
		}
	}
	if len(a.slots) == 0 {
		a.slots = make([]slot, 1, 64) // slots[0] stays unused
	}
	a.slots = append(a.slots, slot{refs: 1, gen: a.issue()})
	if words := (len(a.slots) + 63) / 64; words > len(a.freeSlots) {
		a.freeSlots = append(a.freeSlots, 0)
	}
	a.lowFree = len(a.slots)
	return handle(len(a.slots) - 1)
}

func (a *arena) issue() uint32 {
	a.issued++
	return a.issued
}

// freeSlot frees h's slot and trims the free slots at the table's end.
func (a *arena) freeSlot(h handle) {
	a.freeSlots[h/64] |= 1 << (h % 64)
	a.nfree++
	a.lowFree = min(a.lowFree, int(h))
	for n := len(a.slots) - 1; n > 0 && a.freeSlots[n/64]&(1<<(n%64)) != 0; n-- {
		a.freeSlots[n/64] &^= 1 << (n % 64)
		a.nfree--
		a.slots = a.slots[:n]
	}
	if len(a.slots) == 1 {
		a.slots, a.freeSlots, a.nfree, a.lowFree = nil, nil, 0, 0
		return
	}
	a.freeSlots = a.freeSlots[:(len(a.slots)+63)/64]
	a.lowFree = min(a.lowFree, len(a.slots))
	if cap(a.slots) > 256 && len(a.slots) < cap(a.slots)/4 {
		a.slots = append(make([]slot, 0, 2*len(a.slots)), a.slots...)
		a.freeSlots = append(make([]uint64, 0, cap(a.slots)/64+1), a.freeSlots...)
	}
}

// place gives record h a new place of size bytes and returns them.
func (a *arena) place(h handle, size int) []byte {
	need := size + recordHeader
	next := min(chunkMax, chunkMin<<min(a.grown, 8)) // the next small chunk's size
	var c int
	if need > min(bigRecord, next/2) {
		c = a.newChunk(need, true)
	} else {
		if a.cur < 0 || int(a.chunks[a.cur].used)+need > len(a.chunks[a.cur].data) {
			a.retire()
			a.cur = a.newChunk(next, false)
			a.grown++
		}
		c = a.cur
	}
	ch := &a.chunks[c]
	off := ch.used
	binary.LittleEndian.PutUint32(ch.data[off:], h)
	binary.LittleEndian.PutUint32(ch.data[off+4:], uint32(size))
	ch.used += uint32(need)
	ch.live += uint32(need)
	a.liveBytes += int64(need)
	s := &a.slots[h]
	s.chunk, s.off, s.size = uint32(c), off+recordHeader, uint32(size)
	return ch.data[s.off : s.off+uint32(size) : s.off+uint32(size)]
}

// chunks keeps full-size chunks that arenas freed, for any arena to fill
// again: a journal or a conversation that turns over at its limit frees
// one chunk as it fills another, and then allocates nothing. The garbage
// collector empties the pool (over two cycles) of what no arena takes.
var chunks = sync.Pool{New: func() any { return new([chunkMax]byte) }}

func (a *arena) newChunk(size int, big bool) int {
	var data []byte
	if size == chunkMax && !big {
		data = chunks.Get().(*[chunkMax]byte)[:] // written before it is read: never cleared
	} else {
		data = make([]byte, size)
	}
	ch := chunk{data: data, big: big}
	a.chunkBytes += int64(size)
	if n := len(a.freeChunks); n > 0 {
		c := a.freeChunks[n-1]
		a.freeChunks = a.freeChunks[:n-1]
		a.chunks[c] = ch
		return int(c)
	}
	a.chunks = append(a.chunks, ch)
	return len(a.chunks) - 1
}

// retire stops filling the current chunk; one that records have already
// left more than half empty is compacted.
func (a *arena) retire() {
	if a.cur < 0 {
		return
	}
	c := a.cur
	a.cur = -1
	if a.chunks[c].live == 0 {
		a.dropChunk(c)
	} else if a.isSparse(c) {
		a.sparse = append(a.sparse, uint32(c))
	}
}

func (a *arena) isSparse(c int) bool {
	ch := &a.chunks[c]
	return !ch.big && c != a.cur && int(ch.live)*2 < len(ch.data)
}

func (a *arena) dropChunk(c int) {
	if data := a.chunks[c].data; len(data) == chunkMax && !a.chunks[c].big {
		chunks.Put((*[chunkMax]byte)(data))
	}
	a.chunkBytes -= int64(len(a.chunks[c].data))
	a.chunks[c] = chunk{}
	a.freeChunks = append(a.freeChunks, uint32(c))
}

// bytes returns record h's bytes: read them before any other arena call.
func (a *arena) bytes(h handle) []byte {
	s := &a.slots[h]
	return a.chunks[s.chunk].data[s.off : s.off+s.size : s.off+s.size]
}

// live reports whether h with gen is still the record it was made as.
func (a *arena) live(h handle, gen uint32) bool {
	return h != 0 && int(h) < len(a.slots) && a.slots[h].refs > 0 && a.slots[h].gen == gen
}

// hold adds a holder to h.
func (a *arena) hold(h handle) { a.slots[h].refs++ }

// release removes a holder from h; the last one frees it.
func (a *arena) release(h handle) {
	s := &a.slots[h]
	s.refs--
	if s.refs > 0 {
		return
	}
	a.unplace(h)
	*s = slot{}
	a.freeSlot(h)
	a.settle()
}

// resize gives h a new place of size bytes, its holders unchanged, and
// returns them. Write them, then settle: compacting before could move h.
func (a *arena) resize(h handle, size int) []byte {
	a.unplace(h)
	return a.place(h, size)
}

// unplace marks the bytes of h dead where they lie.
func (a *arena) unplace(h handle) {
	s := &a.slots[h]
	c := int(s.chunk)
	ch := &a.chunks[c]
	need := s.size + recordHeader
	ch.live -= need
	a.liveBytes -= int64(need)
	switch {
	case ch.live == 0 && c == a.cur:
		ch.used = 0 // empty: fill it again from the start
	case ch.live == 0:
		a.dropChunk(c)
	case a.isSparse(c) && !a.queued(c):
		a.sparse = append(a.sparse, uint32(c))
	}
}

func (a *arena) queued(c int) bool {
	for _, q := range a.sparse {
		if int(q) == c {
			return true
		}
	}
	return false
}

// settle compacts the chunks found sparse. Every compaction frees a chunk
// that held dead bytes and writes none: it ends.
func (a *arena) settle() {
	for len(a.sparse) > 0 {
		c := int(a.sparse[len(a.sparse)-1])
		a.sparse = a.sparse[:len(a.sparse)-1]
		if a.chunks[c].data != nil && a.isSparse(c) {
			a.compact(c)
		}
	}
	if cap(a.sparse) > 64 {
		a.sparse = nil
	}
}

// compact moves chunk c's live records into the chunk being filled and
// frees c. Handles stay; only their slots change.
func (a *arena) compact(c int) {
	data := a.chunks[c].data
	used := a.chunks[c].used
	for off := uint32(0); off < used; {
		h := binary.LittleEndian.Uint32(data[off:])
		size := binary.LittleEndian.Uint32(data[off+4:])
		at := off + recordHeader
		off = at + size
		if int(h) >= len(a.slots) {
			continue
		}
		s := a.slots[h]
		if s.refs == 0 || int(s.chunk) != c || s.off != at {
			continue // dead: its slot is free or points elsewhere
		}
		a.chunks[c].live -= size + recordHeader
		a.liveBytes -= int64(size + recordHeader)
		copy(a.place(h, int(size)), data[at:at+size])
	}
	a.dropChunk(c)
}

// compactAll compacts chunks holding dead bytes, sparsest first, while
// over() holds: what the memory budget asks before it evicts more.
func (a *arena) compactAll(over func() bool) {
	if a.cur >= 0 && a.chunks[a.cur].live < a.chunks[a.cur].used {
		a.retire() // it holds dead records too: a candidate like the others
	}
	a.settle()
	var todo []int
	for c := range a.chunks {
		ch := &a.chunks[c]
		if ch.data != nil && !ch.big && c != a.cur && int(ch.live) < len(ch.data) {
			todo = append(todo, c)
		}
	}
	slices.SortFunc(todo, func(x, y int) int {
		return cmp.Compare(float64(a.chunks[x].live)/float64(len(a.chunks[x].data)),
			float64(a.chunks[y].live)/float64(len(a.chunks[y].data)))
	})
	for _, c := range todo {
		if !over() {
			return
		}
		// Chunks made by this loop are full and never in todo; one the
		// loop retired is compacted by settle, or is in todo still.
		if ch := &a.chunks[c]; ch.data != nil && !ch.big && c != a.cur && int(ch.live) < len(ch.data) {
			a.compact(c)
			a.settle()
		}
	}
}

// reclaimable is about what compacting every chunk would give back: their
// dead bytes, less a chunk the copies may leave partly filled.
func (a *arena) reclaimable() int64 {
	dead := a.chunkBytes - a.liveBytes
	if a.cur >= 0 {
		ch := &a.chunks[a.cur]
		dead -= int64(len(ch.data)) - int64(ch.used) // room still to fill: not dead
	}
	return max(dead-chunkMax, 0)
}
