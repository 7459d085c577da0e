package pack_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo/crypto"
)

func TestWriterRejects(t *testing.T) {
	key := testKey()
	sealedRaw := key.Seal(nil, []byte("0123456789"))
	raw := pack.Blob{Type: pack.DataBlob, Compression: pack.Raw, ID: id(1), RawLength: 10}
	tests := []struct {
		name   string
		blob   pack.Blob
		sealed []byte
		want   string
	}{
		{"unknown type", pack.Blob{Type: 5, ID: id(1), RawLength: 10}, sealedRaw, "unknown blob type 5"},
		{"unknown compression", pack.Blob{Compression: 3, ID: id(1), RawLength: 10}, sealedRaw, "unknown compression 3"},
		{"null ID", pack.Blob{RawLength: 10}, sealedRaw, "null blob ID"},
		{"raw length mismatch", pack.Blob{ID: id(1), RawLength: 11}, sealedRaw, "does not match plaintext length 11"},
		{"shorter than overhead", raw, sealedRaw[:crypto.Overhead-1], "shorter than the sealing overhead"},
		{"zstd not smaller", pack.Blob{Compression: pack.Zstd, ID: id(1), RawLength: 10}, sealedRaw, "not smaller than its plaintext"},
		{"delta without base", pack.Blob{Compression: pack.Delta, ID: id(1), RawLength: 100}, sealedRaw, "null base ID"},
		{"base on a raw blob", pack.Blob{ID: id(1), Base: id(2), RawLength: 10}, sealedRaw, "has a base but is not a delta blob"},
		{"duplicate", raw, sealedRaw, "already in this pack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := pack.NewWriter(&buf, key)
			if tt.name == "duplicate" {
				if err := w.Add(raw, sealedRaw); err != nil {
					t.Fatal(err)
				}
			}
			before := buf.Len()
			err := w.Add(tt.blob, tt.sealed)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Add: err = %v, want it to contain %q", err, tt.want)
			}
			if buf.Len() != before {
				t.Errorf("rejected Add wrote %d bytes", buf.Len()-before)
			}
		})
	}
}

func TestWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	if _, err := pack.NewWriter(&buf, testKey()).Finish(); err == nil || buf.Len() != 0 {
		t.Errorf("Finish of an empty pack: err = %v, wrote %d bytes", err, buf.Len())
	}
}

func TestWriterAfterFinish(t *testing.T) {
	key := testKey()
	w := pack.NewWriter(&bytes.Buffer{}, key)
	if err := w.Add(pack.Blob{ID: id(1)}, key.Seal(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(pack.Blob{ID: id(2)}, key.Seal(nil, nil)); err == nil {
		t.Error("Add after Finish succeeded")
	}
	if _, err := w.Finish(); err == nil {
		t.Error("second Finish succeeded")
	}
}

type failingWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n--; w.n < 0 {
		return 0, errWrite
	}
	return len(p), nil
}

func TestWriterWriteError(t *testing.T) {
	key := testKey()
	w := pack.NewWriter(&failingWriter{n: 1}, key)
	if err := w.Add(pack.Blob{ID: id(1)}, key.Seal(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(pack.Blob{ID: id(2)}, key.Seal(nil, nil)); !errors.Is(err, errWrite) {
		t.Errorf("Add: err = %v, want %v", err, errWrite)
	}
	if _, err := w.Finish(); !errors.Is(err, errWrite) {
		t.Errorf("Finish after a failed write: err = %v, want %v", err, errWrite)
	}
	if w.Count() != 1 {
		t.Errorf("Count = %d after one good and one failed Add", w.Count())
	}
}

func TestWriterHeaderFull(t *testing.T) {
	// Empty raw blobs cost 16 bytes in the pack and 42 in the header, so
	// the header limit is reached long before 4 GiB of blobs.
	s := nullSealer{}
	var file bytes.Buffer
	w := pack.NewWriter(&file, s)
	sealed := s.Seal(nil, nil)
	want := (pack.MaxHeaderSize - nullOverhead - 1) / 42
	var err error
	for n := 0; n <= want; n++ {
		var blobID pack.ID
		blobID[0], blobID[1], blobID[2], blobID[3] = 1, byte(n), byte(n>>8), byte(n>>16)
		if err = w.Add(pack.Blob{ID: blobID}, sealed); err != nil {
			break
		}
	}
	if !errors.Is(err, pack.ErrPackFull) || w.Count() != want {
		t.Fatalf("after %d blobs: err = %v, want ErrPackFull after %d", w.Count(), err, want)
	}
	// A full pack is still finished and read like any other.
	size, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := pack.ReadHeader(loaderOf(t, file.Bytes()), size, s)
	if err != nil || len(blobs) != want {
		t.Errorf("ReadHeader of a full pack: %d blobs, %v; want %d", len(blobs), err, want)
	}
}

func TestWriterBlobsFull(t *testing.T) {
	// 64 blobs of MaxBlobSize fill the 4 GiB a pack's offsets can address.
	s := nullSealer{}
	w := pack.NewWriter(io.Discard, s)
	sealed := s.Seal(nil, make([]byte, pack.MaxBlobSize))
	var err error
	for n := 0; n < 100 && err == nil; n++ {
		err = w.Add(pack.Blob{ID: id(byte(n + 1)), RawLength: pack.MaxBlobSize}, sealed)
	}
	if !errors.Is(err, pack.ErrPackFull) {
		t.Fatalf("after %d blobs (%d bytes): err = %v, want ErrPackFull", w.Count(), w.Size(), err)
	}
	if w.Size() > math.MaxUint32 || w.Size()+int64(len(sealed)) <= math.MaxUint32 {
		t.Errorf("pack full at %d bytes with blobs of %d", w.Size(), len(sealed))
	}
}
