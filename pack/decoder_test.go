package pack_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
	"strata/repo/crypto"
)

func TestDecodeRejects(t *testing.T) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	base := csvChunk(3, 8000)
	plain := changeOneLine(base)
	deltaSealed, c, err := enc.Encode(nil, plain, base)
	if err != nil || c != pack.Delta {
		t.Fatalf("Encode: %v, %v", c, err)
	}
	zstdSealed, c, err := enc.Encode(nil, plain, nil)
	if err != nil || c != pack.Zstd {
		t.Fatalf("Encode: %v, %v", c, err)
	}
	delta := pack.Blob{Compression: pack.Delta, ID: key.BlobID(plain), Base: key.BlobID(base),
		Length: uint32(len(deltaSealed)), RawLength: uint32(len(plain))}
	zst := pack.Blob{Compression: pack.Zstd, ID: key.BlobID(plain), Length: uint32(len(zstdSealed)), RawLength: uint32(len(plain))}
	damaged := bytes.Clone(zstdSealed)
	damaged[len(damaged)/2] ^= 1
	with := func(b pack.Blob, edit func(*pack.Blob)) pack.Blob { edit(&b); return b }

	tests := []struct {
		name    string
		sealed  []byte
		blob    pack.Blob
		base    []byte
		wantErr error
		want    string
	}{
		{"delta without base", deltaSealed, delta, nil, nil, "needs the plaintext of its base"},
		{"delta with empty base", deltaSealed, delta, []byte{}, pack.ErrInvalidBlob, ""},
		{"delta read as zstd", deltaSealed, with(zst, func(b *pack.Blob) { b.Length = delta.Length }), nil, pack.ErrInvalidBlob, ""},
		{"base for zstd blob", zstdSealed, zst, base, nil, "a base was given"},
		{"raw length too small", zstdSealed, with(zst, func(b *pack.Blob) { b.RawLength = 7000 }), nil, pack.ErrInvalidBlob, ""},
		// zstd decodes with 16 bytes of room past RawLength (its fast
		// copies): a frame that fits in them is still refused.
		{"raw length short by less than the slack", zstdSealed, with(zst, func(b *pack.Blob) { b.RawLength -= 10 }), nil, pack.ErrInvalidBlob, "got 8000 bytes of plaintext, entry says 7990"},
		{"raw length too large", zstdSealed, with(zst, func(b *pack.Blob) { b.RawLength++ }), nil, pack.ErrInvalidBlob, "got 8000 bytes of plaintext, entry says 8001"},
		{"length mismatch", zstdSealed[1:], zst, nil, pack.ErrInvalidBlob, "entry says"},
		{"zstd read as raw", zstdSealed, with(zst, func(b *pack.Blob) { b.Compression = pack.Raw }), nil, pack.ErrInvalidBlob, "does not match plaintext length"},
		{"unknown compression", zstdSealed, with(zst, func(b *pack.Blob) { b.Compression = 9 }), nil, pack.ErrInvalidBlob, "unknown compression 9"},
		{"damaged", damaged, zst, nil, crypto.ErrAuth, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dec.Decode(nil, tt.sealed, tt.blob, tt.base)
			if err == nil {
				t.Fatalf("no error; decoded %d bytes", len(got))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Decode cannot tell a wrong base from the right one when the sizes fit;
// the caller's check of the blob ID against the plaintext catches it.
func TestDecodeWrongBase(t *testing.T) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	base := csvChunk(3, 8000)
	plain := changeOneLine(base)
	sealed, c, err := enc.Encode(nil, plain, base)
	if err != nil || c != pack.Delta {
		t.Fatalf("Encode: %v, %v", c, err)
	}
	b := pack.Blob{Compression: pack.Delta, ID: key.BlobID(plain), Base: key.BlobID(base),
		Length: uint32(len(sealed)), RawLength: uint32(len(plain))}
	got, err := dec.Decode(nil, sealed, b, csvChunk(4, 8000))
	if err == nil && key.BlobID(got) == b.ID {
		t.Error("decoding against another base gave the blob's plaintext")
	}
}

func TestEncodeRejectsOversize(t *testing.T) {
	enc, err := pack.NewEncoder(testKey(), zstd.SpeedFastest)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, pack.MaxBlobSize+1)
	if _, _, err := enc.Encode(nil, big, nil); err == nil {
		t.Error("Encode of a blob over MaxBlobSize succeeded")
	}
	if _, _, err := enc.Encode(nil, []byte("x"), big); err == nil {
		t.Error("Encode with a base over MaxBlobSize succeeded")
	}
}

func TestNewEncoderBadLevel(t *testing.T) {
	if _, err := pack.NewEncoder(testKey(), zstd.EncoderLevel(99)); err == nil {
		t.Error("NewEncoder with level 99 succeeded")
	}
}

// TestConcurrentUse runs one Encoder and one Decoder from many goroutines;
// run with -race.
func TestConcurrentUse(t *testing.T) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 4 {
				base := csvChunk(uint64(g*100+i), 4<<10)
				plain := changeOneLine(base)
				if i%2 == 0 {
					base = nil
				}
				sealed, c, err := enc.Encode(nil, plain, base)
				if err != nil {
					errs <- err
					return
				}
				b := pack.Blob{Compression: c, ID: key.BlobID(plain), Length: uint32(len(sealed)), RawLength: uint32(len(plain))}
				if c == pack.Delta {
					b.Base = key.BlobID(base)
				} else {
					base = nil
				}
				got, err := dec.Decode(nil, sealed, b, base)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, plain) {
					errs <- errors.New("plaintext differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
