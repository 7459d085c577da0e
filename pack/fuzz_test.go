package pack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"strata/pack"
)

// FuzzDecodeHeader checks that DecodeHeader never panics, and that what it
// accepts obeys every rule of the format and encodes back to the input.
// Seeds are in testdata/fuzz/FuzzDecodeHeader.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(pack.EncodeHeader(sampleBlobs()), int64(sampleHeaderOffset))
	f.Fuzz(func(t *testing.T, plain []byte, headerOffset int64) {
		blobs, err := pack.DecodeHeader(plain, headerOffset)
		if err != nil {
			if !errors.Is(err, pack.ErrInvalidHeader) {
				t.Fatalf("error does not wrap ErrInvalidHeader: %v", err)
			}
			return
		}
		if len(blobs) == 0 {
			t.Fatal("accepted a header without entries")
		}
		if re := pack.EncodeHeader(blobs); !bytes.Equal(re, plain) {
			t.Fatalf("EncodeHeader(DecodeHeader(x)) != x:\n%x\n%x", re, plain)
		}
		seen := map[pack.ID]bool{}
		var offset int64
		for i, b := range blobs {
			if int64(b.Offset) != offset {
				t.Fatalf("entry %d: offset %d, want %d", i, b.Offset, offset)
			}
			offset += int64(b.Length)
			if seen[b.ID] || b.ID.IsNull() {
				t.Fatalf("entry %d: duplicate or null ID %s", i, b.ID)
			}
			seen[b.ID] = true
			if _, err := b.Type.MarshalText(); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if _, err := b.Compression.MarshalText(); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if b.RawLength > pack.MaxBlobSize {
				t.Fatalf("entry %d: raw length %d", i, b.RawLength)
			}
			if (b.Compression == pack.Delta) == b.Base.IsNull() || b.Base == b.ID {
				t.Fatalf("entry %d: %v blob with base %s", i, b.Compression, b.Base)
			}
		}
		if offset != headerOffset {
			t.Fatalf("blobs end at %d, header at %d", offset, headerOffset)
		}
	})
}

// FuzzReadHeader feeds whole pack files to ReadHeader and then Decode. It
// reads each input twice: sealed with the fixed test key, where almost any
// change fails authentication, and with nullSealer, which authenticates
// nothing, so that mutated headers and payloads reach the decoders.
func FuzzReadHeader(f *testing.F) {
	key := testKey()
	sealers := []pack.Sealer{key, nullSealer{}}
	base := csvChunk(9, 600)
	for _, s := range sealers {
		ids := func(b []byte) pack.ID { return key.BlobID(b) }
		p := buildPack(f, s, ids, []testBlob{
			{typ: pack.DataBlob, plain: []byte("raw")},
			{typ: pack.TreeBlob, plain: bytes.Repeat([]byte("tree "), 40)},
			{typ: pack.DataBlob, plain: changeOneLine(base), base: base},
		})
		f.Add(p.file)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	decoders := make([]*pack.Decoder, len(sealers))
	for i, s := range sealers {
		dec, err := pack.NewDecoder(s)
		if err != nil {
			f.Fatal(err)
		}
		decoders[i] = dec
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		for i, s := range sealers {
			blobs, err := pack.ReadHeader(loaderOf(t, file), int64(len(file)), s)
			if err != nil {
				if !errors.Is(err, pack.ErrInvalidHeader) {
					t.Fatalf("error does not wrap ErrInvalidHeader: %v", err)
				}
				continue
			}
			last := blobs[len(blobs)-1]
			hdrLen := int64(binary.LittleEndian.Uint32(file[len(file)-4:]))
			if end := int64(last.Offset) + int64(last.Length); end+hdrLen+4 != int64(len(file)) {
				t.Fatalf("blobs end at %d, header of %d bytes, file of %d", end, hdrLen, len(file))
			}
			for _, b := range blobs {
				var base []byte
				if b.Compression == pack.Delta {
					base = []byte("some base plaintext")
				}
				out, err := decoders[i].Decode(nil, file[b.Offset:b.Offset+b.Length], b, base)
				if err == nil && len(out) != int(b.RawLength) {
					t.Fatalf("%v: decoded %d bytes, entry says %d", b, len(out), b.RawLength)
				}
			}
		}
	})
}
