package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/verify"
)

func cmdCheck(g *globals) *cli.Command {
	var (
		readData bool
		subset   string
		asJSON   bool
	)
	return &cli.Command{
		Name:  "check",
		Usage: "verify the repository's structure and, optionally, every blob",
		Description: `Verifies that every index entry's pack exists and its header agrees, and
that every tree and blob referenced by a snapshot is indexed. --read-data
also decrypts every blob and verifies its BLAKE3 ID (delta blobs: the
reconstructed plaintext); --read-data-subset n/m or P% reads part of the
packs. A damaged pack is reported with its blobs and the snapshots that
depend on them.

` + checkExitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "read-data", Usage: "read and verify every blob", Destination: &readData},
			&cli.StringFlag{Name: "read-data-subset", Usage: "read and verify a subset of packs: `n/m` or P%", Destination: &subset},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			opts := verify.CheckOptions{ReadData: readData, Progress: &verify.Progress{}}
			if subset != "" {
				s, err := verify.ParseSubset(subset)
				if err != nil {
					return err
				}
				opts.Subset = s
			}
			ro := g.repoOptions()
			ro.NoIndex = true
			r, err := g.openRepoWith(c.Context, ro)
			if err != nil {
				return err
			}
			lock, err := r.Lock(c.Context, false, "check")
			if err != nil {
				return err
			}
			defer lock.Unlock(context.WithoutCancel(c.Context))
			p := opts.Progress
			bar := progress.Start(g.env.stderr, g.showProgress(), "check", func() (uint64, uint64, string) {
				return uint64(p.BytesRead.Load()), uint64(p.BytesTotal.Load()), fmt.Sprintf("%d/%d packs", p.PacksDone.Load(), p.PacksTotal.Load())
			})
			rep, err := verify.Check(c.Context, r, opts)
			bar.Stop()
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(g.env.stdout, rep.JSON()); err != nil {
					return err
				}
			} else {
				for _, f := range rep.Findings {
					fmt.Fprintf(g.env.stdout, "error: %v\n", f)
				}
				if n := len(rep.UnreferencedPacks); n > 0 {
					fmt.Fprintf(g.env.stdout, "notice: %d packs are not referenced by the index (left by an interrupted backup; a later prune removes them)\n", n)
				}
				fmt.Fprintf(g.env.stdout, "checked %d snapshots, %d trees, %d packs, %d blobs", rep.Snapshots, rep.Trees, rep.Packs, rep.Blobs)
				if rep.DataBytesRead > 0 {
					fmt.Fprintf(g.env.stdout, ", read %s of data", progress.Bytes(uint64(rep.DataBytesRead)))
				}
				fmt.Fprintln(g.env.stdout)
			}
			if !rep.OK() {
				return fmt.Errorf("%w: check found %d problems", errCheckFailed, len(rep.Findings))
			}
			if !asJSON {
				fmt.Fprintln(g.env.stdout, "no errors were found")
			}
			return nil
		},
	}
}
