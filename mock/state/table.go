package state

import "unsafe"

// table is an open-addressing hash table (linear probing, deletion by
// backward shift) from 64-bit keys to non-zero 64-bit values: the
// session's indexes of message ids and event ids. It holds no pointer, so
// the garbage collector never scans it, and its size is known exactly,
// for the memory budget; it shrinks when it empties, as Go maps do not.
//
// Keys may repeat (a message id's hash is its key: two ids may share it);
// find's eq tells the entries of one key apart.
type table struct {
	entries []tableEntry // a power of two long, or empty
	n       int
}

type tableEntry struct{ key, val uint64 } // val 0: empty

const (
	tableEntrySize = int64(unsafe.Sizeof(tableEntry{}))
	tableMin       = 16
)

func (t *table) bytes() int64 { return int64(cap(t.entries)) * tableEntrySize }

func (t *table) len() int { return t.n }

// home is where key's probe starts: a multiplicative mix, so that keys
// made of text (event ids) spread too.
func (t *table) home(key uint64) int {
	return int((key * 0x9e3779b97f4a7c15) >> 32 & uint64(len(t.entries)-1))
}

// find returns the value of the first entry of key that eq accepts (eq
// nil: any).
func (t *table) find(key uint64, eq func(val uint64) bool) (uint64, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := len(t.entries) - 1
	for i := t.home(key); t.entries[i].val != 0; i = (i + 1) & mask {
		if e := t.entries[i]; e.key == key && (eq == nil || eq(e.val)) {
			return e.val, true
		}
	}
	return 0, false
}

// insert adds an entry; val must not be 0.
func (t *table) insert(key, val uint64) {
	if (t.n+1)*4 > len(t.entries)*3 {
		t.resize(max(tableMin, 2*len(t.entries)))
	}
	t.put(key, val)
	t.n++
}

func (t *table) put(key, val uint64) {
	mask := len(t.entries) - 1
	i := t.home(key)
	for t.entries[i].val != 0 {
		i = (i + 1) & mask
	}
	t.entries[i] = tableEntry{key, val}
}

// remove deletes the entry key → val, if there is one.
func (t *table) remove(key, val uint64) bool {
	if t.n == 0 {
		return false
	}
	mask := len(t.entries) - 1
	i := t.home(key)
	for ; ; i = (i + 1) & mask {
		e := t.entries[i]
		if e.val == 0 {
			return false
		}
		if e.key == key && e.val == val {
			break
		}
	}
	// Backward shift: move later entries of the run back over the hole
	// when their probe may start at or before it.
	for j := (i + 1) & mask; t.entries[j].val != 0; j = (j + 1) & mask {
		h := t.home(t.entries[j].key)
		if (j-h)&mask >= (j-i)&mask {
			t.entries[i] = t.entries[j]
			i = j
		}
	}
	t.entries[i] = tableEntry{}
	t.n--
	if len(t.entries) > tableMin && t.n*8 < len(t.entries) {
		t.resize(len(t.entries) / 2)
	}
	return true
}

func (t *table) resize(size int) {
	old := t.entries
	t.entries = make([]tableEntry, size)
	for _, e := range old {
		if e.val != 0 {
			t.put(e.key, e.val)
		}
	}
}
