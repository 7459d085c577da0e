package repo_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/prune"
	"strata/repo/repotest"
	"strata/verify"
)

// hugeChunks is the chunk count of TestHundredMillionChunks.
const hugeChunks = 100_000_000

// TestHundredMillionChunks builds a table node of 100 million chunks
// without their data: 4,096 small data blobs stored for real, named over
// and over by a pseudo-random but periodic sequence, so that the pages
// repeat and the repository stays small. It shows that writing the
// chunk list, walking it, checking and pruning the repository holding it
// stream the chunks in bounded memory (sampled heap below 256 MiB
// throughout); the pages' bytes per million distinct chunks are measured
// by BenchmarkPages. make test-long runs it.
func TestHundredMillionChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("100 million chunks: make test-long")
	}
	r, be := repotest.New(t, repotest.LargePacks)
	const distinct = 4096
	ids := make([]pack.ID, distinct)
	for i := range ids {
		res, err := r.SaveBlob(ctx, pack.DataBlob, fmt.Appendf(nil, "%d\trow\n", i), pack.ID{})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.ID
	}
	// Chunk i names blob (i * 2654435761) mod distinct, with a key of
	// its position in a period of 1 << 20 chunks.
	chunk := func(i uint64) (pack.ID, repo.ChunkInfo) {
		k := i % (1 << 20)
		return ids[(k*2654435761)%distinct], repo.ChunkInfo{FirstKey: fmt.Sprintf("%08d", k), Rows: 1, Bytes: 6}
	}
	peak := heapSampler()

	start := time.Now()
	pw := repo.NewPageWriter(r.SaveTreeBlob)
	for i := range uint64(hugeChunks) {
		id, info := chunk(i)
		if err := pw.Add(ctx, id, info); err != nil {
			t.Fatal(err)
		}
		if i%(1<<20) == 0 {
			peak.sample()
		}
	}
	root, err := pw.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := repo.Node{Name: "huge", Kind: repo.NodeTable, Size: hugeChunks * 6, Pages: root}
	tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{node}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveSnapshot(ctx, &repo.Snapshot{Time: time.Now(), Host: "h", Paths: []string{"/huge"}, Tree: tree}); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote 100M chunk entries in %v", time.Since(start).Round(time.Second))

	// Walk every chunk, in order, with every page loaded each time it is
	// named.
	start = time.Now()
	var n uint64
	w := repo.Walker{Loader: r, Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
		want, info := chunk(n)
		if c.ID != want || c.Info != info || c.Index != n {
			return fmt.Errorf("chunk %d: %v %+v, want %v %+v", n, c.ID.Short(), c.Info, want.Short(), info)
		}
		n++
		if n%(1<<20) == 0 {
			peak.sample()
		}
		return nil
	}}
	if err := w.Walk(ctx, tree, "/"); err != nil {
		t.Fatal(err)
	}
	if n != hugeChunks {
		t.Fatalf("walked %d chunks", n)
	}
	t.Logf("walked 100M chunks in %v", time.Since(start).Round(time.Second))

	// The seeker finds a chunk by key from the root down.
	s := repo.NewChunkSeeker(r, &node, strings.Compare)
	if got, ok, err := s.Floor(ctx, "00000777"); err != nil || !ok || got != ids[(777*2654435761)%distinct] {
		t.Errorf("Floor: %v %v %v", got.Short(), ok, err)
	}

	rep, err := verify.Check(ctx, r, verify.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Pages == 0 {
		t.Errorf("check: ok %v, %d pages, findings %v", rep.OK(), rep.Pages, rep.Findings)
	}
	peak.sample()
	if _, err := prune.Run(ctx, r, prune.Options{}); err != nil {
		t.Fatal(err)
	}
	peak.sample()
	t.Logf("check and prune: %d distinct pages; heap peak %d MiB", rep.Pages, peak.max>>20)
	if peak.max > 256<<20 {
		t.Errorf("heap reached %d MiB", peak.max>>20)
	}
	repotest.CheckClean(t, be)
}

// heap samples the heap in use after a collection.
type heap struct{ max uint64 }

func heapSampler() *heap { return &heap{} }

func (h *heap) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.max = max(h.max, ms.HeapAlloc)
}

// BenchmarkPages writes and walks the pages of a chunk list of one million
// distinct chunks (made-up IDs, integer keys, 64 KiB chunks) and reports
// the pages' bytes and count per million chunks; -benchmem gives the
// memory of a write and walk.
func BenchmarkPages(b *testing.B) {
	const chunks = 1_000_000
	for b.Loop() {
		m := memPages{}
		pw := repo.NewPageWriter(m.save)
		for i := range uint64(chunks) {
			var id pack.ID
			binary.LittleEndian.PutUint64(id[:], i*0x9E3779B97F4A7C15)
			binary.LittleEndian.PutUint64(id[24:], i*0xC2B2AE3D27D4EB4F)
			if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: fmt.Sprint(i * 310), Rows: 310, Bytes: 65536}); err != nil {
				b.Fatal(err)
			}
		}
		root, err := pw.Finish(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var n uint64
		w := repo.Walker{Loader: m, Chunk: func(string, *repo.Node, repo.ChunkRef) error { n++; return nil }}
		if err := w.WalkContent(ctx, "/t", &repo.Node{Kind: repo.NodeTable, Pages: root}); err != nil || n != chunks {
			b.Fatal(n, err)
		}
		var bytes int
		for _, p := range m {
			bytes += len(p)
		}
		b.ReportMetric(float64(bytes), "page-bytes/Mchunk")
		b.ReportMetric(float64(len(m)), "pages/Mchunk")
	}
}
