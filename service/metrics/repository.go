package metrics

import (
	"context"
	"fmt"
	"time"

	"strata/repo"
	"strata/repo/backend"
)

// RepositoryReader is what RepositoryState reads of a repository
// (*repo.Repository): its snapshots, and which lock files are its own.
type RepositoryReader interface {
	Snapshots(ctx context.Context) ([]*repo.Snapshot, error)
	HoldsLockFile(name string) bool
}

// RepositoryState reads what SetRepository records: the snapshots per
// tier and the newest of each, from rr, and the size of every file but
// the locks (backend.StoredBytes, as health's) and the number of other
// processes' locks (not those rr holds), from files (the repository's
// storage). It reads snapshot files and lists folders;
// it loads no pack.
func RepositoryState(ctx context.Context, rr RepositoryReader, files backend.Lister) (Repository, error) {
	st := Repository{Snapshots: map[string]int{}, Newest: map[string]time.Time{}}
	sns, err := rr.Snapshots(ctx)
	if err != nil {
		return st, fmt.Errorf("metrics: listing the snapshots: %w", err)
	}
	for _, sn := range sns {
		st.Snapshots[sn.Tier]++
		if sn.Time.After(st.Newest[sn.Tier]) {
			st.Newest[sn.Tier] = sn.Time
		}
	}
	stored, err := backend.StoredBytes(ctx, files)
	if err != nil {
		return st, fmt.Errorf("metrics: %w", err)
	}
	st.StoredBytes = uint64(stored)
	err = files.List(ctx, backend.LockFile, func(fi backend.FileInfo) error {
		if !rr.HoldsLockFile(fi.Handle.Name) {
			st.Locks++
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("metrics: listing the lock files: %w", err)
	}
	return st, nil
}
