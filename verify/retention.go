package verify

import (
	"context"
	"fmt"
	"time"

	"strata/repo/backend"
	"strata/repo/objectlock"
)

// RetentionsEnding: under object lock (docs/design.md, "Object lock"),
// files the snapshots need have a retention that runs out within Within
// and no legal hold: from then on the storage lets anyone with delete
// rights remove them, which the lock was there to prevent. `strata
// maintenance extend-locks` renews them. Files is how many, of Needed;
// First the earliest date, on File.
type RetentionsEnding struct {
	Within time.Duration
	Files  int
	Needed int
	First  time.Time
	File   string
	ByType map[backend.FileType]int
}

func (*RetentionsEnding) Severity() Severity { return SeverityNotice }

func (f *RetentionsEnding) Error() string {
	first := "without a retention"
	if !f.First.IsZero() {
		first = "on " + f.First.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("the object lock of %d of the %d files the snapshots need runs out within %s (the first %s, %s; by folder: %v): "+
		"after that the storage no longer refuses to remove them", f.Files, f.Needed, days(f.Within), first, f.File, f.ByType)
}

// days says a duration in days, or hours when under two days.
func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%.0f hours", d.Hours())
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}

// DefaultRetentionWarning is the window CheckOptions.RetentionWarning
// takes when zero, for a repository locked for lockDays: a week, or half
// of lockDays when that is shorter, so that a repository whose locks are
// renewed daily by extend-locks is not warned about every day.
func DefaultRetentionWarning(lockDays int) time.Duration {
	return min(7*24*time.Hour, time.Duration(lockDays)*12*time.Hour)
}

// checkRetentions adds RetentionsEnding when files the snapshots need
// stay locked for less than the window. A repository not under object
// lock, or storage that cannot say, is not checked.
func (c *checker) checkRetentions(ctx context.Context) error {
	lock := c.r.ObjectLock()
	if lock == nil || c.opts.RetentionWarning < 0 || c.r.Locker() == nil {
		return nil
	}
	within := c.opts.RetentionWarning
	if within == 0 {
		within = DefaultRetentionWarning(lock.Days)
	}
	ending, needed, err := objectlock.RetentionsEnding(ctx, c.r, c.r.Now().Add(within), objectlock.Options{})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The walk fails on damage the other findings report; the
		// retentions are then for after the repair.
		return nil
	}
	if len(ending) == 0 {
		return nil
	}
	f := &RetentionsEnding{Within: within, Files: len(ending), Needed: needed, First: ending[0].State.Until,
		File: ending[0].Handle.String(), ByType: map[backend.FileType]int{}}
	for _, e := range ending {
		f.ByType[e.Handle.Type]++
	}
	c.report.Findings = append(c.report.Findings, f)
	return nil
}
