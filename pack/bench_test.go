package pack_test

import (
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
)

// Run with -cpu=1,2 to see whether encoding scales with cores; MB/s counts
// plaintext.
func BenchmarkEncode(b *testing.B) {
	chunks := make([][]byte, 16)
	for i := range chunks {
		chunks[i] = csvChunk(uint64(i), 64<<10)
	}
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		b.Run(level.String(), func(b *testing.B) {
			enc, err := pack.NewEncoder(testKey(), level)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(64 << 10)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				for i := 0; pb.Next(); i++ {
					dst, _, err = enc.Encode(dst[:0], chunks[i%len(chunks)], nil)
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkEncodeDelta encodes 64 KiB chunks with one changed line against
// their predecessor: one delta compression each (a delta that small is
// stored without trying plain zstd).
func BenchmarkEncodeDelta(b *testing.B) {
	bases := make([][]byte, 16)
	chunks := make([][]byte, len(bases))
	for i := range chunks {
		bases[i] = csvChunk(uint64(i), 64<<10)
		chunks[i] = changeOneLine(bases[i])
	}
	enc, err := pack.NewEncoder(testKey(), zstd.SpeedDefault)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var dst []byte
		for i := 0; pb.Next(); i++ {
			dst, _, err = enc.Encode(dst[:0], chunks[i%len(chunks)], bases[i%len(bases)])
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	key := testKey()
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		b.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		b.Fatal(err)
	}
	base := csvChunk(1, 64<<10)
	plain := changeOneLine(base)
	tests := []struct {
		name string
		base []byte
	}{
		{"zstd", nil},
		{"delta", base},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			sealed, c, err := enc.Encode(nil, plain, tt.base)
			if err != nil {
				b.Fatal(err)
			}
			blob := pack.Blob{Compression: c, ID: key.BlobID(plain), Length: uint32(len(sealed)), RawLength: uint32(len(plain))}
			if c == pack.Delta {
				blob.Base = key.BlobID(base)
			}
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				for pb.Next() {
					if dst, err = dec.Decode(dst[:0], sealed, blob, tt.base); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
