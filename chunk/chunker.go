package chunk

import (
	"bytes"
	"fmt"
	"io"

	"github.com/restic/chunker"
)

// readSize is the size of a Chunker's buffer until a chunk in progress needs
// a larger one; reads fill whatever of the buffer is free.
const readSize = 1 << 20

// Chunker cuts a stream into chunks (docs/design.md, "Chunking").
//
// A chunk starts where the previous one ended. The Rabin fingerprint of
// the 64 bytes before each position is computed from the chunk's start plus
// MinSize on; the first position where its low AvgBits bits are zero, or
// the position MaxSize bytes past the start, whichever comes first, is the
// Rabin cut c. Without LineAligned the chunk ends at c. With LineAligned,
// unless the byte before c is '\n', the chunk ends:
//
//  1. just after the first '\n' at or after c and before start+MaxSize;
//  2. else, if the stream ends before start+MaxSize, at the end of the
//     stream;
//  3. else just after the last '\n' at or after start+MinSize-1 and before
//     c, so the chunk is still at least MinSize long;
//  4. else at c: a line longer than MaxSize-MinSize is split.
//
// The fingerprint restarts at every chunk start, so cuts depend only on the
// chunk's start and the bytes after it: after an insertion the cuts
// resynchronise as soon as one chunk start coincides. Every chunk is at
// most MaxSize bytes, and at least MinSize bytes except the last.
//
// A Chunker reads ahead into one buffer that starts at 1 MiB and grows to
// at most max(2*MaxSize, 1 MiB) when chunks are large. A Chunker is not
// safe for concurrent use; Reset reuses it for the next stream.
type Chunker struct {
	p     Params
	rd    io.Reader
	base  chunker.BaseChunker
	fresh chunker.BaseChunker // base's state at a stream's start; Reset copies it
	valid bool                // p passed validateCheap

	// buf[start:end] holds bytes read but not yet returned; the chunk in
	// progress begins at start, and the base chunker has seen
	// buf[start:scan].
	buf              []byte
	start, scan, end int
	bufLimit         int
	eof              bool
	err              error // sticky: returned by every later Next
	minSize, maxSize int
}

// New returns a Chunker that cuts rd with the parameters p. If p is not
// valid, Next returns the error (New skips the irreducibility test, which
// costs a millisecond: validate p once with Validate where it is loaded).
func New(rd io.Reader, p Params) *Chunker {
	c := &Chunker{}
	c.setParams(p)
	c.Reset(rd)
	return c
}

func (c *Chunker) setParams(p Params) {
	c.p = p
	if err := p.validateCheap(); err != nil {
		c.err = err
		return
	}
	c.valid = true
	c.minSize, c.maxSize = int(p.MinSize), int(p.MaxSize)
	c.bufLimit = max(2*c.maxSize, readSize)
	c.fresh = *chunker.NewBase(chunker.Pol(p.Pol),
		chunker.WithBaseAverageBits(int(p.AvgBits)),
		chunker.WithBaseBoundaries(p.MinSize, p.MaxSize))
}

// Reset makes c cut a new stream rd with the same parameters, keeping its
// buffer. Chunks returned before are no longer valid.
func (c *Chunker) Reset(rd io.Reader) {
	c.rd = rd
	c.start, c.scan, c.end = 0, 0, 0
	c.eof = false
	if c.valid {
		c.err = nil
		c.base = c.fresh
	}
}

// Next returns the next chunk, or io.EOF after the last one. The slice
// points into the Chunker's buffer and is valid only until the next call
// to Next or Reset; callers that keep it must copy it. A read error is
// returned as is (wrapped) and by every later call.
func (c *Chunker) Next() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	c.start = c.scan // the previous chunk ended where the base chunker stopped

	// Find the Rabin cut: n bytes from start.
	n := -1
	for n < 0 {
		if c.scan == c.end {
			if err := c.fill(); err != nil {
				return c.last(err)
			}
		}
		split := c.base.NextSplitPoint(c.buf[c.scan:c.end])
		if split < 0 {
			c.scan = c.end
			continue
		}
		n = c.scan + split - c.start
	}
	// The base chunker has reset itself at the Rabin cut; it starts afresh
	// wherever the next chunk starts.
	if c.p.LineAligned && c.buf[c.start+n-1] != '\n' {
		var err error
		if n, err = c.alignToLine(n); err != nil {
			c.err = err
			return nil, err
		}
	}
	c.scan = c.start + n
	return c.buf[c.start:c.scan], nil
}

// alignToLine moves the Rabin cut n (bytes from start) to a line end by the
// rule in the Chunker comment and returns the chunk's length.
func (c *Chunker) alignToLine(n int) (int, error) {
	// Rule 1 (and 2): forward to the first newline before the hard limit.
	for pos := n; pos < c.maxSize; {
		hi := min(c.end, c.start+c.maxSize)
		if i := bytes.IndexByte(c.buf[c.start+pos:hi], '\n'); i >= 0 {
			return pos + i + 1, nil
		}
		pos = hi - c.start
		if pos == c.maxSize {
			break
		}
		if err := c.fill(); err != nil {
			if err == io.EOF {
				return c.end - c.start, nil
			}
			return 0, err
		}
	}
	// Rule 3: back to the last newline that keeps the chunk >= MinSize.
	if i := bytes.LastIndexByte(c.buf[c.start+c.minSize-1:c.start+n], '\n'); i >= 0 {
		return c.minSize + i, nil
	}
	// Rule 4.
	return n, nil
}

// last returns the rest of the stream as the final chunk once fill has
// reported err, then io.EOF; a read error becomes sticky.
func (c *Chunker) last(err error) ([]byte, error) {
	if err != io.EOF {
		c.err = err
		return nil, err
	}
	if c.end == c.start {
		return nil, io.EOF
	}
	c.scan = c.end
	return c.buf[c.start:c.end], nil
}

// fill reads more of the stream into buf after end, first making room by
// moving the chunk in progress to the front (or into a larger buffer). It
// returns io.EOF once the stream is exhausted and nothing was read.
func (c *Chunker) fill() error {
	if c.eof {
		return io.EOF
	}
	if c.end == len(c.buf) {
		keep := c.end - c.start
		if keep > len(c.buf)/2 && len(c.buf) < c.bufLimit || len(c.buf) == 0 {
			grown := make([]byte, min(max(2*len(c.buf), readSize), c.bufLimit))
			copy(grown, c.buf[c.start:c.end])
			c.buf = grown
		} else {
			copy(c.buf, c.buf[c.start:c.end])
		}
		c.scan -= c.start
		c.end -= c.start
		c.start = 0
	}
	for {
		n, err := c.rd.Read(c.buf[c.end:])
		c.end += n
		switch {
		case err == io.EOF:
			c.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		case err != nil:
			return fmt.Errorf("chunk: read input: %w", err)
		case n > 0:
			return nil
		}
	}
}
