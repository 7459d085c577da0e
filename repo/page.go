package repo

import (
	"encoding/binary"
	"errors"
	"fmt"

	"strata/pack"
)

// This file encodes and decodes table pages (docs/design.md, "Table
// pages"): a table node's chunk list is a tree of pages, stored as blobs
// of type tree, so that no table has a ceiling and an hour rewrites only
// the pages it touches.

// pageLayout documents the bytes of a page; it is not used by the code.
//
//	Page       = Magic || Level || Count || Entry × Count
//	Magic      = "SPG1"                        (4 bytes)
//	Level      = 1 byte: 0 leaf, 1..MaxPageLevel inner
//	Count      = uvarint, 1..MaxPageEntries
//	LeafEntry  = ID (32) || Shared || SuffixLen || Suffix || Rows || Bytes
//	InnerEntry = ID (32) || Shared || SuffixLen || Suffix || Rows || Bytes || Chunks
//
// Shared, SuffixLen, Rows, Bytes and Chunks are uvarints. An entry's first
// key is the first Shared bytes of the previous entry's first key (none
// for the first entry of a page) followed by Suffix.
type pageLayout struct{}

var _ = pageLayout{}

// Page format constants (docs/design.md, "Table pages").
const (
	// PageMagic starts every page; a JSON tree starts with '{'.
	PageMagic = "SPG1"
	// MaxPageLevel bounds a page tree's height: with at least
	// pageMinFanout entries per inner page, far more chunks than a
	// table can have.
	MaxPageLevel = 8
	// MaxPageEntries bounds the entries of a page.
	MaxPageEntries = 1024
	// MaxPageSize bounds a page's encoded bytes.
	MaxPageSize = 64 << 10
	// MaxFirstKey bounds a first key in a page; writers store the first
	// MaxFirstKey bytes of a longer key (it only guides delta bases).
	MaxFirstKey = 4096
	// PageAverage is the average entries per page: an entry ends its
	// page when the last 4 bytes of its ID, little-endian, are 0 modulo
	// PageAverage, so page boundaries follow content and an unchanged run
	// of chunks keeps its pages.
	PageAverage = 64
)

// PageEntry is one entry of a page. In a leaf it is one chunk (ID is the
// data blob, Chunks is 1); in an inner page it is a child page (ID), the
// first key of the first chunk below it and the sums of the chunks below
// it.
type PageEntry struct {
	ID       pack.ID
	FirstKey string
	Rows     uint64
	Bytes    uint64
	Chunks   uint64
}

// Page is a decoded page.
type Page struct {
	Level   int // 0 for a leaf
	Entries []PageEntry
}

// errPage is the cause of every page decoding error.
var errPage = errors.New("invalid page")

// IsPage reports whether a tree blob's plaintext is a page rather than a
// JSON tree.
func IsPage(b []byte) bool {
	return len(b) >= len(PageMagic) && string(b[:len(PageMagic)]) == PageMagic
}

// pageBoundary reports whether an entry with this ID ends its page.
func pageBoundary(id pack.ID) bool {
	return binary.LittleEndian.Uint32(id[pack.IDSize-4:])%PageAverage == 0
}

// sharedPrefix is the length of the common prefix of a and b.
func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// uvarintLen is the encoded length of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// pageEntrySize is the length of appendPageEntry's encoding of e.
func pageEntrySize(level int, prev string, e *PageEntry) int {
	shared := sharedPrefix(prev, e.FirstKey)
	n := pack.IDSize + uvarintLen(uint64(shared)) + uvarintLen(uint64(len(e.FirstKey)-shared)) +
		len(e.FirstKey) - shared + uvarintLen(e.Rows) + uvarintLen(e.Bytes)
	if level > 0 {
		n += uvarintLen(e.Chunks)
	}
	return n
}

// appendPageEntry appends e's encoding, with its first key compressed
// against prev, to b.
func appendPageEntry(b []byte, level int, prev string, e *PageEntry) []byte {
	shared := sharedPrefix(prev, e.FirstKey)
	b = append(b, e.ID[:]...)
	b = binary.AppendUvarint(b, uint64(shared))
	b = binary.AppendUvarint(b, uint64(len(e.FirstKey)-shared))
	b = append(b, e.FirstKey[shared:]...)
	b = binary.AppendUvarint(b, e.Rows)
	b = binary.AppendUvarint(b, e.Bytes)
	if level > 0 {
		b = binary.AppendUvarint(b, e.Chunks)
	}
	return b
}

// EncodePage returns the encoding of p. It fails for a page a reader
// would reject.
func EncodePage(p *Page) ([]byte, error) {
	if p.Level < 0 || p.Level > MaxPageLevel || len(p.Entries) == 0 || len(p.Entries) > MaxPageEntries {
		return nil, fmt.Errorf("%w: level %d with %d entries", errPage, p.Level, len(p.Entries))
	}
	b := append([]byte(PageMagic), byte(p.Level))
	b = binary.AppendUvarint(b, uint64(len(p.Entries)))
	prev := ""
	for i := range p.Entries {
		e := &p.Entries[i]
		if len(e.FirstKey) > MaxFirstKey {
			return nil, fmt.Errorf("%w: first key of %d bytes", errPage, len(e.FirstKey))
		}
		b = appendPageEntry(b, p.Level, prev, e)
		prev = e.FirstKey
	}
	if len(b) > MaxPageSize {
		return nil, fmt.Errorf("%w: %d bytes", errPage, len(b))
	}
	return b, nil
}

// DecodePage parses and validates a page.
func DecodePage(b []byte) (*Page, error) {
	if len(b) > MaxPageSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", errPage, len(b), MaxPageSize)
	}
	if !IsPage(b) || len(b) < len(PageMagic)+2 {
		return nil, fmt.Errorf("%w: no page magic", errPage)
	}
	p := &Page{Level: int(b[len(PageMagic)])}
	if p.Level > MaxPageLevel {
		return nil, fmt.Errorf("%w: level %d", errPage, p.Level)
	}
	rest := b[len(PageMagic)+1:]
	count, rest, err := uvarint(rest)
	if err != nil || count == 0 || count > MaxPageEntries {
		return nil, fmt.Errorf("%w: entry count %d (%v)", errPage, count, err)
	}
	p.Entries = make([]PageEntry, count)
	prev := ""
	for i := range p.Entries {
		e := &p.Entries[i]
		if len(rest) < pack.IDSize {
			return nil, fmt.Errorf("%w: entry %d cut short", errPage, i)
		}
		copy(e.ID[:], rest)
		rest = rest[pack.IDSize:]
		var shared, suffix uint64
		if shared, rest, err = uvarint(rest); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", errPage, i, err)
		}
		if suffix, rest, err = uvarint(rest); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", errPage, i, err)
		}
		if shared > uint64(len(prev)) || suffix > uint64(len(rest)) || shared+suffix > MaxFirstKey {
			return nil, fmt.Errorf("%w: entry %d: key of %d shared and %d new bytes", errPage, i, shared, suffix)
		}
		e.FirstKey = prev[:shared] + string(rest[:suffix])
		rest = rest[suffix:]
		if e.Rows, rest, err = uvarint(rest); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", errPage, i, err)
		}
		if e.Bytes, rest, err = uvarint(rest); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", errPage, i, err)
		}
		e.Chunks = 1
		if p.Level > 0 {
			if e.Chunks, rest, err = uvarint(rest); err != nil {
				return nil, fmt.Errorf("%w: entry %d: %v", errPage, i, err)
			}
			if e.Chunks == 0 {
				return nil, fmt.Errorf("%w: entry %d has no chunks", errPage, i)
			}
		}
		prev = e.FirstKey
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last entry", errPage, len(rest))
	}
	return p, nil
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errors.New("bad uvarint")
	}
	return v, b[n:], nil
}

// Totals returns the entry that stands for p in its parent page, but for
// the ID: p's first key and the sums of the chunks below it.
func (p *Page) Totals() PageEntry {
	t := PageEntry{FirstKey: p.Entries[0].FirstKey}
	for _, e := range p.Entries {
		t.Rows += e.Rows
		t.Bytes += e.Bytes
		t.Chunks += e.Chunks
	}
	return t
}
