package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/klauspost/compress/zstd"
	"github.com/zeebo/blake3"

	"strata/chunk"
)

// candidate is one set of chunking parameters under test, with what was
// measured for it.
type candidate struct {
	name   string
	params chunk.Params

	seen map[[32]byte]struct{} // every chunk stored so far
	prev []chunkRef            // the previous export's chunks, in key order

	initial     int64 // hour 0: zstd-compressed bytes of all chunks
	chunks      []int // chunks per export
	dataBytes   []int64
	newBlobs    []int   // per hour after the first
	newStored   []int64 // zstd-compressed bytes of new chunks
	deltaStored []int64 // the same with each new chunk as a delta blob (or whole, if smaller)
	deltaBlobs  []int   // how many of the new chunks were smaller as deltas
}

// chunkRef locates one chunk in an export and names the row it starts
// with.
type chunkRef struct {
	off, n int
	key    int64 // primary key of the first whole line; 0 for the header
}

func newCandidate(name string, p chunk.Params) *candidate {
	return &candidate{name: name, params: p, seen: make(map[[32]byte]struct{})}
}

// compressor holds one worker's zstd encoders and decoder.
type compressor struct {
	plain *zstd.Encoder
	delta *zstd.Encoder
	dec   *zstd.Decoder
	out   []byte
	check []byte
}

// zstdOptions are the encoder options for a zstd level (3 is SpeedDefault):
// one goroutine, no frame checksum, because a blob is authenticated by its
// seal and checked against its ID, so the 4-byte checksum would be
// redundant.
func zstdOptions(level int) []zstd.EOption {
	return []zstd.EOption{zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false)}
}

func newCompressor(level int) (*compressor, error) {
	plain, err := zstd.NewWriter(nil, zstdOptions(level)...)
	if err != nil {
		return nil, err
	}
	delta, err := zstd.NewWriter(nil, append(zstdOptions(level), zstd.WithEncoderDictRaw(0, []byte{0}))...)
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	return &compressor{plain: plain, delta: delta, dec: dec}, nil
}

// size returns the zstd-3 size of b.
func (z *compressor) size(b []byte) int {
	z.out = z.plain.EncodeAll(b, z.out[:0])
	return len(z.out)
}

// deltaSize returns the size of b compressed with base as a raw
// dictionary (a delta blob), after checking that it decodes to b.
func (z *compressor) deltaSize(b, base []byte) (int, error) {
	if err := z.delta.ResetWithOptions(nil, zstd.WithEncoderDictRaw(0, base)); err != nil {
		return 0, err
	}
	z.out = z.delta.EncodeAll(b, z.out[:0])
	if err := z.dec.ResetWithOptions(nil, zstd.WithDecoderDictRaw(0, base)); err != nil {
		return 0, err
	}
	var err error
	z.check, err = z.dec.DecodeAll(z.out, z.check[:0])
	if err != nil {
		return 0, fmt.Errorf("decode delta blob: %w", err)
	}
	if !bytes.Equal(z.check, b) {
		return 0, fmt.Errorf("delta blob decodes to different bytes")
	}
	return len(z.out), nil
}

// measure chunks one export and adds what it would store: at hour 0 every
// chunk, later only chunks not seen before, whole and as delta blobs
// against prevData.
func (c *candidate) measure(z *compressor, hour int, data, prevData []byte) error {
	var refs []chunkRef
	var newBlobs, deltaBlobs int
	var stored, deltaStored int64
	ch := chunk.New(bytes.NewReader(data), c.params)
	off := 0
	for {
		b, err := ch.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		ref := chunkRef{off: off, n: len(b), key: firstKey(data, off, len(b), refs)}
		refs = append(refs, ref)
		off += len(b)

		id := blake3.Sum256(b)
		if _, ok := c.seen[id]; ok {
			continue
		}
		c.seen[id] = struct{}{}
		whole := int64(z.size(b))
		if hour == 0 {
			c.initial += whole
			continue
		}
		newBlobs++
		stored += whole
		base := c.baseFor(ref.key, prevData)
		d, err := z.deltaSize(b, base)
		if err != nil {
			return fmt.Errorf("%s, hour %d, chunk at %d: %w", c.name, hour, ref.off, err)
		}
		if int64(d) < whole {
			deltaStored += int64(d)
			deltaBlobs++
		} else {
			deltaStored += whole
		}
	}
	if off != len(data) {
		return fmt.Errorf("%s: chunks cover %d of %d bytes", c.name, off, len(data))
	}
	c.prev = refs
	c.chunks = append(c.chunks, len(refs))
	c.dataBytes = append(c.dataBytes, int64(len(data)))
	if hour > 0 {
		c.newBlobs = append(c.newBlobs, newBlobs)
		c.newStored = append(c.newStored, stored)
		c.deltaStored = append(c.deltaStored, deltaStored)
		c.deltaBlobs = append(c.deltaBlobs, deltaBlobs)
	}
	return nil
}

// baseFor returns the previous export's chunk covering key: the one whose
// first key is the greatest at or below key.
func (c *candidate) baseFor(key int64, prevData []byte) []byte {
	i := sort.Search(len(c.prev), func(i int) bool { return c.prev[i].key > key }) - 1
	i = max(i, 0)
	r := c.prev[i]
	return prevData[r.off : r.off+r.n]
}

// firstKey returns the primary key of the first whole line of the chunk
// data[off:off+n]: 0 for the header, the key of the previous chunk if the
// chunk holds no line start.
func firstKey(data []byte, off, n int, refs []chunkRef) int64 {
	if off == 0 {
		return 0
	}
	b := data[off : off+n]
	if data[off-1] != '\n' {
		i := bytes.IndexByte(b, '\n')
		if i < 0 || i == len(b)-1 {
			return refs[len(refs)-1].key
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, ','); i > 0 {
		b = b[:i]
	}
	k, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return refs[len(refs)-1].key
	}
	return k
}
