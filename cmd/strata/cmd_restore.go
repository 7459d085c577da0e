package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/restore"
)

func cmdRestore(g *globals) *cli.Command {
	var (
		target    string
		includes  cli.StringSlice
		overwrite bool
	)
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a snapshot into a folder",
		ArgsUsage: "SNAPSHOT",
		Description: `Restores SNAPSHOT ("latest", an ID or a unique ID prefix) below --target.
Every blob is verified; a file appears under its name only when all of it
was restored. Existing files are not overwritten unless --overwrite.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "restore into `DIR`", Required: true, Destination: &target},
			&cli.StringSliceFlag{Name: "include", Aliases: []string{"i"}, Usage: "restore only paths matching `PATTERN` (repeatable)", Destination: &includes},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace existing files", Destination: &overwrite},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("give one snapshot: strata restore SNAPSHOT --target DIR")
			}
			return g.withLock(c.Context, false, "restore", func(r *repo.Repository) error {
				sn, err := r.FindSnapshot(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				p := &restore.Progress{}
				opts := restore.Options{Include: includes.Value(), Overwrite: overwrite, Progress: p, Notify: g.notice}
				start := time.Now()
				bar := progress.Start(g.env.stderr, g.showProgress(), "restore", func() (uint64, uint64, string) {
					return p.BytesWritten.Load(), p.TotalBytes.Load(), fmt.Sprintf("%d files", p.FilesDone.Load())
				})
				st, err := restore.Restore(c.Context, r, sn.Tree, target, opts)
				bar.Stop()
				if err != nil {
					return fmt.Errorf("restoring snapshot %s: %w", sn.ID.Short(), err)
				}
				g.printf("restored snapshot %s to %s: %d files, %s in %s\n", sn.ID.Short(), target, st.Files, progress.Bytes(st.Bytes), progress.Duration(time.Since(start)))
				return nil
			})
		},
	}
}
