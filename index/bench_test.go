package index

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"

	"strata/pack"
)

// The benchmarks model a large repository: 10 million blobs in packs of
// 1000, half of them delta blobs whose bases are earlier blobs, as in
// backups of tables that change a little between snapshots.
const (
	benchBlobs   = 10_000_000
	benchPerPack = 1000
)

// BenchmarkIndexMemory reports the heap an Index retains per entry, with
// all its tables, after adding benchBlobs blobs one pack at a time
// ("bytes/blob", the state during a backup, with pending runs) and after
// Compact ("bytes/blob-compacted"). ns/op is the time to build the index.
//
//	go test ./index -run '^$' -bench BenchmarkIndexMemory -benchtime 1x
func BenchmarkIndexMemory(b *testing.B) {
	var perBlob, perBlobCompacted float64
	for b.Loop() {
		before := heapAlloc()
		x := buildBenchIndex(benchBlobs)
		perBlob = float64(heapAlloc()-before) / benchBlobs
		x.Compact()
		perBlobCompacted = float64(heapAlloc()-before) / benchBlobs
		runtime.KeepAlive(x)
	}
	b.ReportMetric(perBlob, "bytes/blob")
	b.ReportMetric(perBlobCompacted, "bytes/blob-compacted")
}

// BenchmarkIndexLookup reports the time of one Lookup in an index of
// benchBlobs blobs, of a blob it holds ("hit") and of one it does not
// ("miss"), both as AddPack left the index and after Compact.
//
//	go test ./index -run '^$' -bench BenchmarkIndexLookup
func BenchmarkIndexLookup(b *testing.B) {
	x := buildBenchIndex(benchBlobs)
	lookups := func(b *testing.B, x *Index) {
		b.Run("hit", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				if _, ok := x.Lookup(benchID(rng.IntN(benchBlobs))); !ok {
					b.Fatal("blob not found")
				}
			}
		})
		b.Run("miss", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			for b.Loop() {
				if _, ok := x.Lookup(benchID(benchBlobs + rng.IntN(benchBlobs))); ok {
					b.Fatal("blob found")
				}
			}
		})
	}
	b.Run("pending", func(b *testing.B) { lookups(b, x) })
	x.Compact()
	b.Run("compacted", func(b *testing.B) { lookups(b, x) })
}

// buildBenchIndex adds n blobs in packs of benchPerPack. Blob IDs are
// computed from the blob's number, so the benchmark keeps no list of them
// that would count as the index's memory.
func buildBenchIndex(n int) *Index {
	x := New()
	buildInto(x, n)
	return x
}

func buildInto(x *Index, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	blobs := make([]pack.Blob, 0, benchPerPack)
	for first := 0; first < n; first += benchPerPack {
		blobs = blobs[:0]
		var offset uint32
		for i := first; i < min(first+benchPerPack, n); i++ {
			b := pack.Blob{
				Type:        pack.DataBlob,
				Compression: pack.Zstd,
				ID:          benchID(i),
				Offset:      offset,
				Length:      1000 + rng.Uint32N(8000),
				RawLength:   16000,
			}
			if i%2 == 1 {
				b.Compression = pack.Delta
				b.Base = benchID(rng.IntN(i))
			}
			offset += b.Length
			blobs = append(blobs, b)
		}
		x.AddPack(benchID(-1-first), blobs)
	}
}

// benchID returns the ID of blob i (of pack -1-i for negative i): 32
// uniformly random-looking bytes, as keyed hashes are.
func benchID(i int) pack.ID {
	var id pack.ID
	for w := range 4 {
		binary.LittleEndian.PutUint64(id[8*w:], splitmix64(uint64(i)*4+uint64(w)+1))
	}
	return id
}

// splitmix64 is SplitMix64's output for the k-th step: a bijection that
// scatters consecutive inputs.
func splitmix64(k uint64) uint64 {
	z := k * 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// heapAlloc returns the bytes of live heap objects after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
