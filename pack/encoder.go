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
	// small and large compress without a dictionary: small the blobs of
	// at most smallWindow bytes, large (each made on first use, by window)
	// the others. EncodeAll is safe for concurrent use and runs up to
	// GOMAXPROCS calls in parallel, which BenchmarkEncode shows is as
	// fast as a pool of encoders.
	small   *zstd.Encoder
	largeMu sync.Mutex
	large   map[int]*zstd.Encoder
	// smallDelta holds single-goroutine zstd encoders that are re-armed
	// with a new base dictionary for each delta blob whose base and blob
	// together fit smallWindow.
	smallDelta encoderList
	// deltaSlots bounds the delta encodes that run at once to GOMAXPROCS:
	// compressing is CPU work, so more goroutines (a backup's pipeline
	// saves with four per worker) gain nothing, and each encode that runs
	// beside the others holds an encoder of its own, kept afterwards.
	deltaSlots chan struct{}
	// largeDelta lets one delta of more than smallWindow bytes (base and
	// blob together: a table's change log) encode at a time, with an
	// encoder made for it and dropped after: such deltas are a few per
	// backup, and their encoder's history is as large as the data.
	largeDelta sync.Mutex
	// scratch holds compressed payloads until they are sealed.
	scratch buffers
}

// smallWindow is the zstd window of the encoders for small blobs. Each
// encoder holds a window of history, and the level's own window is 8 MiB:
// with a window as large as the blob (or, for a delta blob, as base and
// blob together) the output is the same, and table chunks (at most 512
// KiB) need an eighth of the memory. Larger blobs (file chunks) use the
// level's window.
const smallWindow = 1 << 20

// NewEncoder returns an Encoder that compresses at level and seals with s.
func NewEncoder(s Sealer, level zstd.EncoderLevel) (*Encoder, error) {
	z, err := newZstd(level, runtime.GOMAXPROCS(0), smallWindow)
	if err != nil {
		return nil, err
	}
	return &Encoder{sealer: s, level: level, small: z, deltaSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
}

// newZstd returns a zstd encoder at level for concurrency goroutines, with
// the given window (0: the level's).
func newZstd(level zstd.EncoderLevel, concurrency, window int) (*zstd.Encoder, error) {
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(concurrency),
		// The seal authenticates the payload; a zstd checksum adds nothing.
		zstd.WithEncoderCRC(false),
		// Entropy-code the literals of a block in which no match was
		// found, which level 3 skips by default: hex text (a BLOB in COPY
		// text) then stores at about the size of its bytes instead of
		// twice (docs/design.md, "Stored payload").
		zstd.WithAllLitEntropyCompression(true),
		// History of the window and one 128 KiB block, not of twice the
		// window: half the memory for the same bytes written
		// (TestSmallWindowSameOutput, TestLargeBlobSameOutput).
		zstd.WithLowerEncoderMem(true),
	}
	if window > 0 {
		opts = append(opts, zstd.WithWindowSize(window))
	}
	z, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating zstd encoder at level %v: %w", level, err)
	}
	return z, nil
}

// compress appends plain compressed without a dictionary to dst.
func (e *Encoder) compress(dst, plain []byte) ([]byte, error) {
	if len(plain) <= smallWindow {
		return e.small.EncodeAll(plain, dst), nil
	}
	z, err := e.largeEncoder(deltaWindow(len(plain), e.level))
	if err != nil {
		return nil, err
	}
	return z.EncodeAll(plain, dst), nil
}

// largeEncoder returns the encoder for blobs of more than smallWindow
// bytes with the given window (0: the level's), made on first use. The
// window is the power of two that holds the blob, so that a change log of
// 1 to 2 MB compressed alone holds 2 MiB of history, not the 16 MiB of
// twice the level's window it held before; the bytes written are the same
// (TestLargeBlobSameOutput).
func (e *Encoder) largeEncoder(window int) (*zstd.Encoder, error) {
	e.largeMu.Lock()
	defer e.largeMu.Unlock()
	if z := e.large[window]; z != nil {
		return z, nil
	}
	z, err := newZstd(e.level, runtime.GOMAXPROCS(0), window)
	if err != nil {
		return nil, err
	}
	if e.large == nil {
		e.large = map[int]*zstd.Encoder{}
	}
	e.large[window] = z
	return z, nil
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
	z, err := e.compress((*zbuf)[:0], plain)
	defer e.scratch.put(zbuf, z)
	if err != nil {
		return nil, 0, err
	}
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
	e.deltaSlots <- struct{}{}
	defer func() { <-e.deltaSlots }()
	var enc *zstd.Encoder
	if len(base)+len(plain) <= smallWindow {
		if enc = e.smallDelta.get(); enc == nil {
			var err error
			if enc, err = newZstd(e.level, 1, smallWindow); err != nil {
				return nil, fmt.Errorf("delta encoder: %w", err)
			}
		}
		defer e.smallDelta.put(enc)
	} else {
		e.largeDelta.Lock()
		defer e.largeDelta.Unlock()
		// The window spans base and blob, as the level's would (larger
		// ones get the level's), which writes the same bytes
		// (TestLargeDeltaWindowSameOutput). The level's 8 MiB window held
		// 16 MiB of history for every change log.
		window := deltaWindow(len(base)+len(plain), e.level)
		var err error
		if enc, err = newZstd(e.level, 1, window); err != nil {
			return nil, fmt.Errorf("delta encoder: %w", err)
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
	return out.buf, nil
}

// deltaWindow is the zstd window for n bytes of data (a blob, or a delta
// blob with its base): the power of two that holds them, at least
// smallWindow, or 0 (the level's own window) when that is larger than the
// level's.
func deltaWindow(n int, level zstd.EncoderLevel) int {
	levelWindow := 8 << 20
	if level == zstd.SpeedFastest {
		levelWindow = 4 << 20
	}
	w := smallWindow
	for w < n && w < levelWindow {
		w <<= 1
	}
	if w < n {
		return 0
	}
	return w
}

// encoderList keeps idle delta encoders. A delta encoder is about 4.5 MiB
// (its hash tables, their copies for the dictionary, its history) and
// costs a millisecond to make; there are as many as encodes ever ran at
// once (at most GOMAXPROCS: deltaSlots), kept for the Encoder's life. A
// sync.Pool held more: an encoder put back on one CPU's private slot is
// not found by a Get on another, which then makes a new one (three
// delta encoders for two workers in an hourly backup of `make
// bench-db`), and a garbage collection drops them, to be made again.
type encoderList struct {
	mu   sync.Mutex
	idle []*zstd.Encoder
}

// get returns an idle encoder, or nil when there is none.
func (l *encoderList) get() *zstd.Encoder {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.idle) == 0 {
		return nil
	}
	enc := l.idle[len(l.idle)-1]
	l.idle = l.idle[:len(l.idle)-1]
	return enc
}

func (l *encoderList) put(enc *zstd.Encoder) {
	l.mu.Lock()
	l.idle = append(l.idle, enc)
	l.mu.Unlock()
}

// appendWriter collects a zstd stream in memory.
type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}
