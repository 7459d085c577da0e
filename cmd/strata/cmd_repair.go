package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repair"
)

func cmdRepair(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "repair",
		Usage: "rewrite the config, rebuild the index, replace damaged packs, or cut lost data out of snapshots",
		Description: `Fixes what check finds; check's "What to do" says which to run. First
"repair config" if the config is damaged, then "repair index", then
"repair packs" for damaged packs, then, if data is lost, "repair
snapshots --forget" and a fresh backup; "repair journal" records files
check reports missing as lost and mends a damaged journal. Each takes the
exclusive lock (a dry run a shared one).

` + exitCodesHelp,
		Subcommands: []*cli.Command{cmdRepairConfig(g), cmdRepairIndex(g), cmdRepairPacks(g), cmdRepairSnapshots(g), cmdRepairJournal(g)},
	}
}

func cmdRepairIndex(g *globals) *cli.Command {
	var opts repair.IndexOptions
	return &cli.Command{
		Name:  "index",
		Usage: "rebuild the index from the pack headers",
		Description: `Reuses the entries of the index files that still load for packs stored
with the size they describe, reads the header of every other pack, and
writes a new index; only then are the old index files removed, so a kill
at any moment leaves an index that loads. Entries lost with a damaged or
deleted index file come back. Packs whose header cannot be read are
reported and left in place; blobs that were only in missing or unreadable
packs stay missing: "strata repair snapshots" removes them from the
snapshots. --read-all-packs reads every header, for when check reports
that the index does not match a pack header.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "read-all-packs", Usage: "read the header of every pack, not only of packs the index lacks", Destination: &opts.ReadAllPacks},
		},
		Action: func(c *cli.Context) error {
			return g.withLockNoIndex(c.Context, true, "repair index", func(r *repo.Repository) error {
				opts.Progress = func(msg string) { g.printf("%s\n", msg) }
				rep, err := repair.Index(c.Context, r, opts)
				if rep != nil {
					printIndexRepair(g.env.stdout, rep)
				}
				return err
			})
		},
	}
}

func printIndexRepair(w io.Writer, rep *repair.IndexReport) {
	for _, f := range rep.DamagedFiles {
		fmt.Fprintf(w, "index file %s could not be read, replaced: %v\n", f.File.Short(), f.Err)
	}
	lostPacks := 0
	for _, u := range rep.Unreadable {
		if u.KeptBlobs == 0 {
			lostPacks++
			fmt.Fprintf(w, "pack %s: header cannot be read (%v); its blobs are lost, the file is left in place\n", u.Pack.Short(), u.Err)
			continue
		}
		fmt.Fprintf(w, "pack %s: header cannot be read (%v); %d old index entries kept (each blob is verified when loaded), %d dropped; "+
			"replace the file from another copy of the repository if you have one\n", u.Pack.Short(), u.Err, u.KeptBlobs, u.LostBlobs)
		if u.LostBlobs > 0 {
			lostPacks++
		}
	}
	for _, p := range rep.MissingPacks {
		fmt.Fprintf(w, "pack %s is missing from storage: its entries are dropped from the index\n", p.Short())
	}
	if n := len(rep.BrokenDeltas); n > 0 {
		fmt.Fprintf(w, "delta blobs built on a lost base, dropped from the index: %d\n", n)
	}
	fmt.Fprintf(w, "packs:  %d stored: %d headers read, %d reused from the old index, %d unreadable\n",
		rep.PacksStored, rep.PacksRead, rep.PacksReused, len(rep.Unreadable))
	fmt.Fprintf(w, "index:  %d new files written (%d entries), %d old files removed\n", len(rep.FilesWritten), rep.Blobs, len(rep.FilesRemoved))
	if n := len(rep.FilesLocked); n > 0 {
		fmt.Fprintf(w, "locked: %d old index files left under object lock, superseded by the new index (no reader uses them); a prune after their retention removes them:\n", n)
		for _, le := range rep.FilesLocked {
			fmt.Fprintf(w, "  %v  %v\n", le.Handle, le.State)
		}
	}
	if len(rep.MissingPacks) > 0 || lostPacks > 0 || len(rep.BrokenDeltas) > 0 {
		fmt.Fprintf(w, "blobs that were only in missing or unreadable packs stay missing (%d entries of missing packs); "+
			"run `strata repair snapshots --forget` to remove them from the snapshots that need them, then take a fresh backup\n",
			rep.MissingBlobs)
	}
}

func cmdRepairSnapshots(g *globals) *cli.Command {
	var opts repair.SnapshotsOptions
	return &cli.Command{
		Name:  "snapshots",
		Usage: "write repaired snapshots without the data that is lost",
		Description: `For every snapshot that references a blob that cannot be loaded, writes a
repaired snapshot (tag "repaired", meta "repaired_from" and "lost"): a lost
folder becomes empty, a file keeps its intact chunks and shrinks to them, a
table keeps its intact chunks and loses their rows; each such node says in
its meta "lost" what it lost. --forget then removes the originals, except
protected ones. Run "strata repair index" first: this command refuses to
write while the index is incomplete. Without --read-data, a data blob
counts as intact when the index places it in a stored pack; --read-data
loads every blob, to catch damaged bytes that "check --read-data" found.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "forget", Usage: "remove each original once its repaired snapshot is saved", Destination: &opts.Forget},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "only say what was lost", Destination: &opts.DryRun},
			&cli.BoolFlag{Name: "read-data", Usage: "load and verify every data blob", Destination: &opts.ReadData},
		},
		Action: func(c *cli.Context) error {
			// A dry run changes nothing, so it runs beside backups.
			return g.withLockNoIndex(c.Context, !opts.DryRun, "repair snapshots", func(r *repo.Repository) error {
				return runRepairSnapshots(c.Context, g, r, opts)
			})
		},
	}
}

func runRepairSnapshots(ctx context.Context, g *globals, r *repo.Repository, opts repair.SnapshotsOptions) error {
	opts.Progress = func(msg string) { g.printf("%s\n", msg) }
	// Forget keeps protected originals; a damaged protect file may name
	// any snapshot, so --forget stops (forget does the same).
	// A protect file stored under a wrong name is intact: renamed first,
	// it protects as before (repair.Snapshots renames the other files).
	var renamed []repo.Renamed
	if !opts.DryRun {
		var err error
		if renamed, err = r.RenameMisnamed(ctx, backend.ProtectFile, repo.MisnamedDecoders[backend.ProtectFile]); err != nil {
			return fmt.Errorf("storing misnamed protect files under their own names: %w", err)
		}
	}
	prots, perr := r.Protections(ctx)
	switch {
	case perr != nil && opts.Forget && !opts.DryRun:
		return perr
	case perr != nil && opts.Forget:
		g.printf("warning: %v\n", perr)
	}
	now := r.Now()
	protected := map[pack.ID]bool{}
	for _, p := range prots {
		if p.Active(now) {
			protected[p.Snapshot] = true
		}
	}
	opts.Protected = func(id pack.ID) bool { return protected[id] }

	rep, err := repair.Snapshots(ctx, r, opts)
	if rep == nil {
		return err
	}
	w := g.env.stdout
	for _, m := range append(renamed, rep.Renamed...) {
		what := "stored under its own name"
		switch {
		case opts.DryRun:
			what = "would be stored under its own name (dry run)"
		case m.Duplicate:
			what = "a copy of the file under its own name, removed"
		}
		kind := "snapshot"
		if m.Type != backend.SnapshotFile {
			kind = string(m.Type) + " file"
		}
		fmt.Fprintf(w, "%s %s was stored under the wrong name %s: %s\n", kind, m.ID.Short(), m.Name.Short(), what)
	}
	for _, u := range rep.Unreadable {
		fmt.Fprintf(w, "snapshot file %s cannot be read, so it cannot be repaired: %v\n", u.Snapshot.Short(), u.Err)
		switch {
		case u.Forgotten:
			fmt.Fprintln(w, "  damaged file removed")
			for _, p := range prots {
				// Only expired protections can name it: active ones kept it.
				if p.Snapshot == u.Snapshot {
					if err := r.RemoveProtection(ctx, p); err != nil {
						return err
					}
				}
			}
		case u.Protected:
			fmt.Fprintln(w, "  kept: it is protected (strata unprotect, then repair snapshots --forget again)")
		case !errors.Is(u.Err, repo.ErrDamaged):
		case opts.Forget && opts.DryRun:
			fmt.Fprintln(w, "  would be removed (dry run)")
		case !opts.Forget:
			fmt.Fprintln(w, "  restore it from another copy of the repository, or remove it with --forget")
		}
	}
	saved, removed := 0, 0
	for _, sr := range rep.Damaged {
		o := sr.Original
		fmt.Fprintf(w, "snapshot %s of %s (host %s, %s):\n", o.ID.Short(), showTime(o.Time), o.Host, o.Source)
		if sr.RootLost {
			fmt.Fprintf(w, "  root tree %s lost: nothing of the snapshot is left\n", o.Tree.Short())
		}
		for _, l := range sr.Losses {
			fmt.Fprintf(w, "  %s: %s\n", l.Path, l.Text)
		}
		switch {
		case !sr.RepairedBefore.IsNull():
			fmt.Fprintf(w, "  repaired before as snapshot %s\n", sr.RepairedBefore.Short())
		case sr.Repaired != nil:
			saved++
			fmt.Fprintf(w, "  repaired as snapshot %s\n", sr.Repaired.ID.Short())
		case opts.DryRun && !sr.RootLost:
			fmt.Fprintln(w, "  would be repaired (dry run)")
		}
		// Forget removes an original that a repaired snapshot replaces, or
		// of which nothing is left.
		replaced := sr.Repaired != nil || !sr.RepairedBefore.IsNull() || sr.RootLost || opts.DryRun
		switch {
		case sr.Forgotten:
			removed++
			fmt.Fprintln(w, "  original removed")
			for _, p := range prots {
				// Only expired protections can name it: active ones kept it.
				if p.Snapshot == o.ID {
					if err := r.RemoveProtection(ctx, p); err != nil {
						return err
					}
				}
			}
		case !replaced:
		case protected[o.ID] && opts.Forget:
			fmt.Fprintln(w, "  original kept: it is protected (strata unprotect, then repair snapshots --forget again)")
		case opts.Forget && opts.DryRun:
			fmt.Fprintln(w, "  original would be removed (dry run)")
		default:
			fmt.Fprintln(w, "  original kept (--forget removes it)")
		}
	}
	for _, p := range rep.IndexProblems {
		fmt.Fprintf(w, "the index is incomplete: %s; run `strata repair index` first\n", p)
	}
	if len(rep.Damaged) == 0 {
		fmt.Fprintf(w, "no snapshot lost data (%s)\n", counted(rep.Snapshots, "snapshot"))
	} else {
		fmt.Fprintf(w, "%d of %s lost data; %s saved, %s removed\n",
			len(rep.Damaged), counted(rep.Snapshots, "snapshot"), counted(saved, "repaired snapshot"), counted(removed, "original"))
	}
	return err
}
