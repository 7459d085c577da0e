package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/restore"
)

func cmdDump(g *globals) *cli.Command {
	var format, host, source, keyRange string
	return &cli.Command{
		Name:      "dump",
		Usage:     "write one file or table of a snapshot to standard output",
		ArgsUsage: "SNAPSHOT PATH|TABLE",
		Description: `Writes the file, stream or table at PATH in SNAPSHOT to standard output;
a folder is written as a tar archive. For a --stdin backup, PATH is
NAME or /NAME (the --stdin-name), and latest is the newest backup of that
stream (latest~N the Nth before it). For a database snapshot, TABLE is the table's
name (schema.table for PostgreSQL outside public is its node name) and
--format picks tsv (the stored COPY text), csv (with a header, written as
PostgreSQL's COPY writes CSV: NULL is an empty field, the empty string "")
or jsonl (one object per row; NULL is null, a number has all its
digits, NaN and the infinities are strings). For a table,
latest means the newest snapshot of one database: the only one the
repository holds, or the one --source names; of a SQLite file or
localhost server saved on several machines, this machine's (or --host's),
as restore chooses, with a note on stderr when another host holds a newer
snapshot of it.

--key-range FROM..TO writes only the rows whose primary key lies between
FROM and TO, both included (FROM.. and ..TO leave an end open); a table
without a primary key is an error. A key is
its fields in key order separated by commas (7,2025-06-01); a field that
holds a comma, a quote or ".." is written in double quotes, quotes doubled.
A bound with fewer fields than the key bounds its leading fields: 5..5 on
a key (customer_id, id) gives every row of customer 5. Keys compare field
by field, as numbers when both are integers, else bytewise. When every key
column is an integer, only the chunks that hold the range are read (-v
says how many, and how many bytes); otherwise every chunk is read.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "for tables: `tsv`, csv or jsonl", Destination: &format},
			&cli.StringFlag{Name: "source", Usage: "latest of the database `DSN` (any spelling; a password is ignored), or of a recorded source such as stdin:NAME", Destination: &source},
			&cli.StringFlag{Name: "host", Usage: "latest from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "key-range", Usage: "for tables: only the rows whose primary key lies in `FROM..TO` (FROM.., ..TO; fields separated by commas)", Destination: &keyRange},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("give a snapshot and a path: strata dump SNAPSHOT PATH")
			}
			ref, path := c.Args().Get(0), c.Args().Get(1)
			var keys *dbexport.KeyRange
			if keyRange != "" {
				kr, err := dbexport.ParseKeyRange(keyRange)
				if err != nil {
					return fmt.Errorf("--key-range: %w", err)
				}
				keys = &kr
			}
			return g.withReader(c.Context, "dump", func(r *repo.Repository) error {
				w := bufio.NewWriterSize(g.env.stdout, 1<<20)
				sn, err := findStream(c.Context, r, ref, path, host, source)
				if err != nil {
					return err
				}
				switch {
				case sn != nil && keys != nil:
					return fmt.Errorf("--key-range selects rows of a table; %s is a stream", path)
				case sn != nil:
					path = "/" + strings.TrimPrefix(path, "/")
				case format != "" || keys != nil || !strings.HasPrefix(path, "/"):
					sn, err := dbexport.PickSnapshot(c.Context, r, snapshotRequest(ref, host, source))
					if err != nil && format == "" {
						if full := fileNamed(c.Context, r, ref, path); full != "" {
							return fmt.Errorf("%w (a file's PATH is its full path: strata dump %s %s)", err, ref, full)
						}
					}
					if errors.Is(err, dbexport.ErrNoTables) && format == "" {
						return fmt.Errorf("%w (a file's PATH is its full path, as strata ls %s shows it)", err, ref)
					}
					if err != nil {
						return err
					}
					g.warnRepaired(sn, false)
					if _, latest, _ := repo.LatestRef(ref); latest {
						g.noteNewerElsewhere(c.Context, r, sn, time.Time{})
					}
					g.audit.restoredFrom(sn)
					st, err := dbexport.DumpTableWith(c.Context, r, sn.Tree, strings.TrimPrefix(path, "/"), dbexport.DumpOptions{Format: format, Keys: keys}, w)
					if err != nil {
						return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
					}
					if keys != nil {
						g.reportKeyRange(st, r.PackBytesRead())
					}
					return w.Flush()
				default:
					if sn, err = r.FindSnapshot(c.Context, ref); err != nil {
						return err
					}
				}
				g.warnRepaired(sn, false)
				g.audit.restoredFrom(sn)
				if err := restore.Dump(c.Context, r, sn.Tree, path, w); err != nil {
					return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
				return w.Flush()
			})
		},
	}
}

// findStream returns the snapshot of the --stdin backup named name
// ("mydb.sql" or "/mydb.sql", as restic users type it): with ref latest,
// the newest backup of that stream (from host, if given), else the
// snapshot ref when it is one. It returns nil when name is no stream, so
// the caller looks for a table or a file.
func findStream(ctx context.Context, r *repo.Repository, ref, name, host, source string) (*repo.Snapshot, error) {
	name = strings.TrimPrefix(name, "/")
	want := archive.StreamSource(name)
	if name == "" || strings.Contains(name, "/") || (source != "" && source != want) {
		return nil, nil
	}
	back, latest, err := repo.LatestRef(ref)
	if err != nil {
		return nil, err
	}
	if !latest {
		sn, err := r.FindSnapshot(ctx, ref)
		if err != nil || sn.Source != want {
			return nil, err
		}
		return sn, nil
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	var own []*repo.Snapshot
	for _, sn := range sns {
		if sn.Source == want && (host == "" || sn.Host == host) {
			own = append(own, sn)
		}
	}
	if len(own) == 0 {
		return nil, nil
	}
	return repo.BeforeLatest(own, back, ref, "of stream "+name)
}

// fileNamed is the full path of the first file in snapshot ref whose path
// ends in name ("orders.csv", "exports/orders.csv"), for a hint; "" when
// there is none or the snapshot cannot be read.
func fileNamed(ctx context.Context, r *repo.Repository, ref, name string) string {
	sn, err := r.FindSnapshot(ctx, ref)
	if err != nil {
		return ""
	}
	found := ""
	_ = restore.Walk(ctx, r, sn.Tree, func(p string, n *repo.Node) error {
		if found == "" && n.Kind == repo.NodeFile && strings.HasSuffix(p, "/"+name) {
			found = p
		}
		return nil
	})
	return found
}

// reportKeyRange says, with -v, what dump --key-range read: the chunks
// loaded of the table's and the bytes read from packs (trees, pages,
// chunks and their delta bases).
func (g *globals) reportKeyRange(st dbexport.DumpStats, bytesRead int64) {
	if !st.KeyOrdered {
		g.verbosef(1, "the table's key is not only integers, whose order strata knows: every chunk was read\n")
	}
	g.verbosef(1, "%s in range; read %d of %s, %s (%d bytes) from the repository\n",
		counted(st.Rows, "row"), st.ChunksRead, counted(st.Chunks, "chunk"), progress.Bytes(uint64(bytesRead)), bytesRead)
}
