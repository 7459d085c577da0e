package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
)

// statsJSON is the shape of `stats --json`.
type statsJSON struct {
	Snapshots        int     `json:"snapshots"`
	Files            uint64  `json:"files"`
	RawBytes         uint64  `json:"raw_bytes"`
	UniqueBytes      uint64  `json:"unique_bytes"`
	StoredBytes      uint64  `json:"stored_bytes"`
	Blobs            int     `json:"blobs"`
	DedupRatio       float64 `json:"dedup_ratio"`
	CompressionRatio float64 `json:"compression_ratio"`
	RepositoryBytes  uint64  `json:"repository_bytes"`

	missing int // needed blobs the index lacks
}

func cmdStats(g *globals) *cli.Command {
	var (
		asJSON, growth bool
		by             string
	)
	return &cli.Command{
		Name:      "stats",
		Usage:     "show sizes, deduplication and compression, by tier or over time",
		ArgsUsage: "[SNAPSHOT]",
		Description: `Shows, for SNAPSHOT or for all snapshots: raw bytes (what a restore writes),
unique bytes (the plaintext of the distinct blobs they need, delta bases
included), stored bytes (those blobs as stored: compressed and encrypted),
the deduplication ratio (raw / unique) and the compression ratio
(unique / stored), and the size of the whole repository.

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

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
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
			return g.withLock(c.Context, false, "stats", func(r *repo.Repository) error {
				var sns []*repo.Snapshot
				if c.NArg() > 0 {
					sn, err := r.FindSnapshot(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					sns = []*repo.Snapshot{sn}
				} else {
					var err error
					if sns, err = r.Snapshots(c.Context); err != nil {
						return err
					}
				}
				switch {
				case by == "tier":
					return statsByTier(c.Context, g, r, sns, asJSON)
				case growth:
					return statsGrowth(c.Context, g, r, sns, asJSON)
				}
				st, err := computeStats(c.Context, r, sns)
				if err != nil {
					return err
				}
				if st.missing > 0 {
					g.notice(missingNotice(st.missing))
				}
				if asJSON {
					return printJSON(g.env.stdout, st)
				}
				w := g.env.stdout
				fmt.Fprintf(w, "Snapshots:          %d\n", st.Snapshots)
				fmt.Fprintf(w, "Files:              %d\n", st.Files)
				fmt.Fprintf(w, "Raw size:           %s\n", progress.Bytes(st.RawBytes))
				fmt.Fprintf(w, "Unique data:        %s in %d blobs\n", progress.Bytes(st.UniqueBytes), st.Blobs)
				fmt.Fprintf(w, "Stored:             %s\n", progress.Bytes(st.StoredBytes))
				fmt.Fprintf(w, "Dedup ratio:        %.2fx\n", st.DedupRatio)
				fmt.Fprintf(w, "Compression ratio:  %.2fx\n", st.CompressionRatio)
				fmt.Fprintf(w, "Repository size:    %s\n", progress.Bytes(st.RepositoryBytes))
				return nil
			})
		},
	}
}

func computeStats(ctx context.Context, r statsRepository, sns []*repo.Snapshot) (*statsJSON, error) {
	st := &statsJSON{Snapshots: len(sns)}
	nb := newNeededBlobs(r)
	for _, sn := range sns {
		files, raw, err := nb.addSnapshot(ctx, sn, 0, nil)
		if err != nil {
			return nil, err
		}
		st.Files += files
		st.RawBytes += raw
	}
	sizes, err := nb.eachSize(ctx, func(_, stored, raw uint64) {
		st.Blobs++
		st.UniqueBytes += raw
		st.StoredBytes += stored
	})
	if err != nil {
		return nil, err
	}
	st.missing = sizes.missing
	if st.UniqueBytes > 0 {
		st.DedupRatio = float64(st.RawBytes) / float64(st.UniqueBytes)
	}
	if st.StoredBytes > 0 {
		st.CompressionRatio = float64(st.UniqueBytes) / float64(st.StoredBytes)
	}
	rb, err := measureRepository(ctx, r.Backend())
	if err != nil {
		return nil, err
	}
	st.RepositoryBytes = rb.total()
	return st, nil
}
