package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/crypto"
	"strata/verify"
)

// chainFixture is a repository of hourly snapshots of three table chunks,
// each hour's chunk a delta blob on the previous hour's (chains restart
// on their root at the configured depth), one pack per hour.
type chainFixture struct {
	be      *countingBackend
	chunks  [][]pack.ID // chunks[hour][i]
	snaps   []pack.ID   // one per hour
	entries int         // index entries of data blobs
}

func newChainFixture(t *testing.T, hours int) *chainFixture {
	t.Helper()
	ctx := context.Background()
	cfg, err := repo.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.PackSize = 1 << 20
	f := &chainFixture{be: &countingBackend{Storage: mem.New()}}
	r, err := repo.Init(ctx, f.be, password, cfg, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	data := [][]byte{csvRows(11, 4000), csvRows(12, 4000), csvRows(13, 4000)}
	prev := make([]pack.ID, len(data))
	deltas := 0
	for h := range hours {
		ids := make([]pack.ID, len(data))
		var nodes []repo.Node
		for i := range data {
			if h > 0 {
				// One row changes an hour.
				row := fmt.Appendf(nil, "%d,2024-01-01,h%d,0.00\n", 5000+i, h)
				at := bytes.IndexByte(data[i][h*37%len(data[i]):], '\n') + h*37%len(data[i]) + 1
				data[i] = slices.Concat(data[i][:at], row, data[i][at:])
			}
			res, err := r.SaveBlob(ctx, pack.DataBlob, data[i], prev[i])
			if err != nil {
				t.Fatal(err)
			}
			if res.Compression == pack.Delta {
				deltas++
			}
			ids[i], prev[i] = res.ID, res.ID
			nodes = append(nodes, repo.Node{Name: fmt.Sprintf("t%d.csv", i), Kind: repo.NodeFile, Mode: 0o600, Size: uint64(len(data[i])), Content: []pack.ID{res.ID}})
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		root, err := r.SaveTree(ctx, &repo.Tree{Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		sn := &repo.Snapshot{Time: time.Date(2024, 5, 1, h, 0, 0, 0, time.UTC), Host: "db1", Source: "files", Paths: []string{"/srv"}, Tree: root}
		if err := r.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		f.chunks = append(f.chunks, ids)
		f.snaps = append(f.snaps, sn.ID)
		f.entries += len(ids)
	}
	if deltas < (hours-1)*len(data)*3/4 {
		t.Fatalf("%d of %d later chunks stored as delta blobs; the fixture needs chains", deltas, (hours-1)*len(data))
	}
	return f
}

func (f *chainFixture) check(t *testing.T, opts verify.CheckOptions) (*verify.Report, *repo.Repository) {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, password, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f.be.reset()
	rep, err := verify.Check(context.Background(), r, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return rep, r
}

// countingBackend counts the ranged loads of each stretch of each pack.
type countingBackend struct {
	backend.Storage
	mu    sync.Mutex
	loads map[packRange]int
}

type packRange struct {
	pack           string
	offset, length int64
}

func (b *countingBackend) reset() {
	b.mu.Lock()
	b.loads = map[packRange]int{}
	b.mu.Unlock()
}

func (b *countingBackend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if h.Type == backend.PackFile {
		b.mu.Lock()
		if b.loads != nil {
			b.loads[packRange{h.Name, offset, length}]++
		}
		b.mu.Unlock()
	}
	return b.Storage.Load(ctx, h, offset, length)
}

// dataLoads returns how often the stretch of each data blob entry was
// loaded on its own, by entry.
func (b *countingBackend) dataLoads(r *repo.Repository, f *chainFixture) map[packRange]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := map[packRange]int{}
	for _, ids := range f.chunks {
		for _, id := range ids {
			for _, loc := range r.Index().LookupAll(id) {
				pr := packRange{loc.Pack.String(), int64(loc.Offset), int64(loc.Length)}
				got[pr] = b.loads[pr]
			}
		}
	}
	return got
}

// A check that reads data decodes every blob of a delta chain once: with
// the chain blobs kept from the pack reads, no blob is loaded again; with
// none kept, each is loaded once more, never a base per link as a load
// through the repository would.
func TestCheckChainsDecodeEachBlobOnce(t *testing.T) {
	f := newChainFixture(t, 24)
	for _, tc := range []struct {
		name      string
		memory    int64
		wantLoads int
	}{
		{"kept", 0, 0},
		{"reloaded", -1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, r := f.check(t, verify.CheckOptions{ReadData: true, Workers: 2, ChainMemory: tc.memory})
			if !rep.OK() || len(rep.Findings) > 0 {
				t.Fatalf("findings on an intact repository:\n%s", describe(rep.Findings))
			}
			loads := f.be.dataLoads(r, f)
			if len(loads) != f.entries {
				t.Fatalf("%d data blob entries indexed, want %d", len(loads), f.entries)
			}
			for pr, n := range loads {
				if n != tc.wantLoads {
					t.Errorf("data blob at %s+%d loaded %d times on its own, want %d", pr.pack[:8], pr.offset, n, tc.wantLoads)
				}
			}
		})
	}
}

// A damaged link of a chain is the one damaged blob of its pack, and the
// snapshots that need it (through the links built on it) lose data; the
// links below are not reported as damaged themselves. The same holds
// whether the chain blobs are kept or loaded again.
func TestCheckChainsDamagedLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		hour int
	}{
		{"root", 0},
		{"middle", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newChainFixture(t, 12)
			r0, _ := f.check(t, verify.CheckOptions{})
			if !r0.OK() {
				t.Fatalf("fixture not clean:\n%s", describe(r0.Findings))
			}
			r := openChain(t, f)
			bad := f.chunks[tc.hour][0]
			loc, _ := r.Index().Lookup(bad)
			h := backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
			data, err := f.be.Load(context.Background(), h, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			data = bytes.Clone(data)
			data[int(loc.Offset)+crypto.NonceSize] ^= 1
			if err := f.be.Remove(context.Background(), h); err != nil {
				t.Fatal(err)
			}
			if err := f.be.Save(context.Background(), h, backend.NewByteReader(data)); err != nil {
				t.Fatal(err)
			}

			var reports []*verify.Report
			for _, memory := range []int64{0, -1} {
				rep, _ := f.check(t, verify.CheckOptions{ReadData: true, Workers: 2, ChainMemory: memory})
				reports = append(reports, rep)
				var damaged *verify.DamagedPack
				for _, fd := range rep.Findings {
					switch fd := fd.(type) {
					case *verify.DamagedPack:
						if damaged != nil {
							t.Errorf("second damaged pack: %v", fd)
						}
						damaged = fd
					case *verify.DamagedBlob:
						t.Errorf("a link below the damaged one reported as damaged: %v", fd)
					}
				}
				if damaged == nil {
					t.Fatalf("ChainMemory %d: no DamagedPack finding:\n%s", memory, describe(rep.Findings))
				}
				if damaged.Pack != loc.Pack || !slices.Equal(damaged.Blobs, []pack.ID{bad}) {
					t.Errorf("ChainMemory %d: damaged pack %s blobs %v, want %s [%s]", memory, damaged.Pack.Short(), damaged.Blobs, loc.Pack.Short(), bad.Short())
				}
				if !slices.Contains(damaged.Snapshots, f.snaps[tc.hour]) || !slices.Contains(damaged.Snapshots, f.snaps[tc.hour+1]) {
					t.Errorf("ChainMemory %d: snapshots losing data %v, want those of hours %d and %d among them", memory, damaged.Snapshots, tc.hour, tc.hour+1)
				}
			}
			a, b := reports[0].Findings, reports[1].Findings
			if len(a) != len(b) {
				t.Fatalf("findings differ with the chain blobs kept and loaded again:\n%s\n%s", describe(a), describe(b))
			}
			for i := range a {
				if fmt.Sprint(normalize(t, a[i])) != fmt.Sprint(normalize(t, b[i])) {
					t.Errorf("finding %d differs: %v, %v", i, a[i], b[i])
				}
			}
		})
	}
}

func openChain(t *testing.T, f *chainFixture) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, password, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}
