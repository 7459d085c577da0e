package repair

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// listPacks returns the stored packs with their sizes.
func listPacks(ctx context.Context, r *repo.Repository) (map[pack.ID]int64, error) {
	stored := map[pack.ID]int64{}
	err := r.Backend().List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if id, err := pack.ParseID(fi.Handle.Name); err == nil {
			stored[id] = fi.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing packs: %w", err)
	}
	return stored, nil
}

// fitsPack reports whether index entries describe a pack of size bytes
// exactly: blobs back to back from offset 0, then the sealed header they
// would make and its length field (docs/design.md, "Packs"). A pack of
// another size was replaced or truncated, and its header must be read.
func fitsPack(blobs []pack.Blob, size int64, overhead int) bool {
	if len(blobs) == 0 {
		return false
	}
	sorted := slices.Clone(blobs)
	slices.SortFunc(sorted, func(a, b pack.Blob) int { return cmp.Compare(a.Offset, b.Offset) })
	var end int64
	for _, b := range sorted {
		if int64(b.Offset) != end {
			return false
		}
		end += int64(b.Length)
	}
	header := int64(len(pack.EncodeHeader(sorted)) + overhead)
	return end+header+pack.HeaderLengthSize == size
}

// headerResult is the outcome of reading one pack's header.
type headerResult struct {
	pack  pack.ID
	blobs []pack.Blob
	err   error // the header is damaged or the pack is gone
}

// readHeaders reads, with opts.Workers workers, the header of every stored
// pack the new index does not list yet, and adds the readable ones. A pack
// whose header is damaged is noted in Unreadable; a storage error that is
// not about the pack's bytes stops the repair.
func (ix *indexer) readHeaders(ctx context.Context) error {
	var todo []pack.ID
	for id := range ix.stored {
		if !ix.done[id] {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	slices.SortFunc(todo, compareIDs)
	ix.opts.Progress(fmt.Sprintf("reading the headers of %d packs", len(todo)))

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan pack.ID)
	results := make(chan headerResult)
	g.Go(func() error {
		defer close(work)
		for _, id := range todo {
			select {
			case work <- id:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for range ix.opts.Workers {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for id := range work {
				res, err := ix.readHeader(gctx, id)
				if err != nil {
					return err
				}
				select {
				case results <- res:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		workers.Wait()
		close(results)
	}()
	g.Go(func() error {
		for res := range results {
			if res.err != nil {
				ix.rep.Unreadable = append(ix.rep.Unreadable, UnreadablePack{Pack: res.pack, Err: res.err})
				continue
			}
			ix.rep.PacksRead++
			if err := ix.add(gctx, index.PackBlobs{PackID: res.pack, Blobs: res.blobs}); err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	slices.SortFunc(ix.rep.Unreadable, func(a, b UnreadablePack) int { return compareIDs(a.Pack, b.Pack) })
	return err
}

// readHeader reads the header of pack id for readHeaders.
func (ix *indexer) readHeader(ctx context.Context, id pack.ID) (headerResult, error) {
	blobs, damage, err := readPackHeader(ctx, ix.r, id, ix.stored[id])
	return headerResult{pack: id, blobs: blobs, err: damage}, err
}

// readPackHeader reads the header of the stored pack id of size bytes.
// Damage (a header that does not open or validate, a pack too short or
// gone) is returned as damage; err is a failure to reach the storage,
// which must not be mistaken for damage.
func readPackHeader(ctx context.Context, r *repo.Repository, id pack.ID, size int64) (blobs []pack.Blob, damage, err error) {
	blobs, err = r.ReadPackHeader(ctx, id, size, repo.PackHeaderOptions{})
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case err == nil:
		return blobs, nil, nil
	case isDamage(err):
		return nil, err, nil
	}
	return nil, nil, fmt.Errorf("reading the header: %w", err)
}

// isDamage reports whether err says that stored bytes are missing or
// wrong, as opposed to the storage failing to answer.
func isDamage(err error) bool { return repo.IsDamage(err) }

func compareIDs(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) }
