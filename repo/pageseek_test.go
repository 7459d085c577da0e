package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
)

// countingPages counts the pages a seeker loads.
type countingPages struct {
	memPages
	loads int
}

func (c *countingPages) LoadBlob(ctx2 context.Context, id pack.ID) ([]byte, error) {
	c.loads++
	return c.memPages.LoadBlob(ctx2, id)
}

// TestChunkSeekerRange: Range gives exactly the chunks whose keys overlap
// the range, over pages and over an inline chunk list alike, and loads
// only the pages on the way to them.
func TestChunkSeekerRange(t *testing.T) {
	const n = 20000
	m := memPages{}
	root := writePages(t, m, n, nil)
	inline := &repo.Node{Name: "t", Kind: repo.NodeTable}
	for i := range uint64(n) {
		id, info := fakeChunk(i, "")
		inline.Content = append(inline.Content, id)
		inline.Chunks = append(inline.Chunks, info)
	}
	key := func(k uint64) string { return fmt.Sprintf("%012d", k) }
	// Chunk i holds keys i*300+1 .. i*300+300.
	for _, r := range []struct{ from, to string }{
		{key(1), key(1)}, {key(301), key(600)}, {key(300), key(301)}, {key(4_000_000), key(4_100_000)},
		{"", key(900)}, {key(5_999_700), ""}, {key(6_000_001), ""}, {"", key(0)}, {"", ""},
	} {
		var want []uint64
		for i := uint64(0); i < n; i++ {
			lo, hi := key(i*300+1), key(i*300+300)
			if i == n-1 {
				hi = "~" // Range cannot know where the last chunk ends
			}
			if (r.to == "" || lo <= r.to) && (r.from == "" || hi >= r.from) {
				want = append(want, i)
			}
		}
		b := repo.KeyBounds{}
		if r.from != "" {
			b.EndsBefore = func(k string) bool { return k <= r.from }
		}
		if r.to != "" {
			b.After = func(k string) bool { return k > r.to }
		}
		for name, node := range map[string]*repo.Node{
			"pages":  {Name: "t", Kind: repo.NodeTable, Pages: root},
			"inline": inline,
		} {
			t.Run(fmt.Sprintf("%s/%s..%s", name, r.from, r.to), func(t *testing.T) {
				cp := &countingPages{memPages: m}
				var got []uint64
				total, err := repo.NewChunkSeeker(cp, node, strings.Compare).Range(ctx, b, func(c repo.ChunkRef) error {
					id, info := fakeChunk(c.Index, "")
					if c.ID != id || c.Info != info {
						t.Fatalf("chunk %d: %+v, want %s %+v", c.Index, c, id.Short(), info)
					}
					got = append(got, c.Index)
					return nil
				})
				if err != nil || total != n {
					t.Fatalf("%d chunks: %v", total, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("chunks %v, want %v", brief(got), brief(want))
				}
				// A narrow range loads one page per level and at most
				// one more per level where it crosses a page boundary.
				if name == "pages" && len(want) <= 2 && cp.loads > 6 {
					t.Errorf("%d pages loaded for %d chunks", cp.loads, len(want))
				}
			})
		}
	}
}

// TestChunkSeekerRangeDamage: a page that disagrees with its entry in the
// page above is damage, named, never a silent skip.
func TestChunkSeekerRangeDamage(t *testing.T) {
	m := memPages{}
	root := writePages(t, m, 5000, nil)
	rootPage, err := repo.DecodePage(m[*root])
	if err != nil || rootPage.Level == 0 {
		t.Fatalf("root page: %v, level %d", err, rootPage.Level)
	}
	// Swap the first child for the second: levels agree, sums and keys do not.
	child := rootPage.Entries[1].ID
	m[rootPage.Entries[0].ID] = m[child]
	node := &repo.Node{Name: "t", Kind: repo.NodeTable, Pages: root}
	_, err = repo.NewChunkSeeker(m, node, strings.Compare).Range(ctx, repo.KeyBounds{}, func(repo.ChunkRef) error { return nil })
	if !errors.Is(err, repo.ErrDamaged) || !strings.Contains(err.Error(), "chunk list of t") {
		t.Fatalf("got %v, want damage of the chunk list of t", err)
	}
}

func brief(s []uint64) string {
	if len(s) <= 6 {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%v ... %v (%d)", s[:3], s[len(s)-3:], len(s))
}
