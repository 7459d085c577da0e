package workflow

import (
	"context"
	"fmt"
	"log/slog"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/prune"
)

// PruneRequest is one prune: delete the data no snapshot needs, and
// repack packs that are mostly unused (repo/prune).
type PruneRequest struct {
	// MaxUnused is the share (0 to 1) of a pack's blob bytes that may be
	// unused before it is repacked; 1 never repacks. The CLI's default is
	// prune.DefaultMaxUnused (5%).
	MaxUnused float64
	// MaxRepackBytes bounds the bytes of packs repacked in one run, the
	// most unused first; 0: no bound.
	MaxRepackBytes int64
	// DryRun plans and reports without changing anything (under a
	// shared lock).
	DryRun bool
	// Lock says how to wait for the exclusive lock.
	Lock LockOptions
	// Logger receives one record per phase (slog.LevelInfo) and notices;
	// nil discards them.
	Logger *slog.Logger
}

// PruneReport is what a prune found and did.
type PruneReport struct {
	// Report holds the counts: snapshots, used and unused blobs and
	// bytes, packs kept, repacked and deleted, index files written, and
	// the bytes freed (Report.Freed).
	*prune.Report
	// SpaceShort is true when the disk was full and the reserve had been
	// released: the prune deleted what no snapshot needs and repacked
	// nothing.
	SpaceShort bool
}

// Prune prunes r under its exclusive lock (a shared one for a dry run),
// taken as req.Lock says.
func Prune(ctx context.Context, r *repo.Repository, req PruneRequest) (PruneReport, error) {
	var rep PruneReport
	lock := LockRequest{LockOptions: req.Lock, Command: "prune", Exclusive: !req.DryRun, Index: NoIndex, Logger: req.Logger,
		Removes: []backend.FileType{backend.PackFile, backend.IndexFile}}
	err := WithLock(ctx, r, lock, func(ctx context.Context, r *repo.Repository) error {
		var err error
		rep, err = PruneLocked(ctx, r, req)
		return err
	})
	return rep, err
}

// PruneLocked is Prune for a caller that holds r's exclusive lock (or a
// shared one for a dry run): forget's prune under the same lock. The
// report of a failed prune is not returned: its figures would be the
// plan's, and what was deleted before the failure is not known.
func PruneLocked(ctx context.Context, r *repo.Repository, req PruneRequest) (PruneReport, error) {
	log := logger(req.Logger)
	if req.MaxUnused < 0 || req.MaxUnused > 1 {
		return PruneReport{}, fmt.Errorf("prune: max unused share %v is not from 0 to 1", req.MaxUnused)
	}
	if req.MaxRepackBytes < 0 {
		return PruneReport{}, fmt.Errorf("prune: max repack size %d is negative", req.MaxRepackBytes)
	}
	opts := prune.Options{
		MaxUnused: req.MaxUnused, MaxRepackBytes: req.MaxRepackBytes, DryRun: req.DryRun,
		Progress: func(msg string) { log.Info(msg) },
	}
	short := false
	if !opts.DryRun {
		var err error
		if short, err = r.ReserveReleased(ctx); err != nil {
			return PruneReport{}, err
		}
	}
	if short {
		// The room the reserve left is for the new index, not for copies
		// of repacked blobs (docs/design.md, "A full disk").
		log.Warn("space is short (the reserve was released): prune deletes what no snapshot needs and repacks nothing; run it again later to repack")
		opts.MaxUnused = 1
	}
	rep, err := prune.Run(ctx, r, opts)
	if err != nil {
		return PruneReport{}, err
	}
	if !opts.DryRun {
		if kerr := r.KeepReserve(ctx); kerr != nil {
			log.Warn(fmt.Sprintf("no space kept in reserve for a full disk: %v", kerr))
		}
	}
	return PruneReport{Report: rep, SpaceShort: short}, nil
}
