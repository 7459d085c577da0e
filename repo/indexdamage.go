package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo/backend"
)

// IndexDamage is what LoadIndexForReading worked around.
type IndexDamage struct {
	// Files are the damaged index files it skipped.
	Files []*IndexFileError
	// PacksRead is how many stored packs that no readable index file
	// names had their headers read instead.
	PacksRead int
	// Unreadable are packs among those whose header could not be read
	// either: their blobs are not available.
	Unreadable []*PackHeaderError
}

// PackHeaderError is a pack whose header cannot be read or opened.
type PackHeaderError struct {
	Pack pack.ID
	Err  error
}

func (e *PackHeaderError) Error() string {
	return fmt.Sprintf("header of pack %v cannot be read: %v", backend.Handle{Type: backend.PackFile, Name: e.Pack.String()}, e.Err)
}

func (e *PackHeaderError) Unwrap() error { return e.Err }

// headerWorkers is how many pack headers LoadIndexForReading reads at once.
const headerWorkers = 4

// LoadIndexForReading loads the index for a command that only reads the
// repository (ls, dump, restore, stats, ...). A damaged index file does
// not stop it as it stops LoadIndex: the file is skipped, and the stored
// packs that no readable index file names have their headers read and
// added to the in-memory index, so that what the damaged file listed is
// found again (docs/design.md, "Reading with a damaged index"). Nothing
// is written: `strata repair index` makes it permanent. A command that
// writes must not use this: a snapshot must never reference blobs that
// only a pack header places.
//
// It returns what it worked around; an error only when the storage
// cannot be listed or read (not damage).
func (r *Repository) LoadIndexForReading(ctx context.Context) (*IndexDamage, error) {
	bad, err := r.loadIndex(ctx)
	if err != nil || len(bad) == 0 {
		return nil, err
	}
	dmg := &IndexDamage{Files: bad}
	stored := map[pack.ID]int64{}
	err = r.be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if id, err := pack.ParseID(fi.Handle.Name); err == nil {
			stored[id] = fi.Size
		}
		return nil
	})
	if err != nil {
		return dmg, fmt.Errorf("listing packs: %w", err)
	}
	idx := r.Index()
	for _, id := range idx.Packs() {
		delete(stored, id)
	}
	todo := make([]pack.ID, 0, len(stored))
	for id := range stored {
		todo = append(todo, id)
	}
	slices.SortFunc(todo, func(a, b pack.ID) int { return slices.Compare(a[:], b[:]) })

	type result struct {
		id    pack.ID
		blobs []pack.Blob
		err   error
	}
	results := make([]result, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(headerWorkers)
	for i, id := range todo {
		g.Go(func() error {
			blobs, err := r.ReadPackHeader(gctx, id, stored[id], PackHeaderOptions{})
			if err != nil && !IsDamage(err) {
				return err
			}
			results[i] = result{id, blobs, err}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return dmg, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range results {
		if res.err != nil {
			dmg.Unreadable = append(dmg.Unreadable, &PackHeaderError{Pack: res.id, Err: res.err})
			continue
		}
		dmg.PacksRead++
		idx.AddPack(res.id, res.blobs)
	}
	idx.Compact()
	return dmg, nil
}

// IsDamage reports whether err says that stored bytes are missing or
// wrong, as opposed to the storage failing to answer.
func IsDamage(err error) bool {
	for _, target := range []error{
		pack.ErrInvalidHeader, io.ErrUnexpectedEOF, backend.ErrNotExist, backend.ErrRange,
		ErrDamaged, ErrBlobNotFound,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
