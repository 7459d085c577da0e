package verify

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo"
)

// findUnindexed reads the headers of the unreferenced packs when blobs or
// bases are missing from the index, and notes which of those packs holds
// each: such a blob is not lost, the index only lacks it (a deleted or
// damaged index file), and `strata repair index` brings it back. Headers
// that cannot be read are skipped: unreferenced packs are a notice only.
func (c *checker) findUnindexed(ctx context.Context, w *walker, stored map[pack.ID]int64) error {
	wanted := map[pack.ID]bool{}
	for _, f := range w.missingBlobs {
		wanted[f.Blob] = true
	}
	for _, f := range c.missingBases {
		wanted[f.Base] = true
	}
	if len(wanted) == 0 || len(c.report.UnreferencedPacks) == 0 {
		return nil
	}
	found := map[pack.ID]pack.ID{} // blob -> unreferenced pack holding it
	var mu sync.Mutex

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan pack.ID)
	g.Go(func() error {
		defer close(work)
		for _, p := range c.report.UnreferencedPacks {
			select {
			case work <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range c.opts.Workers {
		g.Go(func() error {
			for p := range work {
				header, err := c.r.ReadPackHeader(gctx, p, stored[p], repo.PackHeaderOptions{BytesRead: &c.opts.Progress.BytesRead})
				if gctx.Err() != nil {
					return gctx.Err()
				}
				if err != nil {
					continue
				}
				mu.Lock()
				for _, b := range header {
					// The lowest pack ID, so that two runs report the same.
					if prev, seen := found[b.ID]; wanted[b.ID] && (!seen || compareIDs(p, prev) < 0) {
						found[b.ID] = p
					}
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, f := range w.missingBlobs {
		f.InPack = found[f.Blob]
	}
	for _, f := range c.missingBases {
		f.BaseInPack = found[f.Base]
	}
	return nil
}
