package index

import (
	"bytes"

	"strata/pack"
)

// Pending entries are kept as sorted runs, one per AddPack, merged like the
// levels of a log-structured merge tree: while a run is at least
// 1/runRatio the size of the one before it, the two become one. Each run
// is then more than runRatio times smaller than the one before, so there
// are only O(log n) runs for a lookup to search, and each pending entry is
// copied O(log n) times. A Go map would be simpler, but costs over 100
// bytes an entry, which a large backup would notice.
const runRatio = 4

// mergeRuns restores the rule that each run is more than runRatio times
// smaller than the one before it, after a run was appended.
func (s *state) mergeRuns() {
	for n := len(s.runs); n >= 2 && s.runs[n-2].len() <= runRatio*s.runs[n-1].len(); n = len(s.runs) {
		s.mergeLastRuns()
	}
}

// mergeLastRuns replaces the last two runs with their merge. Pack ordinals
// and Base fields are copied as they are: a run's Base never points into a
// run.
func (s *state) mergeLastRuns() {
	n := len(s.runs)
	a, b := s.runs[n-2], s.runs[n-1]
	out := make([]byte, 0, len(a.b)+len(b.b))
	i, j, na, nb := 0, 0, a.len(), b.len()
	for i < na || j < nb {
		if j == nb || i < na && s.compare(a.key(i), a.packOrdinal(i), b.key(j), b.packOrdinal(j)) < 0 {
			out = append(out, a.entry(i)...)
			i++
		} else {
			out = append(out, b.entry(j)...)
			j++
		}
	}
	s.runs[n-2] = newRun(out)
	s.runs[n-1] = table{}
	s.runs = s.runs[:n-1]
}

// compare orders two entries with keys of the same length: by key, then by
// the ID (not the ordinal) of their packs, so that the order does not
// depend on the order packs were added in.
func (s *state) compare(keyA []byte, packA uint32, keyB []byte, packB uint32) int {
	if c := compareKeys(keyA, keyB); c != 0 {
		return c
	}
	return s.comparePacks(packA, packB)
}

// comparePacks orders two pack ordinals by the IDs of their packs.
func (s *state) comparePacks(a, b uint32) int {
	return bytes.Compare(s.packs[a][:], s.packs[b][:])
}

// compact merges all pending entries into a new main table, then rewrites
// the Base of every delta entry: positions in the old main table move to
// the new, and bases that were unresolved are looked up again.
func (x *Index) compact() {
	s := &x.s
	if len(s.runs) == 0 {
		return
	}
	for len(s.runs) > 1 {
		s.mergeLastRuns()
	}
	old, run := s.main, s.runs[0]
	n, p := old.len(), run.len()

	const buckets = 1 << mainBucketBits
	next := table{
		b:          make([]byte, 0, (n+p)*mainEntrySize),
		keyLen:     mainKeyLen,
		bucketBits: mainBucketBits,
		starts:     make([]uint32, buckets+1),
	}
	moved := make([]uint32, n) // old main position to new position
	i, j, o := 0, 0, 0
	for k := range buckets {
		next.starts[k] = uint32(o)
		iEnd := i // while old is empty
		if old.starts != nil {
			iEnd = int(old.starts[k+1])
		}
		jEnd := j
		for jEnd < p && next.bucketOf(run.key(jEnd)) == k {
			jEnd++
		}
		for ; i < iEnd || j < jEnd; o++ {
			if j == jEnd || i < iEnd && s.compare(old.key(i), old.packOrdinal(i), run.key(j)[runKeyLen-mainKeyLen:], run.packOrdinal(j)) < 0 {
				next.b = append(next.b, old.entry(i)...)
				moved[i] = uint32(o)
				i++
			} else {
				next.b = append(next.b, run.entry(j)[runKeyLen-mainKeyLen:]...)
				j++
			}
		}
	}
	next.starts[buckets] = uint32(o)

	var unresolved []pack.ID
	for e := range o {
		v := next.value(e)
		switch {
		case v.compression() != pack.Delta:
		case v.base&unresolvedBase == 0:
			next.setBase(e, moved[v.base])
		default:
			base := s.unresolved[v.base&^unresolvedBase]
			if lo, hi := next.idRange(&base); lo < hi {
				next.setBase(e, uint32(lo))
			} else {
				next.setBase(e, unresolvedBase|uint32(len(unresolved)))
				unresolved = append(unresolved, base)
			}
		}
	}

	s.main, s.runs, s.unresolved = next, nil, unresolved
	x.pending = 0
}
