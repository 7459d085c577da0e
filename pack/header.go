package pack

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Layout of a pack header's plaintext (docs/design.md, "Packs"). The header
// is one version byte followed by one entry per blob, in the order of the
// blobs in the pack, up to the end of the plaintext:
//
//	Version      1 byte   = HeaderVersion
//	Entry*
//	  Type         1 byte   BlobType: 0 data, 1 tree
//	  Compression  1 byte   0 raw, 1 zstd, 2 delta
//	  Length       uint32   sealed bytes of the blob in the pack
//	  RawLength    uint32   bytes of the plaintext
//	  ID           32 bytes blob ID
//	  Base         32 bytes base blob ID; present only when Compression = 2
//
// Offsets are not stored: a blob starts where the one before it ends, and
// the first at offset 0.
const (
	HeaderVersion = 1

	entryType        = 0
	entryCompression = 1
	entryLength      = 2
	entryRawLength   = 6
	entryID          = 10
	entryBase        = entryID + IDSize
	entrySize        = entryBase          // 42 bytes for raw and zstd blobs
	deltaEntrySize   = entryBase + IDSize // 74 bytes for delta blobs
)

// EncodeHeader returns the plaintext header listing blobs, in their order.
// Offsets are not encoded; Base is encoded only for delta blobs. It does not
// validate blobs (Writer.Add does).
func EncodeHeader(blobs []Blob) []byte {
	size := 1
	for _, b := range blobs {
		size += entryLen(b.Compression)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, HeaderVersion)
	for _, b := range blobs {
		buf = append(buf, byte(b.Type), byte(b.Compression))
		buf = binary.LittleEndian.AppendUint32(buf, b.Length)
		buf = binary.LittleEndian.AppendUint32(buf, b.RawLength)
		buf = append(buf, b.ID[:]...)
		if b.Compression == Delta {
			buf = append(buf, b.Base[:]...)
		}
	}
	return buf
}

func entryLen(c Compression) int {
	if c == Delta {
		return deltaEntrySize
	}
	return entrySize
}

// DecodeHeader parses a plaintext header and fills in each blob's Offset.
// headerOffset is where the sealed header starts in the pack file; the blobs
// must fill the pack exactly up to it. Every error wraps ErrInvalidHeader
// and names the entry at fault (counted from 0). DecodeHeader cannot check
// lengths against a Sealer's overhead; ReadHeader does that too.
func DecodeHeader(plain []byte, headerOffset int64) ([]Blob, error) {
	if headerOffset < 0 || headerOffset > math.MaxUint32 {
		return nil, fmt.Errorf("%w: header offset %d is outside 0..%d", ErrInvalidHeader, headerOffset, uint32(math.MaxUint32))
	}
	if len(plain) == 0 {
		return nil, fmt.Errorf("%w: empty header", ErrInvalidHeader)
	}
	if plain[0] != HeaderVersion {
		return nil, fmt.Errorf("%w: unknown version %d (this strata reads version %d)", ErrInvalidHeader, plain[0], HeaderVersion)
	}
	rest := plain[1:]
	blobs := make([]Blob, 0, len(rest)/entrySize)
	seen := make(map[ID]int, len(rest)/entrySize)
	var offset int64
	for i := 0; len(rest) > 0; i++ {
		b, n, err := decodeEntry(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidHeader, i, err)
		}
		rest = rest[n:]
		if err := checkEntry(b); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidHeader, i, err)
		}
		if j, ok := seen[b.ID]; ok {
			return nil, fmt.Errorf("%w: entry %d: blob %s is also entry %d", ErrInvalidHeader, i, b.ID, j)
		}
		seen[b.ID] = i
		if end := offset + int64(b.Length); end > headerOffset {
			return nil, fmt.Errorf("%w: entry %d: blob at offset %d with length %d runs past the header at offset %d",
				ErrInvalidHeader, i, offset, b.Length, headerOffset)
		}
		b.Offset = uint32(offset)
		offset += int64(b.Length)
		blobs = append(blobs, b)
	}
	if len(blobs) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrInvalidHeader)
	}
	if offset != headerOffset {
		return nil, fmt.Errorf("%w: blobs end at offset %d but the header starts at offset %d", ErrInvalidHeader, offset, headerOffset)
	}
	return blobs, nil
}

// decodeEntry parses the entry at the start of buf and returns its length.
func decodeEntry(buf []byte) (b Blob, n int, err error) {
	if len(buf) < entrySize {
		return b, 0, fmt.Errorf("truncated: %d bytes left, an entry has at least %d", len(buf), entrySize)
	}
	b.Type = BlobType(buf[entryType])
	b.Compression = Compression(buf[entryCompression])
	b.Length = binary.LittleEndian.Uint32(buf[entryLength:])
	b.RawLength = binary.LittleEndian.Uint32(buf[entryRawLength:])
	b.ID = ID(buf[entryID:entryBase])
	if b.Compression != Delta {
		return b, entrySize, nil
	}
	if len(buf) < deltaEntrySize {
		return b, 0, fmt.Errorf("truncated: %d bytes left, a delta entry has %d", len(buf), deltaEntrySize)
	}
	b.Base = ID(buf[entryBase:deltaEntrySize])
	return b, deltaEntrySize, nil
}

// checkEntry applies the rules for one entry that need no Sealer.
func checkEntry(b Blob) error {
	switch {
	case !b.Type.valid():
		return fmt.Errorf("unknown blob type %d", uint8(b.Type))
	case !b.Compression.valid():
		return fmt.Errorf("unknown compression %d", uint8(b.Compression))
	case b.ID.IsNull():
		return fmt.Errorf("null blob ID")
	case b.RawLength > MaxBlobSize:
		return fmt.Errorf("blob %s: plaintext length %d exceeds the maximum blob size %d", b.ID.Short(), b.RawLength, MaxBlobSize)
	case b.Compression == Delta && b.Base.IsNull():
		return fmt.Errorf("delta blob %s: null base ID", b.ID.Short())
	case b.Compression == Delta && b.Base == b.ID:
		return fmt.Errorf("delta blob %s: is its own base", b.ID.Short())
	case b.Compression != Delta && !b.Base.IsNull():
		return fmt.Errorf("%s blob %s: has a base but is not a delta blob", b.Compression, b.ID.Short())
	}
	return nil
}

// checkSealedLength applies the rules that relate Length, the Sealer's
// overhead and RawLength: a raw blob's payload is its plaintext, and a
// compressed payload is stored only when it is smaller than the plaintext.
func checkSealedLength(b Blob, overhead int) error {
	if int64(b.Length) < int64(overhead) {
		return fmt.Errorf("blob %s: sealed length %d is shorter than the sealing overhead %d", b.ID.Short(), b.Length, overhead)
	}
	payload := int64(b.Length) - int64(overhead)
	switch {
	case b.Compression == Raw && payload != int64(b.RawLength):
		return fmt.Errorf("raw blob %s: sealed length %d does not match plaintext length %d plus overhead %d",
			b.ID.Short(), b.Length, b.RawLength, overhead)
	case b.Compression != Raw && payload >= int64(b.RawLength):
		return fmt.Errorf("%s blob %s: stored payload of %d bytes is not smaller than its plaintext of %d bytes",
			b.Compression, b.ID.Short(), payload, b.RawLength)
	}
	return nil
}
