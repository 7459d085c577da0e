package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/repo"
	"strata/repo/archive"
)

func cmdBackup(g *globals) *cli.Command {
	var (
		stdin      bool
		stdinName  string
		tags       cli.StringSlice
		tier, host string
		at         string
		force      bool
		asJSON     bool
		db         dbOptions
		tables     cli.StringSlice
		exclude    cli.StringSlice
		schemas    cli.StringSlice
		files      fileFlags
	)
	return &cli.Command{
		Name:      "backup",
		Usage:     "save database tables, files, folders or standard input in a new snapshot",
		ArgsUsage: "PATH...",
		Description: `Saves the tables of the database --db DSN, PATHs, or standard input with
--stdin, in a new snapshot. DSNs: sqlite:///path/app.db (or sqlite:rel.db),
postgres://user@host:5432/db?sslmode=..., mysql://user@host:3306/db; the
password comes from the DSN, PGPASSWORD / MYSQL_PWD, or --db-password-file,
and is never stored. Every table reflects one point in time; rows are saved
in primary-key order, and changed chunks as deltas against the previous
snapshot of the same database from this host.

Files whose size, modification time and inode match the previous snapshot
of the same paths from this host are not read again unless --force.

Backups of paths take restic's selection flags: --exclude and --iexclude
patterns (a pattern with a leading "/" matches the whole absolute path, any
other its last parts: "*.tmp" matches base names; an excluded folder is left
out with its content), --exclude-file, --iexclude-file, --files-from,
--exclude-caches and --one-file-system. --dry-run (files and --stdin) reads
and chunks everything and tells what a backup would add, before compression
and encryption, writing nothing.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "stdin", Usage: "read the data to save from standard input", Destination: &stdin},
			&cli.StringFlag{Name: "stdin-name", Usage: "file name for data read from standard input", Value: "stdin", Destination: &stdinName},
			&cli.StringSliceFlag{Name: "tag", Usage: "add `TAG` to the snapshot (repeatable)", Destination: &tags},
			&cli.StringFlag{Name: "tier", Usage: "retention tier of the snapshot (hourly, daily, weekly, monthly, ...)", Destination: &tier},
			&cli.StringFlag{Name: "host", Usage: "host name to record (default: this machine)", Destination: &host},
			&cli.StringFlag{Name: "time", Usage: "snapshot `TIME` (\"YYYY-MM-DD HH:MM[:SS]\" in local time, or RFC 3339), from 1970 to one hour ahead (default: now)", Destination: &at},
			&cli.BoolFlag{Name: "force", Usage: "read every file, even unchanged ones", Destination: &force},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON", Destination: &asJSON},
			&cli.StringFlag{Name: "db", Usage: "back up the tables of database `DSN` (sqlite:///path.db, postgres://user@host/db, mysql://user@host/db)", Destination: &db.dsn},
			&cli.StringFlag{Name: "db-password-file", Usage: "read the database password from `FILE` (or PGPASSWORD / MYSQL_PWD)", Destination: &db.passwordFile},
			&cli.StringSliceFlag{Name: "tables", Usage: "only tables matching `GLOB` (repeatable; a GLOB matching no table is refused)", Destination: &tables},
			&cli.StringSliceFlag{Name: "exclude-tables", Usage: "leave out tables matching `GLOB` (repeatable)", Destination: &exclude},
			&cli.StringSliceFlag{Name: "schema", Usage: "PostgreSQL: only schema `NAME` (repeatable)", Destination: &schemas},
			&cli.IntFlag{Name: "jobs", Usage: "parallel export connections sharing one snapshot (PostgreSQL, SQLite)", DefaultText: "1 for PostgreSQL, one per CPU up to 4 for SQLite", Destination: &db.jobs},
		}, files.flags()...),
		Action: func(c *cli.Context) error {
			if err := checkSnapshotFlags(c); err != nil {
				return err
			}
			args := c.Args().Slice()
			var stream io.Reader = g.env.stdin
			if g.job != nil && !stdin && len(args) == 0 && db.dsn == "" && !c.IsSet("files-from") {
				jb, err := g.jobBackupSource(c, &db)
				if err != nil {
					return err
				}
				defer jb.close()
				args, stdin = jb.paths, jb.stdin
				if jb.stdin && !c.IsSet("stdin-name") {
					stdinName = jb.stdinName
				}
				if jb.stream != nil {
					stream = jb.stream
				}
			}
			paths, err := files.paths(args)
			if err != nil {
				return err
			}
			sources := 0
			for _, given := range []bool{stdin, len(paths) > 0, db.dsn != ""} {
				if given {
					sources++
				}
			}
			if sources > 1 {
				return errors.New("give one of --stdin, --db or paths")
			}
			if sources == 0 {
				return errors.New("nothing to back up: give paths, --stdin or --db")
			}
			if files.given() && len(paths) == 0 {
				return errors.New("--exclude, --exclude-file, --exclude-caches and --one-file-system apply to backups of paths")
			}
			if files.dryRun && db.dsn != "" {
				return errors.New("--dry-run applies to backups of paths and --stdin; for a database, strata restore --dry-run shows a restore's plan")
			}
			ex, err := files.exclusions()
			if err != nil {
				return err
			}
			opts := archive.Options{Host: host, Tags: tags.Value(), Tier: tier, Force: force, Program: "strata " + version, Notify: g.notice, Counters: &archive.Counters{}, Exclude: ex,
				OnFile: func(status, path string) { g.verbosef(2, "%-9s %s\n", status, path) }}
			if at != "" {
				t, err := parseTime("--time", at)
				if err != nil {
					return err
				}
				if err := repo.CheckSnapshotTime(t, time.Now()); err != nil {
					return fmt.Errorf("invalid --time %q: %w; give a time from 1970 to one hour from now", at, err)
				}
				opts.Time = t
			}
			if db.dsn != "" {
				tuneGC(g.env.getenv, dbBackupGCPercent)
				db.schemas = schemas.Value()
				return g.withLock(c.Context, false, "backup", func(r *repo.Repository) error {
					sn, err := backupDB(c.Context, g, r, db, dbexport.BackupOptions{
						Host: host, Tags: tags.Value(), Tier: tier, Time: opts.Time,
						Tables: tables.Value(), Exclude: exclude.Value(),
					}, asJSON)
					if err != nil {
						return err
					}
					return printBackupSummary(g, sn, asJSON)
				})
			}
			return g.withLock(c.Context, false, "backup", func(r *repo.Repository) error {
				opts = withDefaultHost(opts)
				sns, err := r.Snapshots(c.Context)
				if err != nil {
					return err
				}
				source := archive.StreamSource(stdinName)
				if !stdin {
					abs, err := absPaths(paths)
					if err != nil {
						return err
					}
					source = archive.FilesSource(abs)
				}
				opts.Parent = archive.FindParent(sns, opts.Host, source)
				if opts.Parent != nil {
					g.verbosef(1, "parent snapshot %s: files it holds unchanged are not read again\n", opts.Parent.ID.Short())
				}
				cn := opts.Counters
				stop := g.startProgress("backup", asJSON, "file", func() progress.Counts {
					c := progress.Counts{BytesDone: cn.BytesRead.Load() + cn.BytesUnchanged.Load(), FilesDone: cn.Files.Load()}
					if cn.Scanned.Load() {
						c.BytesTotal, c.FilesTotal = cn.TotalBytes.Load(), cn.TotalFiles.Load()
					}
					return c
				})
				var sn *repo.Snapshot
				var target archive.Repository = r
				if files.dryRun {
					target = archive.NewDryRun(dryRunBase{r})
				}
				if stdin {
					sn, err = archive.BackupStream(c.Context, target, stream, stdinName, opts)
				} else {
					sn, err = archive.BackupPaths(c.Context, target, paths, opts)
				}
				stop()
				if err != nil {
					return err
				}
				if files.dryRun {
					return printDryRun(g, sn, cn.Files.Load(), asJSON)
				}
				return printBackupSummary(g, sn, asJSON)
			})
		},
	}
}

func printBackupSummary(g *globals, sn *repo.Snapshot, asJSON bool) error {
	g.mrun.snapshot = sn
	s := sn.Summary
	if asJSON {
		enc := json.NewEncoder(g.env.stdout)
		return enc.Encode(struct {
			MessageType string       `json:"message_type"` // "summary", after the status lines
			ID          string       `json:"id"`
			Parent      *string      `json:"parent,omitempty"`
			Summary     repo.Summary `json:"summary"`
			Snapshot    snapshotJSON `json:"snapshot"`
		}{"summary", sn.ID.String(), parentString(sn), s, toSnapshotJSON(sn)})
	}
	if g.quiet {
		return nil
	}
	w := g.env.stdout
	if sn.Parent != nil {
		fmt.Fprintf(w, "using parent snapshot %s\n", sn.Parent.Short())
	}
	what := "Files: "
	if strings.HasPrefix(sn.Source, "sqlite:") || strings.HasPrefix(sn.Source, "postgres:") || strings.HasPrefix(sn.Source, "mysql:") {
		what = "Tables:"
	}
	fmt.Fprintf(w, "%s %d new, %d changed, %d unmodified\n", what, s.FilesNew, s.FilesChanged, s.FilesUnchanged)
	fmt.Fprintf(w, "Added to the repository: %s in %s\n", progress.Bytes(s.BytesAdded), counted(s.BlobsAdded, "blob"))
	fmt.Fprintf(w, "processed %s in %s\n", progress.Bytes(s.BytesRead), progress.Duration(time.Duration(s.Seconds*float64(time.Second))))
	fmt.Fprintf(w, "snapshot %s saved\n", sn.ID.Short())
	return nil
}

func parentString(sn *repo.Snapshot) *string {
	if sn.Parent == nil {
		return nil
	}
	s := sn.Parent.String()
	return &s
}

// backupDB exports the tables of one database into a new snapshot whose
// parent is the previous snapshot of the same database from this host.
//
// With asJSON, its progress is status lines on stdout (backup --json).
func backupDB(ctx context.Context, g *globals, r *repo.Repository, db dbOptions, opts dbexport.BackupOptions, asJSON bool) (*repo.Snapshot, error) {
	d, err := db.parse()
	if err != nil {
		return nil, err
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	db.pgDump = g.env.getenv("STRATA_PG_DUMP")
	opts.Source = d.String()
	opts.Program = "strata " + version
	opts.Notify = g.notice
	opts.Counters = &archive.Counters{}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	opts.Parent = dbexport.FindParent(sns, opts.Host, d)
	opts.Notify = schemaNotices(ctx, g, r, opts.Parent)
	src, err := openSource(ctx, d, db)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	opts.Jobs = exportJobs(src, db)
	opts.CountRows = g.showProgress() || (asJSON && !g.quiet)
	stop := g.startProgress("backup", asJSON, "table", func() progress.Counts {
		cn := opts.Counters
		return progress.Counts{
			BytesDone: cn.BytesRead.Load(), FilesDone: cn.Files.Load(), FilesTotal: cn.TotalFiles.Load(),
			RowsDone: cn.Rows.Load(), RowsTotal: cn.TotalRows.Load(),
		}
	})
	sn, err := dbexport.Backup(ctx, r, src, opts)
	stop()
	return sn, err
}

// schemaNotices returns the notice function of a database backup: the
// schema's warnings (a table without a primary key, say) are told once
// per source, by the first backup that finds them, and not again while
// the parent snapshot's schema records the same warning.
func schemaNotices(ctx context.Context, g *globals, r *repo.Repository, parent *repo.Snapshot) func(string) {
	if parent == nil {
		return g.notice
	}
	ps, err := dbexport.LoadSchema(ctx, r, parent.Tree)
	if err != nil {
		return g.notice // an unreadable parent: tell everything
	}
	told := map[string]bool{}
	for _, w := range ps.Warnings {
		told[w] = true
	}
	return func(msg string) {
		if !told[msg] {
			g.notice(msg)
		}
	}
}
