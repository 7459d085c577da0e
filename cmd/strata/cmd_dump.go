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
	var format, host, source string
	return &cli.Command{
		Name:      "dump",
		Usage:     "write one file or table of a snapshot to standard output",
		ArgsUsage: "SNAPSHOT PATH|TABLE",
		Description: `Writes the file, stream or table at PATH in SNAPSHOT to standard output;
a folder is written as a tar archive. For a --stdin backup, PATH is
/NAME (the --stdin-name). For a database snapshot, TABLE is the table's
name (schema.table for PostgreSQL outside public is its node name) and
--format picks tsv (the stored COPY text), csv (with a header; NULL is an
empty field) or jsonl (one object per row; NULL is null). For a table,
latest means the newest snapshot of one database: the only one the
repository holds, or the one --source names.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "for tables: `tsv`, csv or jsonl", Destination: &format},
			&cli.StringFlag{Name: "source", Usage: "for tables: latest of the database `DSN` (any spelling; a password is ignored)", Destination: &source},
			&cli.StringFlag{Name: "host", Usage: "for tables: latest from `HOST`", Destination: &host},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("give a snapshot and a path: strata dump SNAPSHOT PATH")
			}
			return g.withLock(c.Context, false, "dump", func(r *repo.Repository) error {
				w := bufio.NewWriterSize(g.env.stdout, 1<<20)
				path := c.Args().Get(1)
				if format != "" || !strings.HasPrefix(path, "/") {
					sn, err := dbexport.PickSnapshot(c.Context, r, dbexport.SnapshotRequest{Ref: c.Args().Get(0), Host: host, Source: source})
					if err != nil {
						return err
					}
					if err := dbexport.DumpTable(c.Context, r, sn.Tree, strings.TrimPrefix(path, "/"), format, w); err != nil {
						return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
					}
					return w.Flush()
				}
				sn, err := r.FindSnapshot(c.Context, c.Args().Get(0))
				if err != nil {
					return err
				}
				if err := restore.Dump(c.Context, r, sn.Tree, path, w); err != nil {
					return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
				return w.Flush()
			})
		},
	}
}
