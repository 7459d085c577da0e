package prune

import (
	"context"
	"fmt"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// Options tune a prune run.
type Options struct {
	// MaxUnused is the share of a pack's blob bytes that may be unused
	// before the pack is repacked: 0.05 repacks packs more than 5% unused.
	// 1 never repacks.
	MaxUnused float64
	// MaxRepackBytes bounds the bytes of packs repacked in one run, the
	// most unused first; 0 means no bound.
	MaxRepackBytes int64
	// DryRun plans and reports without changing anything.
	DryRun bool
	// Progress receives one line per phase; nil discards them.
	Progress func(msg string)
	// Now is the clock for removing old temporary files; nil means
	// time.Now.
	Now func() time.Time
}

// DefaultMaxUnused is the MaxUnused of `strata prune` without --max-unused.
const DefaultMaxUnused = 0.05

// Report says what prune found and did. Byte counts are bytes of the
// repository's pack files unless named otherwise.
type Report struct {
	DryRun    bool `json:"dry_run"`
	Snapshots int  `json:"snapshots"`

	UsedBlobs     int   `json:"used_blobs"`      // blobs reachable from a snapshot, delta bases included
	BaseOnlyBlobs int   `json:"base_only_blobs"` // of those, blobs kept only as delta bases
	BaseOnlyBytes int64 `json:"base_only_bytes"` // their sealed bytes
	UnusedBlobs   int   `json:"unused_blobs"`    // entries of blobs no snapshot needs (extra copies included)
	UsedBytes     int64 `json:"used_bytes"`      // sealed bytes of used blobs
	UnusedBytes   int64 `json:"unused_bytes"`    // sealed bytes of unused entries

	Packs          int `json:"packs"` // packs stored before
	PacksKept      int `json:"packs_kept"`
	PacksRepacked  int `json:"packs_repacked"`
	PacksDeleted   int `json:"packs_deleted"`   // packs with no used blob
	PacksUnindexed int `json:"packs_unindexed"` // packs no index file named, deleted too
	PacksWritten   int `json:"packs_written"`   // new packs holding repacked blobs
	// PacksLocked counts the packs prune would have repacked or deleted
	// but left because they are under object lock; they are among
	// PacksKept when indexed.
	PacksLocked int `json:"packs_locked"`

	RepackedBlobs int   `json:"repacked_blobs"`
	RepackedBytes int64 `json:"repacked_bytes"` // sealed blob bytes copied into new packs

	BytesBefore int64 `json:"bytes_before"` // all pack files before
	BytesAfter  int64 `json:"bytes_after"`  // all pack files after (estimated in a dry run)
	UnusedAfter int64 `json:"unused_after"` // unused blob bytes left in kept packs

	IndexFilesWritten int   `json:"index_files_written"`
	IndexFilesRemoved int   `json:"index_files_removed"`
	IndexFilesLocked  int   `json:"index_files_locked"` // old index files left under object lock, superseded
	TempFilesRemoved  int   `json:"temp_files_removed"`
	TempBytesRemoved  int64 `json:"temp_bytes_removed"`

	IndexMemory int `json:"index_memory"` // bytes of the in-memory index
	MarkMemory  int `json:"mark_memory"`  // bytes of prune's sets of used blobs

	// Locked lists the files prune could not remove because of their
	// object lock, with their dates (size -1 for index files).
	Locked []LockedFile `json:"locked,omitempty"`
}

// Freed is the pack bytes the run reclaimed (or would reclaim).
func (r *Report) Freed() int64 { return r.BytesBefore - r.BytesAfter }

// UnusedShareAfter is the share of pack bytes left unused.
func (r *Report) UnusedShareAfter() float64 {
	if r.BytesAfter == 0 {
		return 0
	}
	return float64(r.UnusedAfter) / float64(r.BytesAfter)
}

// Run prunes r. The caller holds the exclusive lock: Run reloads the index
// and the snapshot list under it, so it sees every finished backup.
// Nothing is changed when any snapshot references a blob the index does
// not have; the error names the snapshot and the blob.
func Run(ctx context.Context, r *repo.Repository, opts Options) (*Report, error) {
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxUnused < 0 || opts.MaxUnused > 1 {
		return nil, fmt.Errorf("prune: max unused %.2f is outside 0..1", opts.MaxUnused)
	}
	if err := r.LoadIndex(ctx); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	oldIndex, err := r.List(ctx, backend.IndexFile)
	if err != nil {
		return nil, err
	}
	snaps, err := r.Snapshots(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	rep := &Report{DryRun: opts.DryRun, Snapshots: len(snaps), IndexMemory: r.Index().MemoryBytes()}

	opts.Progress(fmt.Sprintf("marking the blobs of %d snapshots", len(snaps)))
	m := newMarker(r)
	for _, sn := range snaps {
		if err := m.snapshot(ctx, sn); err != nil {
			return nil, err
		}
	}
	rep.MarkMemory = m.used.Bytes() + m.direct.Bytes()

	opts.Progress("planning")
	p, err := newPlan(ctx, r, m, opts, rep)
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		p.estimate()
		return rep, nil
	}
	if err := p.apply(ctx, oldIndex); err != nil {
		return rep, err
	}
	if tr, ok := r.Backend().(backend.TempRemover); ok {
		// Older than a lock's lease: no live writer still owns them.
		n, b, err := tr.RemoveTemp(ctx, opts.Now().Add(-15*time.Minute))
		rep.TempFilesRemoved, rep.TempBytesRemoved = n, b
		if err != nil {
			return rep, err
		}
	}
	// One base file then stands for the journal files written since the
	// last compaction; a failure leaves them, which is no damage.
	if res, err := r.CompactJournal(ctx, repo.CompactOptions{}); err != nil {
		r.Notify("compacting the journal: %v", err)
	} else if res.Skipped != "" {
		r.Notify("the journal was not compacted: %s", res.Skipped)
	}
	r.DropIndex() // the old index is not needed while the new one loads
	if err := r.LoadIndex(ctx); err != nil {
		return rep, fmt.Errorf("prune finished, but reloading the new index failed: %w", err)
	}
	return rep, nil
}

// packHandle names a pack file.
func packHandle(id pack.ID) backend.Handle {
	return backend.Handle{Type: backend.PackFile, Name: id.String()}
}
