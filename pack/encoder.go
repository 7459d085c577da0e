package pack

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// deltaDictID is the zstd dictionary ID of a delta blob's base. Zero means
// the frame names no dictionary, as with `zstd --patch-from`: the reader
// knows the base from the header entry, not from the frame.
const deltaDictID = 0

// Encoder turns a blob's plaintext into the sealed bytes stored in a pack
// (docs/design.md, "Packs"). It is safe for concurrent use; many goroutines
// encoding at once each get their own zstd state.
type Encoder struct {
	sealer Sealer
	level  zstd.EncoderLevel
	// zstd compresses without a dictionary. Its EncodeAll is safe for
	// concurrent use and runs up to GOMAXPROCS calls in parallel, which
	// BenchmarkEncode shows is as fast as a pool of encoders.
	zstd *zstd.Encoder
	// delta holds single-goroutine zstd encoders that are re-armed with a
	// new base dictionary for each delta blob.
	delta sync.Pool
	// scratch holds compressed payloads until they are sealed.
	scratch buffers
}

// NewEncoder returns an Encoder that compresses at level and seals with s.
func NewEncoder(s Sealer, level zstd.EncoderLevel) (*Encoder, error) {
	z, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		// The seal authenticates the payload; a zstd checksum adds nothing.
		zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("creating zstd encoder at level %v: %w", level, err)
	}
	return &Encoder{sealer: s, level: level, zstd: z}, nil
}

// Encode compresses plain and appends its seal to dst. The stored payload
// is zstd when that is smaller than plain, else plain itself (Raw). When
// base is non-empty, Encode also compresses plain with base as a raw
// dictionary and uses that (Delta) if it is smaller still; base must then be
// the plaintext of the blob that will be named as Base. A delta of at most
// 1/deltaEnough of plain is used without trying zstd at all. The returned
// Compression says which was used.
func (e *Encoder) Encode(dst, plain, base []byte) (sealed []byte, c Compression, err error) {
	if len(plain) > MaxBlobSize {
		return nil, 0, fmt.Errorf("encoding blob: %d bytes exceeds the maximum blob size %d", len(plain), MaxBlobSize)
	}
	if len(base) > MaxBlobSize {
		return nil, 0, fmt.Errorf("encoding blob: base of %d bytes exceeds the maximum blob size %d", len(base), MaxBlobSize)
	}
	var d []byte
	if len(base) > 0 {
		dbuf := e.scratch.get()
		var err error
		d, err = e.encodeDelta((*dbuf)[:0], plain, base)
		defer e.scratch.put(dbuf, d)
		if err != nil {
			return nil, 0, err
		}
		if len(d) <= len(plain)/deltaEnough {
			return e.sealer.Seal(dst, d), Delta, nil
		}
	}
	payload, c := plain, Raw
	zbuf := e.scratch.get()
	z := e.zstd.EncodeAll(plain, (*zbuf)[:0])
	defer e.scratch.put(zbuf, z)
	if len(z) < len(payload) {
		payload, c = z, Zstd
	}
	if d != nil && len(d) < len(payload) {
		payload, c = d, Delta
	}
	return e.sealer.Seal(dst, payload), c, nil
}

// deltaEnough: a delta of at most 1/deltaEnough of the plaintext is stored
// without compressing the plaintext alone to compare. Plain zstd could
// beat it only on a blob that compresses more than 64:1 by itself (table
// text compresses about 4:1), and compressing every changed chunk twice
// cost 0.3 s of each hourly backup of the 134 MB database of `make
// bench-db` on 2 CPUs.
const deltaEnough = 64

// encodeDelta appends plain compressed with base as a raw-content
// dictionary to dst.
func (e *Encoder) encodeDelta(dst, plain, base []byte) ([]byte, error) {
	enc, _ := e.delta.Get().(*zstd.Encoder)
	if enc == nil {
		var err error
		enc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(e.level),
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, fmt.Errorf("creating zstd delta encoder: %w", err)
		}
	}
	// The streaming API hashes the dictionary once per blob; EncodeAll on
	// a re-armed encoder would hash it twice (once for the unused stream
	// state), halving throughput.
	out := &appendWriter{buf: dst}
	if err := enc.ResetWithOptions(out, zstd.WithEncoderDictRaw(deltaDictID, base)); err != nil {
		return nil, fmt.Errorf("delta-compressing blob: %w", err)
	}
	enc.ResetContentSize(out, int64(len(plain)))
	if _, err := enc.Write(plain); err != nil {
		return nil, fmt.Errorf("delta-compressing blob: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("delta-compressing blob: %w", err)
	}
	e.delta.Put(enc)
	return out.buf, nil
}

// appendWriter collects a zstd stream in memory.
type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}
