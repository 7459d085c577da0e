package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
	"strata/workflow"
)

// statsJSON is the shape of `stats --json` (workflow.StatsTotals).
type statsJSON = workflow.StatsTotals

func cmdStats(g *globals) *cli.Command {
	var (
		asJSON, growth bool
		by             string
	)
	return &cli.Command{
		Name:      "stats",
		Usage:     "show sizes, deduplication and compression, by tier or over time",
		ArgsUsage: "[SNAPSHOT]",
		Description: `Shows, for SNAPSHOT or for all snapshots:
  raw size      what a restore writes (the sizes of the files, streams
                and tables)
  unique data   the distinct pieces (content blobs) of that data, each
                counted once, uncompressed: what deduplication leaves
  stored        what keeps the snapshots restorable in the repository:
                their content blobs and the delta bases those need,
                compressed and encrypted ("data"), and the trees that
                record names, sizes and times ("trees", both copies)
  dedup ratio        raw / unique: how many times deduplication shrank it
  compression ratio  unique / stored data: what compression and delta
                     encoding saved on top
  total ratio        raw / stored: the two together, trees included
and the size of the whole repository (index, snapshot and key files, and
data no snapshot needs included). A compression ratio below 1 means the
data really grew: incompressible data stored with its encryption
overhead, say; a total ratio below 1 can also mean that the trees
outweigh the data, as with a few small files.

--by tier groups all snapshots by tier ("(none)" for those without one;
"" in JSON) and shows for each tier: its snapshots, the stored bytes of
the blobs they need ("referenced"), of those the bytes no snapshot of
another tier needs ("only": what forgetting the whole tier and pruning
would free), the rest ("shared"), and the same for unique bytes; then the
stored bytes all snapshots need and the repository size. At most 64 tiers.

--growth lists all snapshots oldest first with the stored bytes each needs
that no older snapshot needs ("added") and their running total, as far as
the data still in the repository shows: what a forgotten snapshot added is
counted for the first remaining snapshot that needs it. It ends with the
repository size and what makes up the difference: index, snapshot, key and
config files, pack headers, and blobs no snapshot needs (duplicates and
data awaiting prune).

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON", Destination: &asJSON},
			&cli.StringFlag{Name: "by", Usage: "group all snapshots by `FIELD` (tier)", Destination: &by},
			&cli.BoolFlag{Name: "growth", Usage: "show what each snapshot added, oldest first", Destination: &growth},
		},
		Action: func(c *cli.Context) error {
			switch {
			case by != "" && by != "tier":
				return fmt.Errorf("invalid --by %q: stats groups by tier only", by)
			case by != "" && growth:
				return errors.New("give --by or --growth, not both")
			case (by != "" || growth) && c.NArg() > 0:
				return errors.New("--by and --growth cover all snapshots: give no SNAPSHOT")
			}
			r, err := g.openFor(c.Context, workflow.LockRequest{Command: "stats", Index: workflow.ReaderIndex})
			if err != nil {
				return err
			}
			rep, err := workflow.Stats(c.Context, r, workflow.StatsRequest{
				Snapshot: c.Args().First(), ByTier: by == "tier", Growth: growth, Lock: g.lockOptions(), Logger: g.logger(),
			})
			if err != nil {
				return err
			}
			switch {
			case rep.Tiers != nil:
				return printTierStats(g, rep.Tiers, asJSON)
			case rep.Growth != nil:
				return printGrowth(g, rep.Growth, rep.Snapshots, asJSON)
			}
			st := rep.Totals
			{
				if asJSON {
					return printJSON(g.env.stdout, st)
				}
				w := g.env.stdout
				fmt.Fprintf(w, "Snapshots:          %d\n", st.Snapshots)
				fmt.Fprintf(w, "Files:              %d\n", st.Files)
				fmt.Fprintf(w, "Raw size:           %s\n", progress.Bytes(st.RawBytes))
				fmt.Fprintf(w, "Unique data:        %s in %s\n", progress.Bytes(st.UniqueBytes), counted(st.Blobs, "blob"))
				fmt.Fprintf(w, "Stored:             %s (data %s, trees %s)\n", progress.Bytes(st.StoredBytes),
					progress.Bytes(st.StoredDataBytes), progress.Bytes(st.StoredTreeBytes))
				fmt.Fprintf(w, "Dedup ratio:        %.2fx (raw / unique)\n", st.DedupRatio)
				fmt.Fprintf(w, "Compression ratio:  %.2fx (unique / stored data)\n", st.CompressionRatio)
				fmt.Fprintf(w, "Total ratio:        %.2fx (raw / stored)\n", st.TotalRatio)
				fmt.Fprintf(w, "Repository size:    %s\n", progress.Bytes(st.RepositoryBytes))
				return nil
			}
		},
	}
}

func computeStats(ctx context.Context, r workflow.StatsRepository, sns []*repo.Snapshot) (*statsJSON, error) {
	return workflow.ComputeStats(ctx, r, sns)
}
