package workflow

import (
	"context"
	"fmt"
	"log/slog"

	"strata/repo"
)

// StatsRequest asks for the sizes of snapshots: of one (Snapshot) or of
// all, in total, by tier (ByTier) or over time (Growth).
type StatsRequest struct {
	// Snapshot is one snapshot to count (ID, unique prefix or latest);
	// empty: all. Not with ByTier or Growth, which count all.
	Snapshot string
	// ByTier groups all snapshots by tier (at most 64 tiers).
	ByTier bool
	// Growth lists what each snapshot added, oldest first.
	Growth bool
	// Lock says how to wait for, or do without, the shared lock.
	Lock LockOptions
	// Logger receives notices (blobs the index lacks, a damaged index
	// file skipped); nil discards them.
	Logger *slog.Logger
}

// StatsReport holds the one of Totals, Tiers or Growth that the request
// asked for (docs: strata stats --help).
type StatsReport struct {
	// Snapshots are the snapshots counted, oldest first.
	Snapshots []*repo.Snapshot
	// Totals: raw, unique and stored bytes, the ratios and the
	// repository's size.
	Totals *StatsTotals
	// Tiers: per tier the stored and unique bytes its snapshots need,
	// and the part no other tier needs.
	Tiers *TierStats
	// Growth: per snapshot the stored bytes no older snapshot needs.
	Growth *Growth
}

// Stats counts the sizes of r's snapshots under a shared lock (taken as
// req.Lock says; a damaged index file is skipped with a warning).
func Stats(ctx context.Context, r *repo.Repository, req StatsRequest) (StatsReport, error) {
	switch {
	case req.ByTier && req.Growth:
		return StatsReport{}, fmt.Errorf("stats: by tier or growth, not both")
	case (req.ByTier || req.Growth) && req.Snapshot != "":
		return StatsReport{}, fmt.Errorf("stats: by tier and growth cover all snapshots: give no snapshot")
	}
	log := logger(req.Logger)
	var rep StatsReport
	lock := LockRequest{LockOptions: req.Lock, Command: "stats", Index: ReaderIndex, Logger: req.Logger}
	err := WithLock(ctx, r, lock, func(ctx context.Context, r *repo.Repository) error {
		if req.Snapshot != "" {
			sn, err := r.FindSnapshot(ctx, req.Snapshot)
			if err != nil {
				return err
			}
			rep.Snapshots = []*repo.Snapshot{sn}
		} else {
			var err error
			if rep.Snapshots, err = r.Snapshots(ctx); err != nil {
				return err
			}
		}
		var missing int
		var err error
		switch {
		case req.ByTier:
			if rep.Tiers, err = ComputeTierStats(ctx, r, rep.Snapshots); err == nil {
				missing = rep.Tiers.Missing
			}
		case req.Growth:
			if rep.Growth, err = ComputeGrowth(ctx, r, rep.Snapshots); err == nil {
				missing = rep.Growth.Missing
			}
		default:
			if rep.Totals, err = ComputeStats(ctx, r, rep.Snapshots); err == nil {
				missing = rep.Totals.Missing
			}
		}
		if err != nil {
			return err
		}
		if missing > 0 {
			log.Warn(missingNotice(missing))
		}
		return nil
	})
	return rep, err
}
