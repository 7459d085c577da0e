package main

import (
	"bufio"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/restore"
)

func cmdDump(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "dump",
		Usage:     "write one file of a snapshot to standard output",
		ArgsUsage: "SNAPSHOT PATH",
		Description: `Writes the file, stream or table at PATH in SNAPSHOT to standard output;
a folder is written as a tar archive. For a --stdin backup, PATH is
/NAME (the --stdin-name).

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("give a snapshot and a path: strata dump SNAPSHOT PATH")
			}
			return g.withLock(c.Context, false, "dump", func(r *repo.Repository) error {
				sn, err := r.FindSnapshot(c.Context, c.Args().Get(0))
				if err != nil {
					return err
				}
				w := bufio.NewWriterSize(g.env.stdout, 1<<20)
				if err := restore.Dump(c.Context, r, sn.Tree, c.Args().Get(1), w); err != nil {
					return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
				return w.Flush()
			})
		},
	}
}
