package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"

	"strata/pack"
)

// Layout of one in-memory entry (docs/design.md, "Index files", "In
// memory"). Entries are fixed-size records packed into one []byte per
// table, so a table of n entries costs n times the entry size: no padding,
// no pointers for the garbage collector to scan, no allocation per entry.
//
//	Key     30 bytes in the main table: bytes 2..31 of the blob ID (the
//	        first two select the bucket); 32 bytes in a pending run: the ID
//	Flags    1 byte    blob type (low 4 bits), compression (high 4 bits)
//	Pack     uint32    pack ordinal: position in state.packs
//	Offset   uint32    where the sealed blob starts in the pack
//	Length   uint32    sealed bytes in the pack
//	Base     uint32    delta blobs: position in the main table of an entry
//	                   of the base blob, or unresolvedBase|k when the base
//	                   ID is state.unresolved[k]; 0 for other blobs
//
// Integers are little-endian. RawLength is not kept: lookups do not need
// it, and the index file and the pack header both have it.
const (
	mainBucketBits = 16
	mainKeyLen     = pack.IDSize - mainBucketBits/8
	runKeyLen      = pack.IDSize

	valueFlags  = 0
	valuePack   = 1
	valueOffset = 5
	valueLength = 9
	valueBase   = 13
	valueSize   = 17

	mainEntrySize = mainKeyLen + valueSize // 47 bytes
	runEntrySize  = runKeyLen + valueSize  // 49 bytes

	// unresolvedBase marks a Base that is not a position in the main
	// table. It caps the main table at 1<<31 entries (about 100 GB).
	unresolvedBase = 1 << 31
	maxEntries     = unresolvedBase
)

// value is an entry without its key.
type value struct {
	flags  uint8
	pack   uint32
	offset uint32
	length uint32
	base   uint32
}

func flagsOf(t pack.BlobType, c pack.Compression) uint8 { return uint8(t) | uint8(c)<<4 }

func (v value) blobType() pack.BlobType       { return pack.BlobType(v.flags & 0x0f) }
func (v value) compression() pack.Compression { return pack.Compression(v.flags >> 4) }

func appendValue(dst []byte, v value) []byte {
	dst = append(dst, v.flags)
	dst = binary.LittleEndian.AppendUint32(dst, v.pack)
	dst = binary.LittleEndian.AppendUint32(dst, v.offset)
	dst = binary.LittleEndian.AppendUint32(dst, v.length)
	return binary.LittleEndian.AppendUint32(dst, v.base)
}

// table is a sorted array of entries: the main table, or a pending run.
// Entries are ordered by blob ID, then by pack ID; a table holds one entry
// at most for each blob and pack. The first bucketBits bits of a blob ID
// select its bucket, so a search starts within a bucket of about
// bucketSize entries. A table's bytes never change once it is published in
// a state, so a copied state can be read without the lock.
type table struct {
	b []byte
	// keyLen is how much of the blob ID an entry stores: the main table
	// leaves out the first two bytes, which are its bucket number.
	keyLen     int
	bucketBits int
	// starts holds 1<<bucketBits+1 positions: bucket k is the entries
	// from starts[k] to starts[k+1]. It is nil while the table is empty.
	starts []uint32
}

// bucketSize is about how many entries a run's bucket holds; the main
// table has 1<<16 buckets, so that its keys can leave out two bytes.
const bucketSize = 128

// newRun returns a pending run of the sorted entries in b, with its
// buckets.
func newRun(b []byte) table {
	t := table{b: b, keyLen: runKeyLen}
	n := t.len()
	t.bucketBits = bits.Len(uint(n / bucketSize))
	t.starts = make([]uint32, 1<<t.bucketBits+1)
	i := 0
	for k := range 1 << t.bucketBits {
		t.starts[k] = uint32(i)
		for i < n && t.bucketOf(t.key(i)) == k {
			i++
		}
	}
	t.starts[1<<t.bucketBits] = uint32(n)
	return t
}

func (t *table) width() int { return t.keyLen + valueSize }
func (t *table) len() int   { return len(t.b) / t.width() }

func (t *table) entry(i int) []byte {
	w := t.width()
	return t.b[i*w : (i+1)*w : (i+1)*w]
}

func (t *table) key(i int) []byte { return t.b[i*t.width():][:t.keyLen] }

func (t *table) value(i int) value {
	e := t.entry(i)[t.keyLen:]
	return value{
		flags:  e[valueFlags],
		pack:   binary.LittleEndian.Uint32(e[valuePack:]),
		offset: binary.LittleEndian.Uint32(e[valueOffset:]),
		length: binary.LittleEndian.Uint32(e[valueLength:]),
		base:   binary.LittleEndian.Uint32(e[valueBase:]),
	}
}

func (t *table) packOrdinal(i int) uint32 {
	return binary.LittleEndian.Uint32(t.entry(i)[t.keyLen+valuePack:])
}

func (t *table) setBase(i int, base uint32) {
	binary.LittleEndian.PutUint32(t.entry(i)[t.keyLen+valueBase:], base)
}

// bucketOf returns the bucket of a full blob ID (not a main table key).
func (t *table) bucketOf(id []byte) int {
	return int(binary.BigEndian.Uint64(id) >> (64 - t.bucketBits))
}

// idRange returns the entries whose blob ID is id.
func (t *table) idRange(id *pack.ID) (int, int) {
	if t.starts == nil {
		return 0, 0
	}
	k := t.bucketOf(id[:])
	lo, hi := int(t.starts[k]), int(t.starts[k+1])
	key := id[pack.IDSize-t.keyLen:]
	l := t.lowerBound(lo, hi, key)
	end := l
	for end < hi && bytes.Equal(t.key(end), key) {
		end++
	}
	return l, end
}

// lowerBound returns the first entry between lo and hi, in one bucket,
// whose key is not less than key. Keys are uniformly random hashes, so the
// bits of key after the bucket's tell about where it lies: the search
// starts there and widens its steps until it brackets key (typically
// within a few entries, so within one or two cache lines), then bisects. A
// plain binary search would touch a new cache line at almost every step.
func (t *table) lowerBound(lo, hi int, key []byte) int {
	if lo >= hi {
		return lo
	}
	// The bits of key that the bucket number has not used yet.
	rest := binary.BigEndian.Uint64(key) << (t.bucketBits - 8*(pack.IDSize-t.keyLen))
	g, _ := bits.Mul64(rest, uint64(hi-lo))
	guess := lo + int(g)
	// Find l <= answer <= h.
	l, h := lo, hi
	if compareKeys(t.key(guess), key) < 0 {
		l = guess + 1
		for step := 1; ; step *= 2 {
			next := guess + step
			if next >= hi {
				break
			}
			if compareKeys(t.key(next), key) >= 0 {
				h = next
				break
			}
			l = next + 1
		}
	} else {
		h = guess
		for step := 1; ; step *= 2 {
			next := guess - step
			if next < lo {
				break
			}
			if compareKeys(t.key(next), key) < 0 {
				l = next + 1
				break
			}
			h = next
		}
	}
	for l < h {
		m := int(uint(l+h) >> 1)
		if compareKeys(t.key(m), key) < 0 {
			l = m + 1
		} else {
			h = m
		}
	}
	return l
}

// compareKeys is bytes.Compare for keys of 8 bytes or more. Keys are
// random, so the first 8 bytes almost always decide, and comparing them as
// one integer is several times faster than a call to bytes.Compare.
func compareKeys(a, b []byte) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b)); c != 0 {
		return c
	}
	return bytes.Compare(a[8:], b[8:])
}

// bucketAt returns the bucket of entry i.
func (t *table) bucketAt(i int) int {
	// Buckets hold about equally many entries, so entry i is in bucket
	// i*buckets/len or a few buckets away; walking there touches a cache
	// line or two of starts, where a binary search would touch a dozen.
	k := i << t.bucketBits / t.len()
	for int(t.starts[k]) > i {
		k--
	}
	for int(t.starts[k+1]) <= i {
		k++
	}
	return k
}

// id returns the blob ID of entry i.
func (t *table) id(i int) pack.ID {
	var id pack.ID
	if t.keyLen < pack.IDSize {
		// The bytes the key leaves out are the bucket number.
		binary.BigEndian.PutUint64(id[:], uint64(t.bucketAt(i))<<(64-t.bucketBits))
	}
	copy(id[pack.IDSize-t.keyLen:], t.key(i))
	return id
}
