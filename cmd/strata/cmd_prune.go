package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/prune"
	"strata/workflow"
)

// pruneFlags are shared by prune and forget --prune.
type pruneFlags struct {
	maxUnused     string
	maxRepackSize string
	dryRun        bool
	asJSON        bool
}

func (f *pruneFlags) flags(withDryRun bool) []cli.Flag {
	fl := []cli.Flag{
		&cli.StringFlag{Name: "max-unused", Value: "5%", Usage: "repack packs with more than `SHARE` unused (a percentage, or \"unlimited\" to never repack)", Destination: &f.maxUnused},
		&cli.StringFlag{Name: "max-repack-size", Usage: "repack at most `SIZE` of packs in this run (e.g. 500M, 2G)", Destination: &f.maxRepackSize},
	}
	if withDryRun {
		fl = append(fl,
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "only say what would be done", Destination: &f.dryRun},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &f.asJSON})
	}
	return fl
}

// request is the prune the flags ask for.
func (f *pruneFlags) request(g *globals) (workflow.PruneRequest, error) {
	req := workflow.PruneRequest{DryRun: f.dryRun, Lock: g.lockOptions(), Logger: g.logger()}
	var err error
	if req.MaxUnused, err = parseShare(f.maxUnused); err != nil {
		return req, fmt.Errorf("--max-unused: %w", err)
	}
	if f.maxRepackSize != "" {
		if req.MaxRepackBytes, err = parseSize(f.maxRepackSize); err != nil {
			return req, fmt.Errorf("--max-repack-size: %w", err)
		}
	}
	return req, nil
}

func cmdPrune(g *globals) *cli.Command {
	f := &pruneFlags{}
	return &cli.Command{
		Name:  "prune",
		Usage: "remove data no snapshot needs",
		Description: `Marks every blob the snapshots need (content, trees and the delta bases they
are stored against), deletes packs that hold none of them, and copies the
used blobs of packs that are more than --max-unused unused into new packs
(as stored: no recompression, no re-encryption). Then it writes a new index
and only afterwards deletes the old index files and packs, so a kill at any
moment loses nothing. It also removes packs no index names (left by killed
backups) and old temporary files.

Under S3 object lock, packs and index files whose retention has not run
out (or that carry a legal hold) cannot be removed: prune keeps such
packs as they are, leaves such old index files superseded by the new
one, and lists them with their dates. A later prune removes them.

Prune takes the exclusive lock: backups and restores wait for it (see the
global --retry-lock) or fail with exit code 11. It changes nothing when a
snapshot needs a blob the index does not have; run check and repair first.

` + exitCodesHelp,
		Flags: f.flags(true),
		Action: func(c *cli.Context) error {
			req, err := f.request(g)
			if err != nil {
				return err
			}
			r, err := g.openFor(c.Context, workflow.LockRequest{Command: "prune", Exclusive: !f.dryRun, Index: workflow.NoIndex})
			if err != nil {
				return err
			}
			rep, err := workflow.Prune(c.Context, r, req)
			if err != nil {
				return err
			}
			return printPrune(g, rep, f)
		},
	}
}

// runPrune prunes r, whose exclusive lock the caller holds (forget
// --prune), and prints the report.
func runPrune(c *cli.Context, g *globals, r *repo.Repository, f *pruneFlags) error {
	req, err := f.request(g)
	if err != nil {
		return err
	}
	rep, err := workflow.PruneLocked(c.Context, r, req)
	if err != nil {
		return err
	}
	return printPrune(g, rep, f)
}

// printPrune prints a prune's report: --json, or text unless --quiet
// (which keeps only what was asked for: a dry run's plan).
func printPrune(g *globals, rep workflow.PruneReport, f *pruneFlags) error {
	if rep.Report == nil {
		return nil
	}
	if f.asJSON {
		return printJSON(g.env.stdout, pruneJSON(rep.Report))
	}
	if !g.quiet || f.dryRun {
		printPruneReport(g.env.stdout, rep.Report)
	}
	return nil
}

// pruneReportJSON is the shape of `prune --json`.
type pruneReportJSON struct {
	*prune.Report
	BytesFreed       int64   `json:"bytes_freed"`
	UnusedShareAfter float64 `json:"unused_share_after"`
}

func pruneJSON(rep *prune.Report) pruneReportJSON {
	return pruneReportJSON{Report: rep, BytesFreed: rep.Freed(), UnusedShareAfter: rep.UnusedShareAfter()}
}

func printPruneReport(w io.Writer, rep *prune.Report) {
	b := func(n int64) string { return progress.Bytes(uint64(max(n, 0))) }
	would := func(done, planned string) string {
		if rep.DryRun {
			return planned
		}
		return done
	}
	fmt.Fprintf(w, "snapshots:   %d\n", rep.Snapshots)
	fmt.Fprintf(w, "used:        %d blobs, %s (%d blobs, %s of them kept only as delta bases)\n",
		rep.UsedBlobs, b(rep.UsedBytes), rep.BaseOnlyBlobs, b(rep.BaseOnlyBytes))
	fmt.Fprintf(w, "unused:      %d blobs, %s\n", rep.UnusedBlobs, b(rep.UnusedBytes))
	fmt.Fprintf(w, "packs:       %d stored: %d kept, %d %s, %d %s", rep.Packs,
		rep.PacksKept, rep.PacksRepacked, would("repacked", "to repack"), rep.PacksDeleted, would("deleted", "to delete"))
	if rep.PacksUnindexed > 0 {
		fmt.Fprintf(w, ", %d unindexed %s", rep.PacksUnindexed, would("deleted", "to delete"))
	}
	fmt.Fprintln(w)
	if rep.PacksRepacked > 0 {
		fmt.Fprintf(w, "repacked:    %d blobs, %s %s into %d new packs\n", rep.RepackedBlobs, b(rep.RepackedBytes), would("copied", "to copy"), rep.PacksWritten)
	}
	if !rep.DryRun {
		fmt.Fprintf(w, "index:       %d files written, %d removed\n", rep.IndexFilesWritten, rep.IndexFilesRemoved)
		if rep.TempFilesRemoved > 0 {
			fmt.Fprintf(w, "temporary:   %d leftover files removed, %s\n", rep.TempFilesRemoved, b(rep.TempBytesRemoved))
		}
	}
	fmt.Fprintf(w, "%-12s %s (packs %s -> %s)\n", would("freed:", "would free:"), b(rep.Freed()), b(rep.BytesBefore), b(rep.BytesAfter))
	fmt.Fprintf(w, "unused left: %s (%.1f%% of packs)\n", b(rep.UnusedAfter), 100*rep.UnusedShareAfter())
	printLocked(w, rep.Locked, fmt.Sprintf("%s and %s", counted(rep.PacksLocked, "pack"), counted(rep.IndexFilesLocked, "index file")), "prune")
}

// printLocked lists the files a command left because of their object
// lock (at most 10; --json lists all) and says when it can remove them.
func printLocked(w io.Writer, locked []prune.LockedFile, what, cmd string) {
	if len(locked) == 0 {
		return
	}
	fmt.Fprintf(w, "locked:      %s left under object lock, not removed:\n", what)
	var latest time.Time
	held := false
	for i, l := range locked {
		if l.Until.After(latest) {
			latest = l.Until
		}
		held = held || l.LegalHold
		if i < 10 {
			fmt.Fprintf(w, "  %s  %s\n", l.File, describeLock(l))
		}
	}
	if len(locked) > 10 {
		fmt.Fprintf(w, "  and %d more (--json lists them all)\n", len(locked)-10)
	}
	if !latest.IsZero() {
		fmt.Fprintf(w, "the last retention ends %s: a %s after that removes them\n", latest.Local().Format(displayLayout), cmd)
	}
	if held {
		fmt.Fprintln(w, "files under a legal hold stay until it is lifted (strata unprotect lifts the holds strata protect placed)")
	}
}

func describeLock(l prune.LockedFile) string {
	var parts []string
	if !l.Until.IsZero() {
		parts = append(parts, fmt.Sprintf("%s until %s", l.Mode, l.Until.Local().Format(displayLayout)))
	}
	if l.LegalHold {
		parts = append(parts, "legal hold")
	}
	return strings.Join(parts, ", ")
}

// parseShare reads "5%", "5" (percent) or "unlimited" as a fraction.
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "unlimited" {
		return 1, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0%% to 100%% or \"unlimited\"", s)
	}
	return v / 100, nil
}

// parseSize reads a byte count with an optional K, M, G or T suffix
// (powers of 1024; a trailing B or iB is allowed).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	shift := 0
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			shift, t = 10*(i+1), t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size such as 500M or 2G", s)
	}
	return int64(v * float64(int64(1)<<shift)), nil
}
