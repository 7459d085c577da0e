package pack

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Decoder turns the sealed bytes of a blob back into its plaintext. It is
// safe for concurrent use. It never produces more than the entry's
// RawLength (at most MaxBlobSize) bytes, whatever the input claims.
type Decoder struct {
	sealer Sealer
	// zstd decodes blobs without a dictionary, up to GOMAXPROCS at once.
	zstd *zstd.Decoder
	// delta holds single-goroutine zstd decoders, given the base as a
	// dictionary for one delta blob at a time.
	delta sync.Pool
	// unsized and unsizedDelta decode blobs whose plaintext length is
	// neither in the entry nor in the zstd frame (zstd leaves it out of
	// frames of a few hundred bytes).
	unsized      sync.Pool
	unsizedDelta sync.Pool
	// scratch holds opened payloads until they are decompressed.
	scratch buffers
}

// decoderOptions bound every decode: output stops at cap(dst), which Decode
// sets to the entry's RawLength, and never exceeds MaxBlobSize. Without the
// capacity limit (blobs of unknown length whose frame does not declare it),
// only MaxBlobSize bounds the output.
func decoderOptions(concurrency int, capLimit bool) []zstd.DOption {
	return []zstd.DOption{
		zstd.WithDecoderConcurrency(concurrency),
		zstd.WithDecoderMaxMemory(MaxBlobSize),
		zstd.WithDecodeAllCapLimit(capLimit),
	}
}

// NewDecoder returns a Decoder that opens blobs with s.
func NewDecoder(s Sealer) (*Decoder, error) {
	z, err := zstd.NewReader(nil, decoderOptions(runtime.GOMAXPROCS(0), true)...)
	if err != nil {
		return nil, fmt.Errorf("creating zstd decoder: %w", err)
	}
	return &Decoder{sealer: s, zstd: z}, nil
}

// Decode opens sealed, the bytes of blob b in its pack, decompresses it as
// b.Compression says and appends the plaintext to dst. For a delta blob,
// base must be the plaintext of blob b.Base; for other blobs it must be nil.
// Decode fails unless the plaintext has exactly b.RawLength bytes (for a
// compressed blob, RawLength 0 means unknown: the length declared in the
// zstd frame is used, bounded by MaxBlobSize); it does
// not check the plaintext against b.ID (only the holder of the ID key can).
// Authentication failures wrap the Sealer's error; every other mismatch
// wraps ErrInvalidBlob.
func (d *Decoder) Decode(dst, sealed []byte, b Blob, base []byte) ([]byte, error) {
	if err := checkEntry(b); err != nil {
		return nil, fmt.Errorf("decoding blob: %w: %w", ErrInvalidBlob, err)
	}
	if int64(len(sealed)) != int64(b.Length) {
		return nil, fmt.Errorf("decoding %s: %w: got %d sealed bytes, entry says %d", b, ErrInvalidBlob, len(sealed), b.Length)
	}
	// The in-memory index does not keep plaintext lengths: a compressed
	// blob whose RawLength is 0 (never valid for zstd or delta blobs) takes
	// it from its zstd frame header below.
	unknownLength := b.RawLength == 0 && b.Compression != Raw
	if unknownLength {
		if int64(b.Length) < int64(d.sealer.Overhead()) {
			return nil, fmt.Errorf("decoding blob: %w: blob %s: sealed length %d is shorter than the sealing overhead", ErrInvalidBlob, b.ID.Short(), b.Length)
		}
	} else if err := checkSealedLength(b, d.sealer.Overhead()); err != nil {
		return nil, fmt.Errorf("decoding blob: %w: %w", ErrInvalidBlob, err)
	}
	switch {
	case b.Compression == Delta && base == nil:
		return nil, fmt.Errorf("decoding %s: delta blob needs the plaintext of its base %s", b, b.Base.Short())
	case b.Compression != Delta && base != nil:
		return nil, fmt.Errorf("decoding %s: a base was given but the blob is %s, not delta", b, b.Compression)
	}

	start := len(dst)
	if b.Compression == Raw {
		out, err := d.sealer.Open(dst, sealed)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", b, err)
		}
		if err := checkRawLength(b, len(out)-start); err != nil {
			return nil, err
		}
		return out, nil
	}

	pbuf := d.scratch.get()
	payload, err := d.sealer.Open((*pbuf)[:0], sealed)
	defer d.scratch.put(pbuf, payload)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", b, err)
	}
	if unknownLength {
		var h zstd.Header
		if err := h.Decode(payload); err != nil {
			return nil, fmt.Errorf("decoding %s: %w: zstd frame header: %w", b, ErrInvalidBlob, err)
		}
		if !h.HasFCS {
			return d.decodeUnsized(dst, payload, b, base)
		}
		if h.FrameContentSize == 0 || h.FrameContentSize > MaxBlobSize {
			return nil, fmt.Errorf("decoding %s: %w: zstd frame declares %d bytes", b, ErrInvalidBlob, h.FrameContentSize)
		}
		b.RawLength = uint32(h.FrameContentSize)
	}
	// The capacity limit makes zstd stop at RawLength bytes of output (and
	// zstdSlack more, which checkRawLength then refuses).
	dst = slices.Grow(dst, int(b.RawLength)+zstdSlack)
	limited := dst[: start : start+int(b.RawLength)+zstdSlack]
	var out []byte
	if b.Compression == Delta {
		out, err = d.decodeDelta(payload, limited, base)
	} else {
		out, err = d.zstd.DecodeAll(payload, limited)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w: zstd: %w", b, ErrInvalidBlob, err)
	}
	if err := checkRawLength(b, len(out)-start); err != nil {
		return nil, err
	}
	// Returned with the slack as its capacity: a caller that keeps the
	// array for the next blob (a new one when dst had no room) then has
	// the room this blob's length needs again.
	return out, nil
}

// zstdSlack is room past a blob's plaintext in the buffer zstd decodes
// into (a compressed blob's plaintext comes back with it as capacity).
// With it, zstd copies literals and matches 16 bytes at a time, overrunning
// each copy's end by up to 15 bytes (klauspost/compress's
// compressedBlockOverAlloc); without it, it must use exact copies, and a
// consecutive-hour diff spent about half as much CPU again in zstd
// (docs/benchmarks.md, "Diff").
const zstdSlack = 16

func checkRawLength(b Blob, n int) error {
	if n != int(b.RawLength) {
		return fmt.Errorf("decoding %s: %w: got %d bytes of plaintext, entry says %d", b, ErrInvalidBlob, n, b.RawLength)
	}
	return nil
}

// decodeUnsized decompresses a payload of unknown plaintext length; the
// decoder's memory limit stops it at MaxBlobSize.
func (d *Decoder) decodeUnsized(dst, payload []byte, b Blob, base []byte) ([]byte, error) {
	var (
		out []byte
		err error
	)
	if b.Compression == Delta {
		out, err = decodeWithDict(&d.unsizedDelta, false, payload, dst, base)
	} else {
		dec, _ := d.unsized.Get().(*zstd.Decoder)
		if dec == nil {
			if dec, err = zstd.NewReader(nil, decoderOptions(1, false)...); err != nil {
				return nil, fmt.Errorf("creating zstd decoder: %w", err)
			}
		}
		out, err = dec.DecodeAll(payload, dst)
		d.unsized.Put(dec)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w: zstd: %w", b, ErrInvalidBlob, err)
	}
	if len(out)-len(dst) == 0 {
		return nil, fmt.Errorf("decoding %s: %w: compressed blob has no plaintext", b, ErrInvalidBlob)
	}
	return out, nil
}

// decodeDelta decompresses payload with base as a raw-content dictionary.
func (d *Decoder) decodeDelta(payload, dst, base []byte) ([]byte, error) {
	return decodeWithDict(&d.delta, true, payload, dst, base)
}

func decodeWithDict(pool *sync.Pool, capLimit bool, payload, dst, base []byte) ([]byte, error) {
	dec, _ := pool.Get().(*zstd.Decoder)
	if dec == nil {
		var err error
		dec, err = zstd.NewReader(nil, decoderOptions(1, capLimit)...)
		if err != nil {
			return nil, fmt.Errorf("creating zstd decoder: %w", err)
		}
	}
	if err := dec.ResetWithOptions(nil, zstd.WithDecoderDictRaw(deltaDictID, base)); err != nil {
		return nil, err
	}
	out, err := dec.DecodeAll(payload, dst)
	// Drop the base so a pooled decoder does not keep it alive.
	if err := dec.ResetWithOptions(nil, zstd.WithDecoderDictDelete()); err != nil {
		return nil, err
	}
	pool.Put(dec)
	return out, err
}
