package index

import (
	"fmt"

	"strata/pack"
)

// Marks is a set of blobs of one index with one bit per entry: prune's set
// of used blobs. A map of IDs would cost more than the index itself; a bit
// per entry costs 1/376 of it. Marks belong to the index as it was when
// NewMarks was called: adding a pack afterwards invalidates them, and
// their methods panic rather than answer for the wrong entries.
type Marks struct {
	x    *Index
	gen  uint64
	bits []uint64
}

// NewMarks compacts the index and returns an empty set over its entries.
func (x *Index) NewMarks() *Marks {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.compact()
	return &Marks{x: x, gen: x.gen, bits: make([]uint64, (x.s.main.len()+63)/64)}
}

// position returns the main-table position of the first entry of id.
func (m *Marks) position(id pack.ID) (int, bool) {
	m.x.mu.RLock()
	defer m.x.mu.RUnlock()
	if m.x.gen != m.gen {
		panic(fmt.Sprintf("index: Marks used after the index changed (blob %s)", id.Short()))
	}
	lo, hi := m.x.s.main.idRange(&id)
	return lo, lo < hi
}

// Mark adds id to the set. It reports whether id was newly added, and
// false for a blob the index does not have.
func (m *Marks) Mark(id pack.ID) (added, known bool) {
	i, ok := m.position(id)
	if !ok {
		return false, false
	}
	w, bit := i/64, uint64(1)<<(i%64)
	if m.bits[w]&bit != 0 {
		return false, true
	}
	m.bits[w] |= bit
	return true, true
}

// Has reports whether id is in the set.
func (m *Marks) Has(id pack.ID) bool {
	i, ok := m.position(id)
	return ok && m.bits[i/64]&(uint64(1)<<(i%64)) != 0
}

// Bytes is the memory the set holds.
func (m *Marks) Bytes() int { return len(m.bits) * 8 }

// MemoryBytes is the memory the index's tables hold: the figure prune's
// own memory use is compared with.
func (x *Index) MemoryBytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := cap(x.s.main.b) + 4*cap(x.s.main.starts) + 32*cap(x.s.packs) + 32*cap(x.s.unresolved)
	for _, r := range x.s.runs {
		n += cap(r.b) + 4*cap(r.starts)
	}
	return n
}
