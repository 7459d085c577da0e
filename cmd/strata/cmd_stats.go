package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/restore"
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
}

func cmdStats(g *globals) *cli.Command {
	var asJSON bool
	return &cli.Command{
		Name:      "stats",
		Usage:     "show sizes, deduplication and compression",
		ArgsUsage: "[SNAPSHOT]",
		Description: `Shows, for SNAPSHOT or for all snapshots: raw bytes (what a restore writes),
unique bytes (the plaintext of the distinct blobs they need, delta bases
included), stored bytes (those blobs as stored: compressed and encrypted),
the deduplication ratio (raw / unique) and the compression ratio
(unique / stored), and the size of the whole repository.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON", Destination: &asJSON}},
		Action: func(c *cli.Context) error {
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
				st, err := computeStats(c.Context, r, sns)
				if err != nil {
					return err
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

func computeStats(ctx context.Context, r *repo.Repository, sns []*repo.Snapshot) (*statsJSON, error) {
	st := &statsJSON{Snapshots: len(sns)}
	needed := map[pack.ID]bool{}
	for _, sn := range sns {
		needed[sn.Tree] = true
		err := restore.Walk(ctx, r, sn.Tree, func(path string, n *repo.Node) error {
			if n.Subtree != nil {
				needed[*n.Subtree] = true
			}
			if n.Kind != repo.NodeDir && n.Kind != repo.NodeSymlink {
				st.Files++
				st.RawBytes += n.Size
			}
			for _, id := range n.Content {
				needed[id] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		}
	}
	// A delta blob needs its base: count the whole chain.
	idx := r.Index()
	for id := range needed {
		for cur := id; ; {
			loc, ok := idx.Lookup(cur)
			if !ok || loc.Compression != pack.Delta || needed[loc.Base] {
				break
			}
			needed[loc.Base] = true
			cur = loc.Base
		}
	}
	counted := map[pack.ID]bool{}
	err := r.EachIndexedBlob(ctx, func(_ pack.ID, b pack.Blob) error {
		if needed[b.ID] && !counted[b.ID] {
			counted[b.ID] = true
			st.UniqueBytes += uint64(b.RawLength)
			st.StoredBytes += uint64(b.Length)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Blobs = len(counted)
	if st.UniqueBytes > 0 {
		st.DedupRatio = float64(st.RawBytes) / float64(st.UniqueBytes)
	}
	if st.StoredBytes > 0 {
		st.CompressionRatio = float64(st.UniqueBytes) / float64(st.StoredBytes)
	}
	if fi, err := r.Backend().Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err == nil {
		st.RepositoryBytes += uint64(fi.Size)
	}
	for _, t := range []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile, backend.KeyFile} {
		err := r.Backend().List(ctx, t, func(fi backend.FileInfo) error {
			st.RepositoryBytes += uint64(fi.Size)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}
