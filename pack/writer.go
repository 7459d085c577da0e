package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Writer writes one pack: it streams sealed blobs to an io.Writer (a
// temporary file, so a pack never has to fit in memory) and ends the pack
// with its sealed header and HeaderLength. It validates each entry as a
// reader would, so it cannot write a pack that ReadHeader rejects.
// A Writer is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	s       Sealer
	blobs   []Blob
	ids     map[ID]struct{}
	size    int64 // bytes of blobs written so far
	hdrSize int64 // plaintext header size so far
	err     error // sticky: the first write error, or errFinished
}

var errFinished = errors.New("pack writer already finished")

// NewWriter returns a Writer that writes a pack to w, sealing its header
// with s.
func NewWriter(w io.Writer, s Sealer) *Writer {
	return &Writer{w: w, s: s, ids: make(map[ID]struct{}), hdrSize: 1}
}

// Has reports whether the pack holds blob id already: a pack holds each
// blob once.
func (w *Writer) Has(id ID) bool {
	_, ok := w.ids[id]
	return ok
}

// Add writes one sealed blob (as returned by Encoder.Encode) and records its
// entry. b.Length is set from len(sealed) and b.Offset from the pack's
// current size; the other fields must describe the blob. Add returns an
// error wrapping ErrPackFull when the blob does not fit, after which the
// Writer is still usable and can be finished. After a write error, every
// later call fails with it.
func (w *Writer) Add(b Blob, sealed []byte) error {
	if w.err != nil {
		return w.err
	}
	if int64(len(sealed)) > math.MaxUint32 {
		return fmt.Errorf("adding %s: sealed length %d does not fit a pack entry", b, len(sealed))
	}
	b.Offset = uint32(w.size)
	b.Length = uint32(len(sealed))
	if err := checkEntry(b); err != nil {
		return fmt.Errorf("adding blob to pack: %w", err)
	}
	if err := checkSealedLength(b, w.s.Overhead()); err != nil {
		return fmt.Errorf("adding blob to pack: %w", err)
	}
	if _, ok := w.ids[b.ID]; ok {
		return fmt.Errorf("adding %s: already in this pack", b)
	}
	if w.size+int64(b.Length) > math.MaxUint32 {
		return fmt.Errorf("adding %s: %w: blobs would exceed %d bytes", b, ErrPackFull, uint32(math.MaxUint32))
	}
	hdrSize := w.hdrSize + int64(entryLen(b.Compression))
	if hdrSize+int64(w.s.Overhead()) > MaxHeaderSize {
		return fmt.Errorf("adding %s: %w: header would exceed %d bytes", b, ErrPackFull, MaxHeaderSize)
	}
	if _, err := w.w.Write(sealed); err != nil {
		w.err = fmt.Errorf("writing %s to pack: %w", b, err)
		return w.err
	}
	w.size += int64(b.Length)
	w.hdrSize = hdrSize
	w.ids[b.ID] = struct{}{}
	w.blobs = append(w.blobs, b)
	return nil
}

// Count returns the number of blobs added so far.
func (w *Writer) Count() int { return len(w.blobs) }

// Size returns the bytes of sealed blobs written so far; Finish adds the
// header and its length.
func (w *Writer) Size() int64 { return w.size }

// Blobs returns a copy of the entries added so far, with their offsets.
func (w *Writer) Blobs() []Blob { return slices.Clone(w.blobs) }

// Finish writes the sealed header and HeaderLength and returns the size of
// the whole pack. A pack holds at least one blob. The Writer accepts no
// more blobs afterwards; it does not close the underlying io.Writer.
func (w *Writer) Finish() (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(w.blobs) == 0 {
		return 0, errors.New("finishing pack: no blobs added (an empty pack is invalid)")
	}
	w.err = errFinished
	sealed := w.s.Seal(nil, EncodeHeader(w.blobs))
	sealed = binary.LittleEndian.AppendUint32(sealed, uint32(len(sealed)))
	if _, err := w.w.Write(sealed); err != nil {
		w.err = fmt.Errorf("writing pack header: %w", err)
		return 0, w.err
	}
	return w.size + int64(len(sealed)), nil
}
