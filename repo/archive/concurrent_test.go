package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// TestConcurrentBackupsOnOneHandle runs backups at once on one repository
// handle, as a daemon or a mount would: each takes its lock and loads the
// index (as a command does), so the index is replaced while the others
// look blobs up and add packs. Their inputs share most chunks, so one
// backup's snapshot needs blobs another is still storing. When a backup
// returns, a fresh handle must find every blob of its snapshot in the
// stored index files (packs, then index, then snapshot), and check
// --read-data (repotest, at the end) must be clean. Run it under -race.
func TestConcurrentBackupsOnOneHandle(t *testing.T) {
	r, be := repotest.New(t)
	shared := genData(t, 1<<20)
	const rounds, backups = 2, 3
	for round := range rounds {
		g, gctx := errgroup.WithContext(ctx)
		for i := range backups {
			data := mixed(shared, uint64(round*backups+i))
			name := fmt.Sprintf("export-%d.tsv", i)
			g.Go(func() error {
				lock, err := r.Lock(gctx, false, "backup")
				if err != nil {
					return err
				}
				defer lock.Unlock(context.WithoutCancel(gctx))
				if err := r.LoadIndex(gctx); err != nil {
					return err
				}
				sn, err := archive.BackupStream(gctx, r, bytes.NewReader(data), name, archive.Options{Host: "daemon"})
				if err != nil {
					return fmt.Errorf("backup of %s: %w", name, err)
				}
				return indexedInStorage(gctx, be, sn)
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	sns, err := repotest.Reopen(t, be).Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sns) != rounds*backups {
		t.Errorf("%d snapshots, want %d", len(sns), rounds*backups)
	}
}

// mixed returns shared with a few stretches replaced by bytes of seed, so
// that backups of such inputs share most of their chunks.
func mixed(shared []byte, seed uint64) []byte {
	data := bytes.Clone(shared)
	rng := rand.New(rand.NewPCG(seed, seed))
	for range 4 {
		at := rng.IntN(len(data) - 64<<10)
		for j := range 64 << 10 {
			data[at+j] = byte(rng.Uint32())
		}
	}
	return data
}

// indexedInStorage opens be as a new process would and checks that the
// stored index locates every tree and data blob of sn.
func indexedInStorage(ctx context.Context, be backend.Storage, sn *repo.Snapshot) error {
	fresh, err := repo.Open(ctx, be, repotest.Password, repo.Options{})
	if err != nil {
		return err
	}
	if err := fresh.LoadIndex(ctx); err != nil {
		return err
	}
	var walk func(pack.ID) error
	walk = func(id pack.ID) error {
		if !fresh.HasBlob(id) {
			return fmt.Errorf("snapshot %s was saved before tree %s was indexed", sn.ID.Short(), id.Short())
		}
		tree, err := fresh.LoadTree(ctx, id)
		if err != nil {
			return err
		}
		for _, n := range tree.Nodes {
			for _, c := range n.Content {
				if !fresh.HasBlob(c) {
					return fmt.Errorf("snapshot %s was saved before blob %s of %s was indexed", sn.ID.Short(), c.Short(), n.Name)
				}
			}
			if n.Subtree != nil {
				if err := walk(*n.Subtree); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(sn.Tree)
}
