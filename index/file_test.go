package index

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"strata/pack"
)

// testFiles are valid index files, used by the round-trip tests and as the
// fuzz seeds.
func testFiles() map[string]*File {
	rng := rand.New(rand.NewPCG(1, 2))
	return map[string]*File{
		"empty": {},
		"supersedes-only": {
			Supersedes: []pack.ID{randID(rng), randID(rng), randID(rng)},
		},
		"one-pack": {
			Packs: []PackBlobs{{PackID: randID(rng), Blobs: []pack.Blob{
				{Type: pack.DataBlob, Compression: pack.Raw, ID: randID(rng), Offset: 0, Length: 140, RawLength: 100},
				{Type: pack.TreeBlob, Compression: pack.Zstd, ID: randID(rng), Offset: 140, Length: 90, RawLength: 300},
			}}},
		},
		"all-kinds": {
			Supersedes: []pack.ID{randID(rng)},
			Packs: []PackBlobs{
				{PackID: randID(rng), Blobs: randBlobs(rng, 20)},
				{PackID: randID(rng)}, // a pack without blobs is allowed, and ignored
				{PackID: randID(rng), Blobs: randBlobs(rng, 5)},
			},
		},
		"limits": {
			Packs: []PackBlobs{{PackID: randID(rng), Blobs: []pack.Blob{
				{Type: pack.DataBlob, Compression: pack.Raw, ID: randID(rng), Offset: 0, Length: 1, RawLength: 0},
				{Type: pack.DataBlob, Compression: pack.Delta, ID: randID(rng), Base: randID(rng),
					Offset: math.MaxUint32 - 5, Length: 5, RawLength: pack.MaxBlobSize},
			}}},
		},
	}
}

// randBlobs returns n valid blobs laid out one after another, of every
// type and compression.
func randBlobs(rng *rand.Rand, n int) []pack.Blob {
	blobs := make([]pack.Blob, n)
	var offset uint32
	for i := range blobs {
		b := pack.Blob{
			Type:        pack.BlobType(rng.IntN(2)),
			Compression: pack.Compression(rng.IntN(3)),
			ID:          randID(rng),
			Offset:      offset,
			Length:      1 + rng.Uint32N(1<<20),
			RawLength:   rng.Uint32N(pack.MaxBlobSize + 1),
		}
		if b.Compression == pack.Delta {
			b.Base = randID(rng)
		}
		offset += b.Length
		blobs[i] = b
	}
	return blobs
}

func randID(rng *rand.Rand) pack.ID {
	var id pack.ID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	return id
}

func equalFiles(a, b *File) bool {
	return slices.Equal(a.Supersedes, b.Supersedes) &&
		slices.EqualFunc(a.Packs, b.Packs, func(p, q PackBlobs) bool {
			return p.PackID == q.PackID && slices.Equal(p.Blobs, q.Blobs)
		})
}

func TestFileRoundTrip(t *testing.T) {
	for name, f := range testFiles() {
		t.Run(name, func(t *testing.T) {
			data := Encode(f)
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equalFiles(got, f) {
				t.Fatalf("Decode(Encode(f)) = %+v, want %+v", got, f)
			}
			if again := Encode(got); string(again) != string(data) {
				t.Fatalf("Encode(Decode(data)) differs from data")
			}
		})
	}
}

// TestDecodeTruncated checks that every proper prefix of a valid file is
// rejected, whatever field it cuts.
func TestDecodeTruncated(t *testing.T) {
	data := Encode(testFiles()["all-kinds"])
	for n := range len(data) {
		if _, err := Decode(data[:n]); !errors.Is(err, ErrInvalidFile) {
			t.Fatalf("Decode of the first %d of %d bytes: got error %v, want ErrInvalidFile", n, len(data), err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	packID := randID(rng)
	blob := pack.Blob{Type: pack.DataBlob, Compression: pack.Zstd, ID: randID(rng), Offset: 10, Length: 20, RawLength: 30}
	// file encodes one pack whose blobs are three good ones and then b.
	file := func(b pack.Blob) []byte {
		return Encode(&File{Packs: []PackBlobs{{PackID: packID, Blobs: append(randBlobs(rng, 3), b)}}})
	}
	with := func(change func(b *pack.Blob)) []byte {
		b := blob
		change(&b)
		return file(b)
	}
	header := []byte("STRATAIX\x01")
	at := "pack 0 (" + packID.Short() + "): blob 3: "
	dup := randID(rng)

	tests := []struct {
		name string
		data []byte
		want string // a part of the error message
	}{
		{"empty", nil, `does not start with "STRATAIX"`},
		{"bad-magic", []byte("STRATAIY\x01\x00\x00"), "does not start with"},
		{"no-version", []byte("STRATAIX"), "truncated before the version"},
		{"version-2", []byte("STRATAIX\x02\x00\x00"), "unknown version 2"},
		{"no-supersedes-count", header, "truncated in the supersedes count"},
		{"supersedes-count-too-large", slices.Concat(header, []byte{2}, make([]byte, 32)), "supersedes count 2 exceeds what the remaining 32 bytes can hold"},
		{"null-superseded", Encode(&File{Supersedes: []pack.ID{{}}}), "superseded file 0: null ID"},
		{"duplicate-superseded", Encode(&File{Supersedes: []pack.ID{randID(rng), dup, dup}}), "superseded file 2: " + dup.String() + " is also superseded file 1"},
		{"pack-count-too-large", slices.Concat(header, []byte{0, 0xff, 0xff, 0x03}), "pack count 65535 exceeds"},
		{"null-pack", Encode(&File{Packs: []PackBlobs{{}}}), "pack 0: null ID"},
		{"duplicate-pack", Encode(&File{Packs: []PackBlobs{{PackID: dup}, {PackID: dup}}}), "pack 1: " + dup.String() + " is also pack 0"},
		{"blob-count-too-large", slices.Concat(header, []byte{0, 1}, packID[:], []byte{1}), "blob count 1 exceeds what the remaining 0 bytes"},
		{"unknown-type", with(func(b *pack.Blob) { b.Type = 2 }), at + "unknown blob type 2"},
		{"unknown-compression", with(func(b *pack.Blob) { b.Compression = 9 }), at + "unknown compression 9"},
		{"null-blob", with(func(b *pack.Blob) { b.ID = pack.ID{} }), at + "null blob ID"},
		{"zero-length", with(func(b *pack.Blob) { b.Length = 0 }), at + "blob " + blob.ID.Short() + ": length 0"},
		{"past-4GiB", with(func(b *pack.Blob) { b.Offset, b.Length = math.MaxUint32-5, 6 }), "past the largest pack"},
		{"raw-length-too-large", with(func(b *pack.Blob) { b.RawLength = pack.MaxBlobSize + 1 }), "exceeds the maximum blob size"},
		{"delta-null-base", with(func(b *pack.Blob) { b.Compression = pack.Delta }), at + "delta blob " + blob.ID.Short() + ": null base ID"},
		{"delta-own-base", with(func(b *pack.Blob) { b.Compression, b.Base = pack.Delta, b.ID }), "is its own base"},
		{"duplicate-blob", Encode(&File{Packs: []PackBlobs{{PackID: packID, Blobs: []pack.Blob{blob, blob}}}}), "blob 1: " + blob.ID.String() + " is also blob 0"},
		{"offset-too-large", oneBlobFile(packID, binary.AppendUvarint(nil, 1<<32)), "blob 0: offset 4294967296 exceeds 4294967295"},
		{"non-minimal-uvarint", oneBlobFile(packID, []byte{0x80, 0x00}), "blob 0: offset 0 is not in its shortest uvarint form"},
		{"uvarint-overflow", slices.Concat(header, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), "supersedes count overflows 64 bits"},
		{"trailing-bytes", append(file(blob), 0), "1 bytes after the last pack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.data)
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", f)
			}
			if !errors.Is(err, ErrInvalidFile) {
				t.Errorf("error %q does not wrap ErrInvalidFile", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// oneBlobFile returns a file of one pack holding one data blob whose
// bytes after Type and Compression start with raw, padded with zero bytes
// to a full blob: raw may be malformed, which Encode cannot produce.
func oneBlobFile(packID pack.ID, raw []byte) []byte {
	data := []byte("STRATAIX\x01\x00\x01")
	data = append(data, packID[:]...)
	data = append(data, 1, byte(pack.DataBlob), byte(pack.Raw))
	data = append(data, raw...)
	return append(data, make([]byte, 2*pack.IDSize)...)
}
