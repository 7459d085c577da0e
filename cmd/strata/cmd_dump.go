package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/repo"
	"strata/repo/restore"
)

func cmdDump(g *globals) *cli.Command {
	var format string
	return &cli.Command{
		Name:      "dump",
		Usage:     "write one file or table of a snapshot to standard output",
		ArgsUsage: "SNAPSHOT PATH|TABLE",
		Description: `Writes the file, stream or table at PATH in SNAPSHOT to standard output;
a folder is written as a tar archive. For a --stdin backup, PATH is
/NAME (the --stdin-name). For a database snapshot, TABLE is the table's
name (schema.table for PostgreSQL outside public is its node name) and
--format picks tsv (the stored COPY text), csv (with a header; NULL is an
empty field) or jsonl (one object per row; NULL is null).

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "for tables: `tsv`, csv or jsonl", Destination: &format},
		},
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
				path := c.Args().Get(1)
				if format != "" || !strings.HasPrefix(path, "/") {
					if err := dbexport.DumpTable(c.Context, r, sn.Tree, strings.TrimPrefix(path, "/"), format, w); err != nil {
						return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
					}
					return w.Flush()
				}
				if err := restore.Dump(c.Context, r, sn.Tree, path, w); err != nil {
					return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
				return w.Flush()
			})
		},
	}
}
