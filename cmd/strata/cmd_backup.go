package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/archive"
	"strata/workflow"
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
			jb := &jobBackup{}
			defer func() { _ = jb.close() }() // a command source's command ends with the backup
			if g.job != nil && !stdin && len(args) == 0 && db.dsn == "" && !c.IsSet("files-from") {
				b, err := g.jobBackupSource(c, &db)
				if err != nil {
					return err
				}
				jb = b
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
			req := workflow.BackupRequest{
				Host: host, Tags: tags.Value(), Tier: tier, Force: force, DryRun: files.dryRun, Exclude: ex,
				Program: "strata " + version, Lock: g.lockOptions(), Logger: g.logger(),
				Progress: func(cn *archive.Counters, noun string) func() {
					return g.startProgress("backup", asJSON, noun, backupCounts(cn, noun))
				},
			}
			if at != "" {
				t, err := parseTime("--time", at)
				if err != nil {
					return err
				}
				if err := repo.CheckSnapshotTime(t, time.Now()); err != nil {
					return fmt.Errorf("invalid --time %q: %w; give a time from 1970 to one hour from now", at, err)
				}
				req.Time = t
			}
			switch {
			case db.dsn != "":
				tuneGC(g.env.getenv, dbBackupGCPercent)
				db.schemas = schemas.Value()
				req = g.dbBackupRequest(req, db, tables.Value(), exclude.Value(), asJSON)
			case stdin:
				req.Stdin, req.StdinName = stream, stdinName
			default:
				req.Paths = paths
			}
			r, err := g.openFor(c.Context, workflow.LockRequest{Command: "backup", Index: workflow.StrictIndex})
			if err != nil {
				return err
			}
			rep, err := workflow.Backup(c.Context, r, req)
			// The command source's command ends (stopped if the backup
			// stopped reading its output); the backup's own error comes first.
			if cerr := jb.close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if rep.DryRun {
				return printDryRun(g, rep.Snapshot, rep.FilesProcessed, asJSON)
			}
			return printBackupSummary(g, rep.Snapshot, asJSON)
		},
	}
}

// backupRequest is a backup request as the global flags shape it: its
// lock, logger, program and progress display (status lines on stdout
// with asJSON).
func (g *globals) backupRequest(asJSON bool) workflow.BackupRequest {
	return workflow.BackupRequest{
		Program: "strata " + version, Lock: g.lockOptions(), Logger: g.logger(),
		Progress: func(cn *archive.Counters, noun string) func() {
			return g.startProgress("backup", asJSON, noun, backupCounts(cn, noun))
		},
	}
}

// dbBackupRequest is req for the database of the flags db: the tables
// matching tables and not exclude.
func (g *globals) dbBackupRequest(req workflow.BackupRequest, db dbOptions, tables, exclude []string, asJSON bool) workflow.BackupRequest {
	req.Database = &workflow.DatabaseSource{
		DSN: db.dsn, Password: db.password, PasswordFile: db.passwordFile, Tables: tables, ExcludeTables: exclude,
		Schemas: db.schemas, Jobs: db.jobs, PgDump: g.env.getenv("STRATA_PG_DUMP"),
	}
	req.CountRows = g.showProgress() || (asJSON && !g.quiet)
	return req
}

// backupCounts are a backup's counters as its progress display shows
// them: of files, bytes read or found unchanged, with totals once the
// scan is done; of tables, bytes read, tables and rows with their totals.
func backupCounts(cn *archive.Counters, noun string) func() progress.Counts {
	if noun == "table" {
		return func() progress.Counts {
			return progress.Counts{
				BytesDone: cn.BytesRead.Load(), FilesDone: cn.Files.Load(), FilesTotal: cn.TotalFiles.Load(),
				RowsDone: cn.Rows.Load(), RowsTotal: cn.TotalRows.Load(),
			}
		}
	}
	return func() progress.Counts {
		c := progress.Counts{BytesDone: cn.BytesRead.Load() + cn.BytesUnchanged.Load(), FilesDone: cn.Files.Load()}
		if cn.Scanned.Load() {
			c.BytesTotal, c.FilesTotal = cn.TotalBytes.Load(), cn.TotalFiles.Load()
		}
		return c
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
