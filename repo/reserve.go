package repo

import (
	"context"
	"fmt"

	"strata/repo/backend"
)

// minReserve is the part of the reserve that does not grow with the
// repository: room for lock files and prune's first index file.
const minReserve = 2 << 20

// reserveTarget returns the bytes the reserve should hold (docs/design.md,
// "A full disk"): need is minReserve plus the bytes of the index files
// (of those not larger than MaxIndexFileSize),
// since prune writes a new index about as large as the old one before it
// deletes anything. want, what is written, adds a quarter of the index
// and at least 1 MiB, rounded up to MiB, so that the reserve is written
// again only after the index grew by that much.
func (r *Repository) reserveTarget(ctx context.Context) (need, want int64, err error) {
	var index int64
	err = r.be.List(ctx, backend.IndexFile, func(fi backend.FileInfo) error {
		// A file larger than any index file is damage, not read, and not
		// rewritten by prune: a planted (sparse) one must not make the
		// reserve fill the disk.
		if fi.Size <= MaxIndexFileSize {
			index += fi.Size
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("listing index files: %w", err)
	}
	const mib = 1 << 20
	need = minReserve + index
	want = (need + max(mib, index/4) + mib - 1) / mib * mib
	return need, want, nil
}

// KeepReserve writes the reserve when it is missing, released or smaller
// than the index now needs. It does nothing on storage that keeps no
// reserve, and fails with an error wrapping backend.ErrFull when there is
// no room for it.
func (r *Repository) KeepReserve(ctx context.Context) error {
	res, ok := r.reserver()
	if !ok {
		return nil
	}
	size, _, err := res.Reserved(ctx)
	if err != nil {
		return err
	}
	need, want, err := r.reserveTarget(ctx)
	if err != nil || size >= need {
		return err
	}
	return res.Reserve(ctx, want)
}

// ReleaseReserve gives the reserve back to the storage, so that forget
// and prune can write on a full disk, and returns the bytes it held.
func (r *Repository) ReleaseReserve(ctx context.Context) (int64, error) {
	res, ok := r.reserver()
	if !ok {
		return 0, nil
	}
	return res.ReleaseReserve(ctx)
}

// ReserveReleased reports whether the reserve was released and not yet
// written again: space was short at the last forget or prune.
func (r *Repository) ReserveReleased(ctx context.Context) (bool, error) {
	res, ok := r.reserver()
	if !ok {
		return false, nil
	}
	_, released, err := res.Reserved(ctx)
	return released, err
}

// reserver returns the storage's Reserver, past the lock guard: the
// reserve is no repository file, so writing or releasing it needs no
// lock.
func (r *Repository) reserver() (backend.Reserver, bool) {
	res, ok := r.storage.(backend.Reserver)
	return res, ok
}
