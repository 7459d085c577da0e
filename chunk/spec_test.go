package chunk

import (
	"bytes"
	"testing"

	"github.com/restic/chunker"
)

// specCuts cuts data by the text of docs/design.md, "The Rabin cut",
// computing each fingerprint with plain GF(2) polynomial arithmetic rather
// than restic's tables.
func specCuts(data []byte, p Params) []int {
	pol := chunker.Pol(p.Pol)
	// out[b] = b(x) * x^(8*63) mod P removes the oldest byte of the window.
	x504 := chunker.Pol(1)
	for range 8 * 63 {
		x504 = (x504 << 1).Mod(pol)
	}
	var out [256]chunker.Pol
	for b := range out {
		out[b] = x504.MulMod(chunker.Pol(b), pol)
	}
	mask := chunker.Pol(1)<<p.AvgBits - 1
	minSize, maxSize := int(p.MinSize), int(p.MaxSize)

	var lengths []int
	for s := 0; s < len(data); {
		rest := data[s:]
		if len(rest) < minSize {
			return append(lengths, len(rest))
		}
		var f chunker.Pol
		for _, b := range rest[minSize-64 : minSize] {
			f = (f<<8 | chunker.Pol(b)).Mod(pol)
		}
		n := len(rest)
		for L := minSize; L <= min(len(rest), maxSize); L++ {
			if f&mask == 0 || L == maxSize {
				n = L
				break
			}
			if L < len(rest) {
				f = ((f^out[rest[L-64]])<<8 | chunker.Pol(rest[L])).Mod(pol)
			}
		}
		lengths = append(lengths, n)
		s += n
	}
	return lengths
}

// TestRabinSpec checks that the Chunker cuts where the design document
// says, so that anyone can reimplement the cut from the document.
func TestRabinSpec(t *testing.T) {
	p := Params{Pol: testPol, MinSize: 512, AvgBits: 10, MaxSize: 4096}
	for _, data := range [][]byte{genRandom(8, 200<<10), genCSV(9, 200<<10)} {
		var got []int
		for _, c := range chunkAll(t, bytes.NewReader(data), p) {
			got = append(got, len(c))
		}
		want := specCuts(data, p)
		if len(got) != len(want) {
			t.Fatalf("got %d chunks, the document's rule gives %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("chunk %d: got %d bytes, the document's rule gives %d", i, got[i], want[i])
			}
		}
	}
}
