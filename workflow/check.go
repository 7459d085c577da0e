package workflow

import (
	"context"
	"log/slog"
	"time"

	"strata/repo"
	"strata/repo/audit"
	"strata/verify"
)

// CheckRequest is one check of a repository's structure and, optionally,
// its data (verify.Check).
type CheckRequest struct {
	// ReadData reads and verifies every blob.
	ReadData bool
	// Subset reads and verifies a part of the packs' data: "n/m" or "P%"
	// (verify.ParseSubset); empty reads none unless ReadData.
	Subset string
	// Workers is how many packs are checked at once; 0: GOMAXPROCS.
	Workers int
	// RetentionWarning is verify.CheckOptions.RetentionWarning: under
	// object lock, a finding for files the snapshots need whose
	// retention runs out within it (0: the default, negative: none).
	RetentionWarning time.Duration
	// Lock says how to wait for, or do without, the shared lock.
	Lock LockOptions
	// Progress, when set, is called when checking starts, with the
	// counters the check updates; the function it returns is called when
	// it ends.
	Progress func(p *verify.Progress) (stop func())
	// Logger receives notices; nil discards them.
	Logger *slog.Logger
	// AuditAnchor is verify.CheckOptions.AuditAnchor: the newest audit
	// record this client wrote or saw (nil: none).
	AuditAnchor *audit.Anchor
	// TrailRead is verify.CheckOptions.TrailRead; only tests set it.
	TrailRead func()
}

// CheckReport is what a check found.
type CheckReport struct {
	// Report holds the counts (snapshots, trees, packs, blobs, data read)
	// and the findings, typed errors carrying pack, blob and snapshot IDs;
	// Report.WhatToDo lists the steps that fix them.
	Report *verify.Report
	// OK is true when nothing was found that needs repair.
	OK bool
	// Errors counts the findings that are errors, not warnings.
	Errors int
	// ReadData and Subset are what the check read, for a record of it.
	ReadData bool
	Subset   string
}

// AuditResult is the check's result in its audit record (docs/design.md,
// "The audit trail": result.check): the findings of each severity and
// what it read of the data.
func (r CheckReport) AuditResult() *audit.CheckResult {
	return &audit.CheckResult{Errors: r.Errors, Notices: len(r.Report.Findings) - r.Errors, ReadData: r.ReadData, ReadDataSubset: r.Subset}
}

// Check checks r under a shared lock (taken as req.Lock says) and
// reports what it found. Damage is in the report, not an error: the
// error is for a check that could not run.
func Check(ctx context.Context, r *repo.Repository, req CheckRequest) (CheckReport, error) {
	opts := verify.CheckOptions{ReadData: req.ReadData, Workers: req.Workers, Progress: &verify.Progress{}, RetentionWarning: req.RetentionWarning, AuditAnchor: req.AuditAnchor, TrailRead: req.TrailRead}
	if req.Subset != "" {
		s, err := verify.ParseSubset(req.Subset)
		if err != nil {
			return CheckReport{}, err
		}
		opts.Subset = s
	}
	// Check loads the index itself, under the lock, so it can report
	// damaged index files.
	unlock, err := ReadLock(ctx, r, LockRequest{LockOptions: req.Lock, Command: "check", Index: ReaderIndex, Logger: req.Logger})
	if err != nil {
		return CheckReport{}, err
	}
	defer unlock()
	stop := func() {}
	if req.Progress != nil {
		stop = req.Progress(opts.Progress)
	}
	rep, err := verify.Check(ctx, r, opts)
	stop()
	if err != nil {
		return CheckReport{}, err
	}
	return CheckReport{Report: rep, OK: rep.OK(), Errors: rep.Errors(), ReadData: req.ReadData, Subset: req.Subset}, nil
}
