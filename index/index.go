package index

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"

	"strata/pack"
)

// Location is where a blob is stored, as the in-memory index keeps it.
type Location struct {
	Pack        pack.ID
	Type        pack.BlobType
	Compression pack.Compression
	Offset      uint32  // where the sealed blob starts in the pack
	Length      uint32  // sealed bytes in the pack
	Base        pack.ID // the base blob's ID; non-null iff Compression == pack.Delta
}

// Index answers where each blob is stored. It is built from index files at
// startup and grows by one pack at a time during a backup; it is safe for
// concurrent use, so a backup can look blobs up while its finished packs
// are added.
//
// Entries live in a sorted main table of 47 bytes each and, after recent
// AddPack calls, in a few small sorted pending runs that are merged into
// the main table once they hold a quarter as many entries as it does, or
// when Compact is called (docs/design.md, "In memory"). Merging briefly
// needs about twice the memory of the main table.
type Index struct {
	mu       sync.RWMutex
	ordinals map[pack.ID]uint32 // pack ID to its position in s.packs
	pending  int                // entries in s.runs
	s        state
	gen      uint64 // counts AddPack calls that added entries (see Marks)

	// compactAt is the fewest pending entries AddPack merges into the
	// main table, so that small indexes are not merged for every pack.
	compactAt int
}

// state is everything a lookup reads. The bytes of its tables and the
// elements of packs and unresolved never change once a state holds them
// (slices are appended to or replaced); only the runs slice changes in
// place. So a copy of a state with its own runs slice can be read after
// the lock is released.
type state struct {
	packs      []pack.ID // pack ordinal to pack ID
	main       table
	runs       []table   // pending entries; see mergeRuns
	unresolved []pack.ID // bases of delta entries that are not in the main table
}

// pendingRatio: AddPack merges the pending entries into the main table
// when they are 1/pendingRatio of it. A merge copies the whole main table;
// at a quarter, a growing index copies each entry about five times in its
// life, and pending entries (2 bytes larger) stay a small part of memory.
const pendingRatio = 4

// New returns an empty index.
func New() *Index {
	return &Index{ordinals: make(map[pack.ID]uint32), compactAt: 1 << 16}
}

// AddPack adds every blob of one pack. Adding a blob the index already
// holds for the same pack changes nothing, so a pack listed by two index
// files is added once. blobs must follow the rules of docs/design.md,
// "Index files" (as Decode's and pack.Writer's do); AddPack panics on a blob
// that does not, since an index that keeps a wrong location is worse.
func (x *Index) AddPack(packID pack.ID, blobs []pack.Blob) {
	if len(blobs) == 0 {
		return
	}
	for _, b := range blobs {
		if err := checkBlob(b); err != nil {
			panic(fmt.Sprintf("index: AddPack: pack %s: %v", packID.Short(), err))
		}
	}
	// A pack holds each blob once; if a caller lists one twice, keep the
	// one at the smallest offset.
	sorted := slices.Clone(blobs)
	slices.SortFunc(sorted, func(a, b pack.Blob) int {
		if c := compareKeys(a.ID[:], b.ID[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
	sorted = slices.CompactFunc(sorted, func(a, b pack.Blob) bool { return a.ID == b.ID })

	x.mu.Lock()
	defer x.mu.Unlock()
	ord, known := x.ordinals[packID]
	if known {
		sorted = slices.DeleteFunc(sorted, func(b pack.Blob) bool { return x.s.hasInPack(&b.ID, ord) })
		if len(sorted) == 0 {
			return
		}
	} else {
		ord = uint32(len(x.s.packs))
		x.ordinals[packID] = ord
		x.s.packs = append(x.s.packs, packID)
	}
	if x.s.main.len()+x.pending+len(sorted) > maxEntries {
		panic(fmt.Sprintf("index: AddPack: more than %d entries", maxEntries))
	}

	run := make([]byte, 0, len(sorted)*runEntrySize)
	for _, b := range sorted {
		run = append(run, b.ID[:]...)
		run = appendValue(run, value{
			flags:  flagsOf(b.Type, b.Compression),
			pack:   ord,
			offset: b.Offset,
			length: b.Length,
			base:   x.s.baseRef(b),
		})
	}
	x.s.runs = append(x.s.runs, newRun(run))
	x.pending += len(sorted)
	x.gen++
	x.s.mergeRuns()
	if x.pending >= max(x.compactAt, x.s.main.len()/pendingRatio) {
		x.compact()
	}
}

// Compact merges the pending entries into the main table, which makes
// lookups faster and the index smaller by 2 bytes an entry. Call it after
// loading the index files, and after a backup.
func (x *Index) Compact() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.compact()
}

// Lookup returns a location of the blob id. When several packs hold the
// blob, it returns the one in the pack with the smallest ID, so that every
// index with the same entries gives the same answer.
func (x *Index) Lookup(id pack.ID) (Location, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	t, i, ok := x.s.first(&id)
	if !ok {
		return Location{}, false
	}
	return x.s.location(t, i), true
}

// LookupAll returns every location of the blob id, ordered by pack ID; nil
// if the index does not have it.
func (x *Index) LookupAll(id pack.ID) []Location {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var locs []Location
	x.s.each(&id, func(t *table, i int) { locs = append(locs, x.s.location(t, i)) })
	slices.SortFunc(locs, func(a, b Location) int { return bytes.Compare(a.Pack[:], b.Pack[:]) })
	return locs
}

// Has reports whether the index has the blob id in any pack.
func (x *Index) Has(id pack.ID) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, _, ok := x.s.first(&id)
	return ok
}

// Len returns the number of entries: one for each blob in each pack that
// holds it.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.s.main.len() + x.pending
}

// Packs returns every pack that holds at least one entry, sorted by ID.
func (x *Index) Packs() []pack.ID {
	x.mu.RLock()
	packs := slices.Clone(x.s.packs)
	x.mu.RUnlock()
	slices.SortFunc(packs, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	return packs
}

// hasInPack reports whether pack ord already holds the blob id.
func (s *state) hasInPack(id *pack.ID, ord uint32) bool {
	found := false
	s.each(id, func(t *table, i int) { found = found || t.packOrdinal(i) == ord })
	return found
}

// first returns the entry of the blob id in the pack with the smallest ID:
// the first entry of id in one of the tables, which are sorted by blob ID
// and then pack ID.
func (s *state) first(id *pack.ID) (t *table, i int, ok bool) {
	if lo, hi := s.main.idRange(id); lo < hi {
		t, i, ok = &s.main, lo, true
	}
	for k := range s.runs {
		r := &s.runs[k]
		lo, hi := r.idRange(id)
		if lo < hi && (!ok || s.comparePacks(r.packOrdinal(lo), t.packOrdinal(i)) < 0) {
			t, i, ok = r, lo, true
		}
	}
	return t, i, ok
}

// each calls fn for every entry of the blob id.
func (s *state) each(id *pack.ID, fn func(t *table, i int)) {
	lo, hi := s.main.idRange(id)
	for i := lo; i < hi; i++ {
		fn(&s.main, i)
	}
	for k := range s.runs {
		r := &s.runs[k]
		lo, hi := r.idRange(id)
		for i := lo; i < hi; i++ {
			fn(r, i)
		}
	}
}

// location expands entry i of t, which is the main table or a run.
func (s *state) location(t *table, i int) Location {
	v := t.value(i)
	loc := Location{
		Pack:        s.packs[v.pack],
		Type:        v.blobType(),
		Compression: v.compression(),
		Offset:      v.offset,
		Length:      v.length,
	}
	if loc.Compression == pack.Delta {
		loc.Base = s.baseID(v.base)
	}
	return loc
}

// baseRef returns the Base field for a new entry of b.
func (s *state) baseRef(b pack.Blob) uint32 {
	if b.Compression != pack.Delta {
		return 0
	}
	if lo, hi := s.main.idRange(&b.Base); lo < hi {
		return uint32(lo)
	}
	s.unresolved = append(s.unresolved, b.Base)
	return unresolvedBase | uint32(len(s.unresolved)-1)
}

func (s *state) baseID(ref uint32) pack.ID {
	if ref&unresolvedBase != 0 {
		return s.unresolved[ref&^unresolvedBase]
	}
	return s.main.id(int(ref))
}
