package chunk

import (
	"bytes"
	"io"
	"testing"
)

// chunkReader returns its data in reads of varying sizes, driven by sizes.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + int(r.sizes[r.i%len(r.sizes)])*37
	r.i++
	n = min(n, len(b), len(r.data))
	copy(b, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzChunker checks that the chunks of any input, cut with any small
// parameters and read in any pieces, concatenate to the input and match the
// reference cut. Inputs are a few kilobytes, so the fuzzer spends most of
// its time minimising; run it with
//
//	go test -run X -fuzz FuzzChunker -fuzzminimizetime 2s ./chunk
func FuzzChunker(f *testing.F) {
	f.Add(genCSV(1, 8<<10), uint8(0), uint8(0), uint8(0), true, []byte{1, 200, 3})
	f.Add(genRandom(2, 8<<10), uint8(1), uint8(2), uint8(3), false, []byte{255})
	f.Add(bytes.Repeat([]byte("ab\n"), 5000), uint8(2), uint8(1), uint8(1), true, []byte{0})
	f.Add([]byte{}, uint8(0), uint8(0), uint8(0), true, []byte{7})
	f.Fuzz(func(t *testing.T, data []byte, minK, avgExtra, maxExtra uint8, aligned bool, sizes []byte) {
		if len(sizes) == 0 {
			sizes = []byte{0}
		}
		p := Params{Pol: testPol, MinSize: MinSizeLimit << (minK % 3), LineAligned: aligned}
		p.AvgBits = 10 + uint(minK%3) + uint(avgExtra%3)
		p.MaxSize = (1 << p.AvgBits) << (1 + maxExtra%3)
		chunks := chunkAll(t, &chunkReader{data: data, sizes: sizes}, p)
		checkChunks(t, data, chunks, p)
	})
}
