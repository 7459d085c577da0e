package repo

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// adoptReads bounds the pack headers AdoptDataPacks reads at once.
const adoptReads = 8

// AdoptDataPacks indexes the packs of data blobs that are stored but that
// no index names: what a killed command (a copy, a backup) uploaded
// before it could write its index file. It reads each such pack's header
// (which its key authenticates), and writes an index file naming those
// whose every delta blob has its base in the index or in another adopted
// pack; a pack that fails that, or whose header does not read, is left
// for prune. Packs of tree blobs are left too: a tree blob is stored in
// two packs (section "Tree copies" of docs/design.md), and adopting the
// one pack of a pair that was stored would leave the tree with one copy.
// The caller holds a lock and loaded the index; a pack another process is
// still to index is adopted harmlessly (two index files may name one
// pack). It returns the number of packs adopted.
func (r *Repository) AdoptDataPacks(ctx context.Context) (int, error) {
	idx := r.Index()
	indexed := map[pack.ID]bool{}
	for _, id := range idx.Packs() {
		indexed[id] = true
	}
	var left []backend.FileInfo
	err := r.be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if id, err := pack.ParseID(fi.Handle.Name); err == nil && !indexed[id] {
			left = append(left, fi)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("listing packs: %w", err)
	}
	if len(left) == 0 {
		return 0, nil
	}
	var mu sync.Mutex
	headers := map[pack.ID][]pack.Blob{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(adoptReads)
	for _, fi := range left {
		g.Go(func() error {
			id, _ := pack.ParseID(fi.Handle.Name)
			blobs, err := r.ReadPackHeader(gctx, id, fi.Size, PackHeaderOptions{})
			if err != nil {
				if IsDamage(err) {
					return nil // prune's to deal with
				}
				return err
			}
			if len(blobs) == 0 || blobs[0].Type != pack.DataBlob {
				return nil
			}
			mu.Lock()
			headers[id] = blobs
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	// A pack is adopted once each of its delta blobs' bases is indexed,
	// in the pack itself or in a pack adopted before it; repeat until no
	// more qualify.
	adopted, have := map[pack.ID]bool{}, map[pack.ID]bool{}
	for changed := true; changed; {
		changed = false
		for id, blobs := range headers {
			if adopted[id] || !basesKnown(blobs, idx, have) {
				continue
			}
			adopted[id], changed = true, true
			for _, b := range blobs {
				have[b.ID] = true
			}
		}
	}
	if len(adopted) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	for id := range adopted {
		idx.AddPack(id, headers[id])
		r.unsavedPacks = append(r.unsavedPacks, index.PackBlobs{PackID: id, Blobs: headers[id]})
	}
	r.mu.Unlock()
	if err := r.SaveIndex(ctx); err != nil {
		return 0, err
	}
	return len(adopted), nil
}

// basesKnown reports whether every delta blob of blobs has its base in
// idx, in blobs, or in have.
func basesKnown(blobs []pack.Blob, idx *index.Index, have map[pack.ID]bool) bool {
	own := map[pack.ID]bool{}
	for _, b := range blobs {
		own[b.ID] = true
	}
	for _, b := range blobs {
		if b.Compression == pack.Delta && !own[b.Base] && !have[b.Base] && !idx.Has(b.Base) {
			return false
		}
	}
	return true
}
