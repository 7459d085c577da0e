package repo_test

import (
	"math/rand"
	"runtime"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/repotest"
)

// TestDeltaBaseMemoryBounded: storing a delta blob loads its base, the end
// of a chain of delta blobs. The memory that load allocates must not grow
// with the chain's plaintexts: a base at the end of a 16-link chain costs
// about as much as one at the end of a 2-link chain (the chain is decoded
// from its root into two alternating buffers, repo.loadChain), not a
// plaintext buffer per link as the recursive loader held before
// (docs/benchmarks.md, "Memory of an hourly backup: chains loaded from
// their root"). Measured as bytes allocated (runtime.MemStats.TotalAlloc)
// with the buffer pools emptied first, so every buffer the load holds at
// once is a new one.
func TestDeltaBaseMemoryBounded(t *testing.T) {
	const size = 1 << 20
	r, _ := repotest.New(t, repotest.LargePacks, func(c *repo.Config, _ *repo.Options) { c.MaxDeltaDepth = 32 })
	rng := rand.New(rand.NewSource(1))
	plain := make([]byte, size)
	rng.Read(plain) // incompressible: the plaintext is large, the deltas small
	// A chain of 16 blobs (a plain root and 15 delta blobs), each a few
	// bytes away from the one before.
	var chain []pack.ID
	var prev []byte
	for i := 0; i < 16; i++ {
		next := append([]byte(nil), plain...)
		for j := 0; j < 4; j++ {
			next[rng.Intn(size)] ^= 0xff
		}
		base := pack.ID{}
		if len(chain) > 0 {
			base = chain[len(chain)-1]
		}
		res, err := r.SaveDataBlobOn(ctx, next, base, prev)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, res.ID)
		plain, prev = next, next
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := depthOf(r, chain[15]); d != 15 {
		t.Fatalf("chain's last blob at depth %d, want 15", d)
	}
	// allocated stores a new blob as a delta against base and returns the
	// bytes allocated meanwhile.
	allocated := func(base pack.ID, seed byte) uint64 {
		blob := append([]byte(nil), plain...)
		blob[0], blob[1] = seed, seed^0x55
		// Two collections empty the sync.Pools (their victim caches too).
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := r.SaveBlob(ctx, pack.DataBlob, blob, base)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if res.Compression != pack.Delta {
			t.Fatalf("blob stored as %v, want a delta blob", res.Compression)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	// Once each to make the encoders and decoders that are kept.
	allocated(chain[1], 1)
	allocated(chain[15], 2)
	short := allocated(chain[1], 3)
	long := allocated(chain[15], 4)
	t.Logf("allocated: base at depth 1 %d KiB, at depth 15 %d KiB", short>>10, long>>10)
	// The links' stored bytes (the root's is a whole plaintext here:
	// random bytes do not compress) and the decoder's scratch make up
	// the difference; a plaintext buffer per link adds 14 plaintexts
	// (26,527 against 8,343 KiB with the recursive loader; 10,703 when
	// each link's bytes are read after its base, 12,092 when the chain's
	// are read at once).
	if long > short+8*size {
		t.Errorf("loading a base at depth 15 allocated %d KiB, at depth 1 %d KiB: more than eight plaintexts (%d KiB) apart, so the load holds memory per link", long>>10, short>>10, 8*size>>10)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
