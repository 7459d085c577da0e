package pack_test

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
)

// The encoders for small blobs have a 1 MiB window instead of the level's
// 8 MiB, to hold less memory: for blobs (and delta blobs with their base)
// that fit in the window, the payload is byte for byte what an encoder
// with the level's window writes.
func TestSmallWindowSameOutput(t *testing.T) {
	ref, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pack.NewEncoder(nullSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{4 << 10, 64 << 10, 512 << 10, 1 << 20} {
		plain := csvChunk(uint64(size), size)
		sealed, c, err := enc.Encode(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c != pack.Zstd {
			t.Fatalf("%d bytes stored as %v, want zstd", size, c)
		}
		if want := ref.EncodeAll(plain, nil); !bytes.Equal(sealed[nullOverhead:], want) {
			t.Errorf("%d bytes: payload of %d bytes differs from the level's window (%d bytes)", size, len(sealed)-nullOverhead, len(want))
		}
	}
	for _, size := range []int{64 << 10, 512 << 10} {
		base := csvChunk(uint64(size)+1, size)
		plain := bytes.Clone(base)
		copy(plain[size/2:], "changed row")
		sealed, c, err := enc.Encode(nil, plain, base)
		if err != nil {
			t.Fatal(err)
		}
		if c != pack.Delta {
			t.Fatalf("%d-byte change stored as %v, want delta", size, c)
		}
		var want bytes.Buffer
		ref.ResetWithOptions(&want, zstd.WithEncoderDictRaw(0, base))
		ref.ResetContentSize(&want, int64(len(plain)))
		if _, err := ref.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := ref.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sealed[nullOverhead:], want.Bytes()) {
			t.Errorf("%d-byte delta: payload of %d bytes differs from the level's window (%d bytes)", size, len(sealed)-nullOverhead, want.Len())
		}
	}
}
