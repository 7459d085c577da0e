package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"strata/pack"
)

// Layout of an index file's plaintext (docs/design.md, "Index files"). The
// repository seals it and names the file by the BLAKE3-256 of the sealed
// bytes. Uvarints are in their shortest form; Decode rejects any other, so
// a decoded file encodes to the same bytes.
//
//	Magic            8 bytes  "STRATAIX"
//	Version          1 byte   = FileVersion
//	SupersedesCount  uvarint
//	Supersedes*      32 bytes each: IDs of the index files this one replaces
//	PackCount        uvarint
//	Pack*
//	  PackID         32 bytes
//	  BlobCount      uvarint
//	  Blob*
//	    Type         1 byte   pack.BlobType: 0 data, 1 tree
//	    Compression  1 byte   pack.Compression: 0 raw, 1 zstd, 2 delta
//	    Offset       uvarint  where the sealed blob starts in the pack
//	    Length       uvarint  sealed bytes in the pack
//	    RawLength    uvarint  bytes of the plaintext
//	    ID           32 bytes blob ID
//	    Base         32 bytes base blob ID; present only when Compression = 2
const (
	fileMagic = "STRATAIX"

	// FileVersion is the only version of the layout this package reads
	// and writes.
	FileVersion = 1

	// The fewest bytes a pack and a blob take, which bound the counts a
	// file can claim by the bytes it has left.
	minPackSize = pack.IDSize + 1         // PackID, BlobCount
	minBlobSize = 1 + 1 + 3 + pack.IDSize // Type, Compression, 3 uvarints, ID
)

// The bounds of an index file (docs/design.md, "Index files", "Size"),
// which let a reader refuse a larger file unread.
const (
	// MaxFileEntries is how many blob entries a writer gathers in one
	// file before it starts the next. A pack is never split across
	// files, so a file holds fewer than MaxFileEntries entries before its
	// last pack, and that pack at most what a pack header holds
	// (pack.MaxHeaderSize / 42 bytes, about 400,000 entries).
	MaxFileEntries = 1 << 16

	// MaxFileSize bounds the plaintext of an index file. An entry takes
	// at most 48 bytes (80 for a delta blob) against the 42 (74) of its
	// pack header entry, and a pack 33 bytes more, so the entries come to
	// less than 6 MiB + 2 MiB + 19.2 MiB; the rest is room for
	// Supersedes, about 1.2 million superseded files. Decode refuses a
	// larger plaintext, and the repository does not read a larger file.
	MaxFileSize = 64 << 20
)

// File is the content of one index file: where the blobs of some packs lie.
type File struct {
	// Supersedes lists the file IDs of the index files this one
	// replaces. A reader that has loaded a file ignores every file it
	// supersedes (docs/design.md, "Superseding").
	Supersedes []pack.ID   `json:"supersedes"`
	Packs      []PackBlobs `json:"packs"`
}

// PackBlobs lists the blobs of one pack, as its header does.
type PackBlobs struct {
	PackID pack.ID     `json:"pack_id"`
	Blobs  []pack.Blob `json:"blobs"`
}

// Encode returns the plaintext of f. It does not validate f; Decode does.
// A blob's Base is written only for delta blobs.
func Encode(f *File) []byte {
	size := len(fileMagic) + 1 +
		uvarintLen(uint64(len(f.Supersedes))) + len(f.Supersedes)*pack.IDSize +
		uvarintLen(uint64(len(f.Packs)))
	for _, p := range f.Packs {
		size += pack.IDSize + uvarintLen(uint64(len(p.Blobs)))
		for _, b := range p.Blobs {
			size += 2 + pack.IDSize +
				uvarintLen(uint64(b.Offset)) + uvarintLen(uint64(b.Length)) + uvarintLen(uint64(b.RawLength))
			if b.Compression == pack.Delta {
				size += pack.IDSize
			}
		}
	}

	buf := make([]byte, 0, size)
	buf = append(buf, fileMagic...)
	buf = append(buf, FileVersion)
	buf = binary.AppendUvarint(buf, uint64(len(f.Supersedes)))
	for _, id := range f.Supersedes {
		buf = append(buf, id[:]...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(f.Packs)))
	for _, p := range f.Packs {
		buf = append(buf, p.PackID[:]...)
		buf = binary.AppendUvarint(buf, uint64(len(p.Blobs)))
		for _, b := range p.Blobs {
			buf = append(buf, byte(b.Type), byte(b.Compression))
			buf = binary.AppendUvarint(buf, uint64(b.Offset))
			buf = binary.AppendUvarint(buf, uint64(b.Length))
			buf = binary.AppendUvarint(buf, uint64(b.RawLength))
			buf = append(buf, b.ID[:]...)
			if b.Compression == pack.Delta {
				buf = append(buf, b.Base[:]...)
			}
		}
	}
	return buf
}

// Decode parses and validates the plaintext of an index file. data is
// untrusted: every error wraps ErrInvalidFile and names the pack and blob
// at fault, counted from 0. Counts are checked against the bytes left
// before anything is allocated by them, so Decode allocates no more than a
// small multiple of len(data).
func Decode(data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d an index file holds", ErrInvalidFile, len(data), MaxFileSize)
	}
	if !bytes.HasPrefix(data, []byte(fileMagic)) {
		return nil, fmt.Errorf("%w: does not start with %q", ErrInvalidFile, fileMagic)
	}
	r := reader{buf: data[len(fileMagic):]}
	version, err := r.byte("version")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	if version != FileVersion {
		return nil, fmt.Errorf("%w: unknown version %d (this strata reads version %d; a later version needs a newer strata)",
			ErrInvalidFile, version, FileVersion)
	}

	f := new(File)
	n, err := r.count("supersedes count", pack.IDSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	f.Supersedes = make([]pack.ID, n)
	seen := make(map[pack.ID]int, n)
	for i := range f.Supersedes {
		id, err := r.id("superseded file ID")
		if err == nil {
			err = checkID(id, seen, i, "superseded file")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: superseded file %d: %w", ErrInvalidFile, i, err)
		}
		f.Supersedes[i] = id
	}

	n, err = r.count("pack count", minPackSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	f.Packs = make([]PackBlobs, n)
	seen = make(map[pack.ID]int, n)
	for i := range f.Packs {
		p := &f.Packs[i]
		if p.PackID, err = r.id("pack ID"); err == nil {
			err = checkID(p.PackID, seen, i, "pack")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: pack %d: %w", ErrInvalidFile, i, err)
		}
		if p.Blobs, err = r.blobs(); err != nil {
			return nil, fmt.Errorf("%w: pack %d (%s): %w", ErrInvalidFile, i, p.PackID.Short(), err)
		}
	}
	if len(r.buf) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last pack", ErrInvalidFile, len(r.buf))
	}
	return f, nil
}

// checkID rejects a null ID and one already seen in the same list.
func checkID(id pack.ID, seen map[pack.ID]int, i int, what string) error {
	if id.IsNull() {
		return fmt.Errorf("null ID")
	}
	if j, ok := seen[id]; ok {
		return fmt.Errorf("%s is also %s %d", id, what, j)
	}
	seen[id] = i
	return nil
}

// reader consumes the fields of an index file; each error says which field
// was cut short or malformed.
type reader struct{ buf []byte }

func (r *reader) byte(what string) (byte, error) {
	if len(r.buf) < 1 {
		return 0, fmt.Errorf("truncated before the %s", what)
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b, nil
}

func (r *reader) id(what string) (pack.ID, error) {
	if len(r.buf) < pack.IDSize {
		return pack.ID{}, fmt.Errorf("truncated in the %s: %d of %d bytes", what, len(r.buf), pack.IDSize)
	}
	id := pack.ID(r.buf[:pack.IDSize])
	r.buf = r.buf[pack.IDSize:]
	return id, nil
}

func (r *reader) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(r.buf)
	switch {
	case n == 0:
		return 0, fmt.Errorf("truncated in the %s", what)
	case n < 0:
		return 0, fmt.Errorf("%s overflows 64 bits", what)
	case n != uvarintLen(v):
		return 0, fmt.Errorf("%s %d is not in its shortest uvarint form", what, v)
	}
	r.buf = r.buf[n:]
	return v, nil
}

// uint32 reads a uvarint that must fit a uint32.
func (r *reader) uint32(what string) (uint32, error) {
	v, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("%s %d exceeds %d", what, v, uint32(math.MaxUint32))
	}
	return uint32(v), nil
}

// count reads a count of items that take at least minSize bytes each, and
// rejects one that the remaining bytes cannot hold, so that no allocation
// sized by a count can exceed the size of the file.
func (r *reader) count(what string, minSize int) (int, error) {
	v, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.buf)/minSize) {
		return 0, fmt.Errorf("%s %d exceeds what the remaining %d bytes can hold", what, v, len(r.buf))
	}
	return int(v), nil
}

// blobs reads the BlobCount and blobs of one pack.
func (r *reader) blobs() ([]pack.Blob, error) {
	n, err := r.count("blob count", minBlobSize)
	if err != nil {
		return nil, err
	}
	blobs := make([]pack.Blob, n)
	seen := make(map[pack.ID]int, n)
	for i := range blobs {
		if err := r.blob(&blobs[i]); err != nil {
			return nil, fmt.Errorf("blob %d: %w", i, err)
		}
		if err := checkBlob(blobs[i]); err != nil {
			return nil, fmt.Errorf("blob %d: %w", i, err)
		}
		if j, ok := seen[blobs[i].ID]; ok {
			return nil, fmt.Errorf("blob %d: %s is also blob %d", i, blobs[i].ID, j)
		}
		seen[blobs[i].ID] = i
	}
	return blobs, nil
}

func (r *reader) blob(b *pack.Blob) error {
	t, err := r.byte("type")
	if err != nil {
		return err
	}
	c, err := r.byte("compression")
	if err != nil {
		return err
	}
	b.Type, b.Compression = pack.BlobType(t), pack.Compression(c)
	if b.Offset, err = r.uint32("offset"); err != nil {
		return err
	}
	if b.Length, err = r.uint32("length"); err != nil {
		return err
	}
	if b.RawLength, err = r.uint32("raw length"); err != nil {
		return err
	}
	if b.ID, err = r.id("blob ID"); err != nil {
		return err
	}
	if b.Compression == pack.Delta {
		if b.Base, err = r.id("base ID"); err != nil {
			return err
		}
	}
	return nil
}

// checkBlob applies the rules of docs/design.md, "Index files", to one
// blob; they are those of a pack header entry, plus a known offset.
func checkBlob(b pack.Blob) error {
	switch {
	case b.Type != pack.DataBlob && b.Type != pack.TreeBlob:
		return fmt.Errorf("unknown blob type %d", uint8(b.Type))
	case b.Compression > pack.Delta:
		return fmt.Errorf("unknown compression %d", uint8(b.Compression))
	case b.ID.IsNull():
		return fmt.Errorf("null blob ID")
	case b.Length == 0:
		return fmt.Errorf("blob %s: length 0", b.ID.Short())
	case uint64(b.Offset)+uint64(b.Length) > math.MaxUint32:
		return fmt.Errorf("blob %s: ends at offset %d, past the largest pack of %d bytes",
			b.ID.Short(), uint64(b.Offset)+uint64(b.Length), uint32(math.MaxUint32))
	case b.RawLength > pack.MaxBlobSize:
		return fmt.Errorf("blob %s: plaintext length %d exceeds the maximum blob size %d", b.ID.Short(), b.RawLength, pack.MaxBlobSize)
	case b.Compression == pack.Delta && b.Base.IsNull():
		return fmt.Errorf("delta blob %s: null base ID", b.ID.Short())
	case b.Compression == pack.Delta && b.Base == b.ID:
		return fmt.Errorf("delta blob %s: is its own base", b.ID.Short())
	}
	return nil
}

// uvarintLen is the length of v's shortest uvarint form.
func uvarintLen(v uint64) int {
	return max(1, (bits.Len64(v)+6)/7)
}
