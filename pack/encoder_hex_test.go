package pack_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"

	"strata/pack"
)

// A BLOB column is exported as `\\x` and two hex digits a byte
// (docs/design.md, "Canonical row encoding"). Hex of bytes that do not
// compress has no matches for zstd to find, only 16 symbols, which entropy
// coding stores at 4 bits each: a chunk of such rows must store at about
// the size of the bytes themselves, not of their hex (zstd's level 3
// skips entropy coding in blocks without a match unless told otherwise,
// and stored them at 2.0 times their size).
func TestBlobHexStoresAtItsBytes(t *testing.T) {
	enc, err := pack.NewEncoder(nullSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1000, 10000, 60000} {
		var chunk bytes.Buffer
		blobs := 0
		for chunk.Len() < 64<<10 {
			fmt.Fprintf(&chunk, "%d\t\\\\x%s\n", blobs, hex.EncodeToString(randomBytes(uint64(size+blobs), size)))
			blobs++
		}
		sealed, c, err := enc.Encode(nil, chunk.Bytes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		stored, raw := len(sealed)-nullOverhead, blobs*size
		if c != pack.Zstd || float64(stored) > 1.05*float64(raw) {
			t.Errorf("rows of %d-byte blobs (%d bytes of blobs, %d of COPY text) stored as %v in %d bytes: %.3f of the blobs' size, want at most 1.05",
				size, raw, chunk.Len(), c, stored, float64(stored)/float64(raw))
		}
	}
}
