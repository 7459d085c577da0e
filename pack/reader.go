package pack

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Layout of a pack file (docs/design.md, "Packs"):
//
//	Sealed blob 1 || ... || Sealed blob N || Sealed header || HeaderLength
//
// HeaderLength is a uint32 (little-endian) holding the length of the sealed
// header. The sealed header is Seal(header plaintext, see header.go).
const (
	// HeaderLengthSize is the size of the HeaderLength field ending a pack.
	HeaderLengthSize = 4

	// MaxHeaderSize is the largest sealed header a reader accepts (and a
	// Writer produces): room for over 200,000 entries, yet small enough
	// that a damaged HeaderLength cannot make a reader allocate much.
	MaxHeaderSize = 16 << 20

	// MaxBlobsSize is the most bytes the sealed blobs of a pack take: the
	// sum of their lengths fits a uint32.
	MaxBlobsSize = 1<<32 - 1

	// headerTail is how much of a pack's end ReadHeader loads first: enough
	// for the header of a typical pack, so one ranged read usually does.
	headerTail = 16 << 10
)

// MaxSize returns the largest size of a pack whose blobs end at
// blobsEnd (the end of the last blob an index lists; 0 when unknown, for
// the format's bound): those blobs, the largest header and its length. A
// larger file is not a pack that an index can describe, and a reader that
// loads packs whole refuses it unread.
func MaxSize(blobsEnd int64) int64 {
	if blobsEnd <= 0 || blobsEnd > MaxBlobsSize {
		blobsEnd = MaxBlobsSize
	}
	return blobsEnd + MaxHeaderSize + HeaderLengthSize
}

// ReadHeader loads, opens and validates the header of a stored pack of the
// given size. load returns length bytes of the pack starting at offset; it
// is called once for the last min(size, 16 KiB) bytes, and once more only if
// the header is longer than that. The returned blobs have their Offset set
// and passed every check of DecodeHeader and of Length against s.Overhead.
// Errors from load are wrapped; every other error wraps ErrInvalidHeader.
func ReadHeader(load func(offset, length int64) ([]byte, error), size int64, s Sealer) ([]Blob, error) {
	if size < HeaderLengthSize {
		return nil, fmt.Errorf("%w: pack of %d bytes is shorter than the %d-byte header length field",
			ErrInvalidHeader, size, HeaderLengthSize)
	}
	tailLen := min(size, headerTail)
	tail, err := loadExactly(load, size-tailLen, tailLen)
	if err != nil {
		return nil, err
	}
	hdrLen := int64(binary.LittleEndian.Uint32(tail[tailLen-HeaderLengthSize:]))
	overhead := int64(s.Overhead())
	switch {
	case hdrLen > size-HeaderLengthSize:
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes of the pack before the length field",
			ErrInvalidHeader, hdrLen, size-HeaderLengthSize)
	case hdrLen > MaxHeaderSize:
		return nil, fmt.Errorf("%w: header length %d exceeds the maximum header size %d", ErrInvalidHeader, hdrLen, MaxHeaderSize)
	case hdrLen < overhead+1:
		return nil, fmt.Errorf("%w: header length %d is too short for a sealed header (at least %d bytes)",
			ErrInvalidHeader, hdrLen, overhead+1)
	}
	hdrOffset := size - HeaderLengthSize - hdrLen
	var sealed []byte
	if hdrLen+HeaderLengthSize <= tailLen {
		sealed = tail[tailLen-HeaderLengthSize-hdrLen : tailLen-HeaderLengthSize]
	} else {
		sealed, err = loadExactly(load, hdrOffset, hdrLen)
		if err != nil {
			return nil, err
		}
	}
	plain, err := s.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidHeader, err)
	}
	blobs, err := DecodeHeader(plain, hdrOffset)
	if err != nil {
		return nil, err
	}
	for i, b := range blobs {
		if err := checkSealedLength(b, int(overhead)); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrInvalidHeader, i, err)
		}
	}
	return blobs, nil
}

// loadExactly calls load and insists on getting what it asked for, so a
// short read is reported here rather than as a confusing decode error.
func loadExactly(load func(offset, length int64) ([]byte, error), offset, length int64) ([]byte, error) {
	buf, err := load(offset, length)
	if err != nil {
		return nil, fmt.Errorf("loading pack bytes %d..%d: %w", offset, offset+length, err)
	}
	if int64(len(buf)) != length {
		return nil, fmt.Errorf("loading pack bytes %d..%d: got %d bytes, want %d: %w",
			offset, offset+length, len(buf), length, io.ErrUnexpectedEOF)
	}
	return buf, nil
}
