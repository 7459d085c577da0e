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

func cmdRepairPacks(g *globals) *cli.Command {
	var opts repair.PacksOptions
	return &cli.Command{
		Name:      "packs",
		Usage:     "salvage the intact blobs of damaged packs and drop the packs",
		ArgsUsage: "[PACK...]",
		Description: `Repairs the named packs (IDs or unique prefixes, as check names them; a
pack missing from storage by its full ID) when they are damaged, else the
packs the index names that are missing from storage; --read-data reads
every pack and repairs those whose bytes do not hash to their name too.
Every blob of a damaged pack that the index or the pack's header locates
and that verifies against its ID is copied, still sealed, into new packs;
then a new index without the damaged packs supersedes the index files
that named them; only then are those files and the packs removed. Blobs
that do not verify are listed by ID; when no other pack holds them their
data is lost, and "strata repair snapshots --forget" then removes them
from the snapshots. Every run also writes the copies that tree blobs lack
(strata keeps two of each, in different packs), so a repository written
by an older strata gets them too. Run "strata repair index" first when an
index file is damaged. --dry-run reads and verifies, and changes nothing.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "read-data", Usage: "read every pack to find the damaged ones", Destination: &opts.ReadData},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "only say what would be salvaged, copied and lost", Destination: &opts.DryRun},
		},
		Action: func(c *cli.Context) error {
			return g.withLockNoIndex(c.Context, !opts.DryRun, "repair packs", func(r *repo.Repository) error {
				return runRepairPacks(c.Context, g, r, c.Args().Slice(), opts)
			})
		},
	}
}

func runRepairPacks(ctx context.Context, g *globals, r *repo.Repository, refs []string, opts repair.PacksOptions) error {
	bad, err := r.LoadIndexTolerant(ctx)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("index file %s is damaged: run `strata repair index` first, then repair packs again: %w",
			bad[0].File.Short(), bad[0].Err)
	}
	for _, ref := range refs {
		id, err := findPack(ctx, r, ref)
		if err != nil {
			return err
		}
		opts.Packs = append(opts.Packs, id)
	}
	opts.Progress = func(msg string) { g.printf("%s\n", msg) }
	rep, err := repair.Packs(ctx, r, opts)
	// A failed run prints no report: it would tell what the run found
	// before it stopped as if that were all ("no damaged pack found").
	if rep != nil && err == nil {
		printPacksRepair(g.env.stdout, rep)
	}
	return err
}

// findPack resolves a stored pack's ID or prefix, or the full ID of a
// pack that the index names but storage lost.
func findPack(ctx context.Context, r *repo.Repository, ref string) (pack.ID, error) {
	id, err := r.FindID(ctx, backend.PackFile, ref)
	if errors.Is(err, backend.ErrNotExist) {
		if full, perr := pack.ParseID(ref); perr == nil {
			return full, nil
		}
		return id, fmt.Errorf("%w (a pack missing from storage must be named by its full ID)", err)
	}
	return id, err
}

func printPacksRepair(w io.Writer, rep *repair.PacksReport) {
	for _, id := range rep.Intact {
		fmt.Fprintf(w, "pack %s is intact: left as it is\n", id.Short())
	}
	for _, pr := range rep.Repaired {
		fmt.Fprintf(w, "pack %s is damaged (%v): %s salvaged, %d not\n", pr.Pack.Short(), pr.Err, counted(pr.Salvaged, "blob"), len(pr.Lost))
		for _, l := range pr.Lost {
			where := "lost: no other pack holds it"
			if l.OtherCopy {
				where = "another pack holds an intact copy"
			}
			fmt.Fprintf(w, "  %s blob %s: %s (%v)\n", l.Type, l.ID, where, l.Err)
		}
	}
	lost := rep.LostBlobs()
	if rep.TreeCopies > 0 {
		verb := "written"
		if rep.DryRun {
			verb = "would be written"
		}
		fmt.Fprintf(w, "tree copies: %d %s, so that every tree blob has %d copies in different packs\n", rep.TreeCopies, verb, repo.TreeCopies)
	}
	if n := len(rep.Uncopied); n > 0 {
		fmt.Fprintf(w, "%d tree blobs lack a copy, but no copy of them could be read (first %s): run `strata check --read-data` to find the damaged pack\n",
			n, rep.Uncopied[0].Short())
	}
	switch {
	case len(rep.Repaired) == 0 && rep.TreeCopies == 0 && len(rep.Uncopied) == 0:
		fmt.Fprintf(w, "no damaged pack found (%d packs read), and every tree blob has its copies\n", rep.PacksRead)
		return
	case rep.DryRun:
		fmt.Fprintf(w, "dry run: %s would be replaced; nothing was changed\n", counted(len(rep.Repaired), "damaged pack"))
	default:
		fmt.Fprintf(w, "%s replaced: %s, %s written, %s removed\n", counted(len(rep.Repaired), "damaged pack"),
			counted(rep.NewPacks, "new pack"), counted(len(rep.Files), "index file"), counted(len(rep.Removed), "file"))
	}
	if n := len(rep.Locked); n > 0 {
		fmt.Fprintf(w, "locked: %d files left under object lock, named by no index; a prune after their retention removes them:\n", n)
		for _, le := range rep.Locked {
			fmt.Fprintf(w, "  %v  %v\n", le.Handle, le.State)
		}
	}
	if n := len(rep.BrokenDeltas); n > 0 {
		fmt.Fprintf(w, "delta blobs built on a lost base, dropped from the index: %d (first %s)\n", n, rep.BrokenDeltas[0].Short())
	}
	if len(lost) > 0 || len(rep.BrokenDeltas) > 0 {
		fmt.Fprintf(w, "%s lost; run `strata repair snapshots --forget` to remove them from the snapshots that need them, then take a fresh backup\n", counted(len(lost)+len(rep.BrokenDeltas), "blob"))
	}
}
