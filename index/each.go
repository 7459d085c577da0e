package index

import (
	"encoding/binary"

	"strata/pack"
)

// Each calls fn for every entry, in order of blob ID and then pack ID,
// until fn returns false. It visits the entries present when it was
// called; fn may use the index, including adding packs to it, which Each
// does not visit.
func (x *Index) Each(fn func(id pack.ID, loc Location) bool) {
	x.mu.RLock()
	s := x.s
	s.runs = append([]table(nil), x.s.runs...) // AddPack changes x.s.runs in place
	x.mu.RUnlock()

	// Merge the main table and the runs on the fly, one cursor each.
	var cursors []*cursor
	if c := (&cursor{t: &s.main}); c.load() {
		cursors = append(cursors, c)
	}
	for k := range s.runs {
		if c := (&cursor{t: &s.runs[k]}); c.load() {
			cursors = append(cursors, c)
		}
	}
	for len(cursors) > 0 {
		first := 0
		for k, c := range cursors[1:] {
			if s.compareCursors(c, cursors[first]) < 0 {
				first = k + 1
			}
		}
		c := cursors[first]
		if !fn(c.id, s.location(c.t, c.i)) {
			return
		}
		c.i++
		if !c.load() {
			cursors = append(cursors[:first], cursors[first+1:]...)
		}
	}
}

// cursor walks one table in order.
type cursor struct {
	t      *table
	i      int
	bucket int     // the bucket of entry i
	id     pack.ID // the blob ID of entry i
}

// load sets c.id for entry c.i, or reports that c is past the end.
func (c *cursor) load() bool {
	if c.i >= c.t.len() {
		return false
	}
	if c.t.keyLen < pack.IDSize {
		// The bytes the key leaves out are the bucket number.
		for int(c.t.starts[c.bucket+1]) <= c.i {
			c.bucket++
		}
		binary.BigEndian.PutUint64(c.id[:], uint64(c.bucket)<<(64-c.t.bucketBits))
	}
	copy(c.id[pack.IDSize-c.t.keyLen:], c.t.key(c.i))
	return true
}

func (s *state) compareCursors(a, b *cursor) int {
	return s.compare(a.id[:], a.t.packOrdinal(a.i), b.id[:], b.t.packOrdinal(b.i))
}
