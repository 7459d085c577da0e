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

// A delta whose base and blob together pass 1 MiB (a table's change log
// against the previous hour's) is encoded with a window that holds both,
// not the level's 8 MiB: the payload is byte for byte the level's window's,
// and so is a delta larger than that window, which gets the level's.
func TestLargeDeltaWindowSameOutput(t *testing.T) {
	ref, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pack.NewEncoder(nullSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{600 << 10, 1 << 20, 3 << 20, 7 << 20} {
		base := csvChunk(uint64(size)+7, size)
		plain := bytes.Clone(base)
		for off := 1000; off < size; off += 50_000 {
			copy(plain[off:], "changed row")
		}
		plain = append(plain, "9999999,2024-01-01,new,new@example.com,1.00,open\n"...)
		sealed, c, err := enc.Encode(nil, plain, base)
		if err != nil {
			t.Fatal(err)
		}
		if c != pack.Delta {
			t.Fatalf("%d-byte base: stored as %v, want delta", size, c)
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
			t.Errorf("%d-byte base: payload of %d bytes differs from the level's window (%d bytes)", size, len(sealed)-nullOverhead, want.Len())
		}
	}
}

// Blobs of more than 1 MiB are compressed by encoders that hold less
// history (the level's window and one block, not twice the window): the
// payload is byte for byte what the level's default encoder writes, for
// blobs within the window and beyond it.
func TestLargeBlobSameOutput(t *testing.T) {
	ref, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pack.NewEncoder(nullSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{(1 << 20) + 1, 1536 << 10, 3 << 20, 8 << 20, 13 << 20} {
		plain := csvChunk(uint64(size)+3, size)
		sealed, c, err := enc.Encode(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c != pack.Zstd {
			t.Fatalf("%d bytes stored as %v, want zstd", size, c)
		}
		if want := ref.EncodeAll(plain, nil); !bytes.Equal(sealed[nullOverhead:], want) {
			t.Errorf("%d bytes: payload of %d bytes differs from the level's default encoder (%d bytes)", size, len(sealed)-nullOverhead, len(want))
		}
	}
}
