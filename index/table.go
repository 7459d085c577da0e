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
	bucketBytes = 2
	buckets     = 1 << (8 * bucketBytes)
	mainKeyLen  = pack.IDSize - bucketBytes
	runKeyLen   = pack.IDSize

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

// table is a sorted array of entries with keys of keyLen bytes. Entries are
// ordered by blob ID, then by pack ID; a table holds one entry at most for
// each blob and pack. A table's bytes never change once it is published in
// a state, so a copied state can be read without the lock.
type table struct {
	b      []byte
	keyLen int
}

func (t table) width() int { return t.keyLen + valueSize }
func (t table) len() int   { return len(t.b) / t.width() }

func (t table) entry(i int) []byte {
	w := t.width()
	return t.b[i*w : (i+1)*w : (i+1)*w]
}

func (t table) key(i int) []byte { return t.b[i*t.width():][:t.keyLen] }

func (t table) value(i int) value {
	e := t.entry(i)[t.keyLen:]
	return value{
		flags:  e[valueFlags],
		pack:   binary.LittleEndian.Uint32(e[valuePack:]),
		offset: binary.LittleEndian.Uint32(e[valueOffset:]),
		length: binary.LittleEndian.Uint32(e[valueLength:]),
		base:   binary.LittleEndian.Uint32(e[valueBase:]),
	}
}

func (t table) packOrdinal(i int) uint32 {
	return binary.LittleEndian.Uint32(t.entry(i)[t.keyLen+valuePack:])
}

func (t table) setBase(i int, base uint32) {
	binary.LittleEndian.PutUint32(t.entry(i)[t.keyLen+valueBase:], base)
}

// equalRange returns the entries between lo and hi whose key is key, or
// where key would go if there are none.
func (t table) equalRange(lo, hi int, key []byte) (int, int) {
	l := t.lowerBound(lo, hi, key)
	end := l
	for end < hi && bytes.Equal(t.key(end), key) {
		end++
	}
	return l, end
}

// lowerBound returns the first entry between lo and hi whose key is not
// less than key. Keys are uniformly random hashes, so the first 8 bytes of
// key tell about where it lies: the search starts there and widens its
// steps until it brackets key (typically within a few entries, so within
// one or two cache lines), then bisects. A plain binary search would touch
// a new cache line, and often a new page, at almost every step.
func (t table) lowerBound(lo, hi int, key []byte) int {
	if lo >= hi {
		return lo
	}
	g, _ := bits.Mul64(binary.BigEndian.Uint64(key), uint64(hi-lo))
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

// runRange returns the entries of a pending run whose ID is id.
func (t table) runRange(id *pack.ID) (int, int) { return t.equalRange(0, t.len(), id[:]) }

// mainTable is the main table: every entry not pending, in buckets by the
// first two bytes of the blob ID, which its keys leave out.
type mainTable struct {
	table
	// starts holds buckets+1 positions: bucket k is the entries from
	// starts[k] to starts[k+1]. It is nil while the table is empty.
	starts []uint32
}

func bucketOf(id []byte) int { return int(id[0])<<8 | int(id[1]) }

func (m *mainTable) bucket(k int) (int, int) {
	if m.starts == nil {
		return 0, 0
	}
	return int(m.starts[k]), int(m.starts[k+1])
}

// idRange returns the entries whose ID is id.
func (m *mainTable) idRange(id *pack.ID) (int, int) {
	lo, hi := m.bucket(bucketOf(id[:]))
	return m.equalRange(lo, hi, id[bucketBytes:])
}

// id returns the blob ID of entry i.
func (m *mainTable) id(i int) pack.ID {
	// Buckets hold about equally many entries, so entry i is in bucket
	// i*buckets/len or a few buckets away; walking there touches a cache
	// line or two of starts, where a binary search would touch a dozen.
	k := i * buckets / m.len()
	for int(m.starts[k]) > i {
		k--
	}
	for int(m.starts[k+1]) <= i {
		k++
	}
	var id pack.ID
	id[0], id[1] = byte(k>>8), byte(k)
	copy(id[bucketBytes:], m.key(i))
	return id
}
