package pack_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
	"strata/repo/crypto"
)

// TestDecodeUnknownLength decodes blobs as the in-memory index describes
// them: without RawLength. zstd leaves the length out of small frames, so
// both kinds of frame must decode.
func TestDecodeUnknownLength(t *testing.T) {
	key, err := crypto.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := pack.NewEncoder(key, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pack.NewDecoder(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []byte(strings.Repeat("1\tcustomer one\tone@example.com\n", 40))
	tests := []struct {
		name  string
		plain []byte
		base  []byte
	}{
		{"small zstd", []byte(strings.Repeat("abc", 20)), nil},
		{"large zstd", bytes.Repeat([]byte("row\tvalue\n"), 10000), nil},
		{"small delta", append([]byte("0\tzero\n"), base[:200]...), base},
		{"large delta", append(append([]byte{}, base...), "99\tnew\n"...), base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, c, err := enc.Encode(nil, tt.plain, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			if c == pack.Raw {
				t.Fatalf("%s stored raw; the test needs a compressed blob", tt.name)
			}
			b := pack.Blob{Type: pack.DataBlob, Compression: c, ID: pack.ID{1}, Length: uint32(len(sealed))}
			var base []byte
			if c == pack.Delta {
				b.Base, base = pack.ID{2}, tt.base
			}
			got, err := dec.Decode(nil, sealed, b, base)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plain) {
				t.Fatal("plaintext differs")
			}
		})
	}
}
