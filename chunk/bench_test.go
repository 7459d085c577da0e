package chunk

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/zeebo/blake3"
)

// benchCSV is 64 MiB of CSV-like rows, made once for all benchmarks.
var benchCSV = sync.OnceValue(func() []byte { return genCSV(42, 64<<20)[:64<<20] })

// BenchmarkChunker measures chunking alone, and chunking followed by a
// BLAKE3-256 of every chunk on the same core (the sequential part of the
// backup pipeline), for the default parameters with and without line
// alignment. Run with: go test -run X -bench Chunker ./chunk
//
// MB/cpu-s divides the bytes by this process's CPU time rather than the
// wall time, so it stays meaningful while other processes share the cores.
func BenchmarkChunker(b *testing.B) {
	data := benchCSV()
	cases := []struct {
		name string
		p    Params
	}{
		{"table/aligned=no", func() Params { p := TableParams(testPol); p.LineAligned = false; return p }()},
		{"table/aligned=yes", TableParams(testPol)},
		{"file/aligned=no", FileParams(testPol)},
	}
	for _, tc := range cases {
		for _, hash := range []bool{false, true} {
			name := tc.name
			if hash {
				name += "/blake3"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				rd := bytes.NewReader(data)
				c := New(rd, tc.p)
				var chunks int
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					rd.Reset(data)
					c.Reset(rd)
					for {
						buf, err := c.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						if hash {
							_ = blake3.Sum256(buf)
						}
						chunks++
					}
				}
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
				}
				b.ReportMetric(float64(len(data))*float64(b.N)/float64(chunks), "B/chunk")
			})
		}
	}
}
