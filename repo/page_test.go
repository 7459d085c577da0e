package repo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
)

// fakeChunk returns a made-up chunk ID and info for position i, the same
// for the same i and salt.
func fakeChunk(i uint64, salt string) (pack.ID, repo.ChunkInfo) {
	id := pack.ID(sha256.Sum256(fmt.Appendf(nil, "%s/%d", salt, i)))
	return id, repo.ChunkInfo{FirstKey: fmt.Sprintf("%012d", i*300+1), Rows: 300, Bytes: 65000 + i%1000}
}

// memPages is a PageSaver that keeps pages in a map by their SHA-256.
type memPages map[pack.ID][]byte

func (m memPages) save(_ context.Context, b []byte) (pack.ID, error) {
	id := pack.ID(sha256.Sum256(b))
	m[id] = bytes.Clone(b)
	return id, nil
}

func (m memPages) LoadBlob(_ context.Context, id pack.ID) ([]byte, error) {
	b, ok := m[id]
	if !ok {
		return nil, repo.ErrBlobNotFound
	}
	return b, nil
}

func (m memPages) LoadTree(context.Context, pack.ID) (*repo.Tree, error) {
	return nil, repo.ErrBlobNotFound
}

// writePages writes the chunks 0..n-1 (the ids replaced by replace) and
// returns the root page.
func writePages(t testing.TB, m memPages, n uint64, replace map[uint64]string) *pack.ID {
	t.Helper()
	pw := repo.NewPageWriter(m.save)
	for i := range n {
		id, info := fakeChunk(i, replace[i])
		if err := pw.Add(ctx, id, info); err != nil {
			t.Fatal(err)
		}
	}
	root, err := pw.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestPagesRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 63, 64, 65, 1000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := memPages{}
			root := writePages(t, m, n, nil)
			if n == 0 {
				if root != nil {
					t.Fatal("a page for no chunk")
				}
				return
			}
			node := &repo.Node{Name: "t", Kind: repo.NodeTable, Pages: root}
			var got uint64
			pages := 0
			w := repo.Walker{Loader: m,
				Page: func(pack.ID, string) error { pages++; return nil },
				Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
					id, info := fakeChunk(got, "")
					if c.ID != id || c.Info != info || c.Index != got || !c.HasInfo {
						t.Fatalf("chunk %d: %+v, want %v %+v", got, c, id, info)
					}
					got++
					return nil
				}}
			if err := w.WalkContent(ctx, "/t", node); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Fatalf("walked %d chunks, want %d", got, n)
			}
			if pages != len(m) {
				t.Errorf("walked %d pages, stored %d", pages, len(m))
			}
			// Every page is within bounds and decodes to what encodes it.
			for id, b := range m {
				pg, err := repo.DecodePage(b)
				if err != nil {
					t.Fatalf("page %s: %v", id.Short(), err)
				}
				enc, err := repo.EncodePage(pg)
				if err != nil || !bytes.Equal(enc, b) {
					t.Fatalf("page %s does not encode to itself: %v", id.Short(), err)
				}
			}
			// The seeker finds each chunk by its first key, and a key
			// between two chunks' finds the first of them.
			s := repo.NewChunkSeeker(m, node, strings.Compare)
			for _, i := range []uint64{0, min(1, n-1), n / 2, n - 1} {
				id, info := fakeChunk(i, "")
				for _, key := range []string{info.FirstKey, info.FirstKey + "5"} {
					got, ok, err := s.Floor(ctx, key)
					if err != nil || !ok {
						t.Fatalf("Floor(%q): %v %v", key, ok, err)
					}
					// The keys ascend, so the floor of a key at or after
					// chunk i's is chunk i.
					want := id
					if got != want {
						t.Errorf("Floor(%q) = %s, want %s", key, got.Short(), want.Short())
					}
				}
			}
		})
	}
}

// TestPagesKeepTheirIDs: a change to a few chunks rewrites the pages above
// them and no others, so an hour stores little beyond its changed chunks.
func TestPagesKeepTheirIDs(t *testing.T) {
	const n = 50000
	before, after := memPages{}, memPages{}
	writePages(t, before, n, nil)
	writePages(t, after, n, map[uint64]string{100: "x", 25000: "x", 49999: "x"})
	added := 0
	for id := range after {
		if _, ok := before[id]; !ok {
			added++
		}
	}
	leaves := 0
	for _, b := range before {
		if pg, _ := repo.DecodePage(b); pg.Level == 0 {
			leaves++
		}
	}
	t.Logf("%d pages (%d leaves) for %d chunks; 3 changed chunks added %d pages", len(before), leaves, n, added)
	if leaves < n/repo.PageAverage/2 || leaves > n/repo.PageAverage*2 {
		t.Errorf("%d leaf pages for %d chunks, want about %d", leaves, n, n/repo.PageAverage)
	}
	// Three changes: at most two leaves each (a changed ID may move a
	// boundary) plus the inner pages on the way up.
	if added > 3*2+3*3 {
		t.Errorf("3 changed chunks added %d pages", added)
	}
}

// TestPageBounds: long keys and runs without a boundary still give pages
// within MaxPageSize and MaxPageEntries.
func TestPageBounds(t *testing.T) {
	m := memPages{}
	pw := repo.NewPageWriter(m.save)
	for i := range 3000 {
		// IDs that are never a boundary: last 4 bytes 1.
		var id pack.ID
		binary.BigEndian.PutUint64(id[:], uint64(i))
		binary.LittleEndian.PutUint32(id[pack.IDSize-4:], 1)
		key := strings.Repeat("k", 5000) + fmt.Sprint(i)
		if i%2 == 0 {
			key = fmt.Sprint(i)
		}
		if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: key, Rows: 1, Bytes: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pw.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	for id, b := range m {
		pg, err := repo.DecodePage(b)
		if err != nil {
			t.Fatalf("page %s: %v", id.Short(), err)
		}
		if len(b) > repo.MaxPageSize || len(pg.Entries) > repo.MaxPageEntries {
			t.Errorf("page of %d bytes, %d entries", len(b), len(pg.Entries))
		}
		for _, e := range pg.Entries {
			if len(e.FirstKey) > repo.MaxFirstKey {
				t.Errorf("key of %d bytes", len(e.FirstKey))
			}
		}
	}
}

func TestDecodePageRejects(t *testing.T) {
	good, err := repo.EncodePage(&repo.Page{Level: 0, Entries: []repo.PageEntry{
		{ID: pack.ID{1}, FirstKey: "abc", Rows: 2, Bytes: 3, Chunks: 1},
		{ID: pack.ID{2}, FirstKey: "abd", Rows: 2, Bytes: 3, Chunks: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.DecodePage(good); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":      nil,
		"json":       []byte(`{"nodes":[]}`),
		"no entries": []byte("SPG1\x00\x00"),
		"level":      append([]byte("SPG1\x09"), good[5:]...),
		"cut":        good[:len(good)-1],
		"trailing":   append(slices.Clone(good), 0),
		"shared":     append(slices.Clone(good[:5+1+32]), 9, 0, 0, 0),
		"too large":  append(slices.Clone(good), make([]byte, repo.MaxPageSize)...),
	} {
		if _, err := repo.DecodePage(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
