package backend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// RewindReader is the content of a Save: its length is known before the
// first byte is read, and it can start over from the first byte, so that a
// failed upload can be tried again (package retry) and a backend can send
// the length before the bytes (an HTTP Content-Length) or read the
// content twice (a checksum, then the upload).
type RewindReader interface {
	io.Reader
	// Length is the number of bytes the content holds, from its start.
	Length() int64
	// Rewind makes the next Read start again at the first byte.
	Rewind() error
}

// ByteReader is a RewindReader over a byte slice; it does not copy the
// slice, which must not change until the Save returns.
type ByteReader struct {
	rd   *bytes.Reader
	data []byte
}

// NewByteReader returns a RewindReader of data.
func NewByteReader(data []byte) *ByteReader {
	return &ByteReader{rd: bytes.NewReader(data), data: data}
}

func (r *ByteReader) Read(p []byte) (int, error) { return r.rd.Read(p) }

// Length implements RewindReader.
func (r *ByteReader) Length() int64 { return int64(len(r.data)) }

// Rewind implements RewindReader.
func (r *ByteReader) Rewind() error {
	r.rd.Reset(r.data)
	return nil
}

// FileReader is a RewindReader over a seekable file (a pack assembled in
// a temporary file). It reads the bytes from the file's start to the end
// it had when the reader was made.
type FileReader struct {
	f      io.ReadSeeker
	length int64
	rd     io.LimitedReader
}

// NewFileReader returns a RewindReader of the whole of f, positioned at
// its start.
func NewFileReader(f io.ReadSeeker) (*FileReader, error) {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("finding the length of the content: %w", err)
	}
	r := &FileReader{f: f, length: n}
	if err := r.Rewind(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *FileReader) Read(p []byte) (int, error) { return r.rd.Read(p) }

// Length implements RewindReader.
func (r *FileReader) Length() int64 { return r.length }

// Rewind implements RewindReader.
func (r *FileReader) Rewind() error {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewinding the content: %w", err)
	}
	r.rd = io.LimitedReader{R: r.f, N: r.length}
	return nil
}

// ErrShortContent: a Save's reader ended before Length bytes.
var ErrShortContent = errors.New("the content ended before its length")

// ReadContent reads the whole of rd, exactly rd.Length() bytes, for
// backends that store a file from memory; a reader that ends early fails
// with ErrShortContent, and its own error is returned wrapped.
func ReadContent(rd RewindReader) ([]byte, error) {
	n := rd.Length()
	if n < 0 {
		return nil, fmt.Errorf("negative content length %d", n)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(n, 64<<20)))
	if _, err := CopyContent(&buf, rd, n); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CopyContent copies exactly length bytes of rd (a RewindReader's
// Length, perhaps read through a wrapper) to w, for backends that stream
// the content; it fails with ErrShortContent when rd ends early.
func CopyContent(w io.Writer, rd io.Reader, length int64) (int64, error) {
	if length < 0 {
		return 0, fmt.Errorf("negative content length %d", length)
	}
	// Not io.CopyN: it drops an error that comes with the last bytes.
	got, err := io.Copy(w, io.LimitReader(rd, length))
	if err == nil && got < length {
		err = fmt.Errorf("%w: %d of %d bytes", ErrShortContent, got, length)
	}
	return got, err
}
