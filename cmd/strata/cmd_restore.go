package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/repo"
	"strata/repo/restore"
	"strata/repo/retention"
	"strata/workflow"
)

func cmdRestore(g *globals) *cli.Command {
	var (
		target    string
		includes  cli.StringSlice
		excludes  cli.StringSlice
		iincludes cli.StringSlice
		iexcludes cli.StringSlice
		overwrite bool
		db        dbOptions
		tables    cli.StringSlice
		exclude   cli.StringSlice
		dryRun    bool
		replace   bool
		noSafety  bool
		at        string
		host      string
		source    string
		asJSON    bool

		otherSource  bool
		heldKeyLimit int
	)
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a snapshot into a folder or a database",
		ArgsUsage: "SNAPSHOT",
		Description: `Restores SNAPSHOT ("latest", "latest~N" for the Nth before it, an ID or a unique ID prefix) below --target,
or its tables into the database --db. Every blob is verified; a file
appears under its name only when all of it was restored.

--include and --exclude take patterns as restic's do: a pattern that starts
with "/" matches the whole snapshot path ("/var/lib/app/*.csv"), any other
the path's last parts ("*.csv" matches every CSV file, "exports/*.csv"
those in a folder named exports); "*" and "?" do not match "/", "**"
matches any number of folders. Including a folder includes its content,
excluding a folder leaves out its content; excludes win.

--at TIME ("YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" in local time, or RFC
3339) picks the newest snapshot at or before that time instead of SNAPSHOT;
--host and --source filter latest and --at.

With --db, latest and --at choose among the snapshots of one database:
--source DSN if given, else the target's own (the same engine, host, port
and database, or SQLite file, however the DSN is written), else the only
database the repository holds; with several, --source must say which.
Restoring another database's snapshot into a database that has snapshots
of its own needs --other-source (a new, empty database needs nothing).
latest and --at pass over pre-restore safety snapshots (restore one by ID),
and of a SQLite file or localhost server saved on several machines take
this machine's (or --host's).

Tables are created, loaded, then given their constraints, indexes and
sequence positions. A PostgreSQL snapshot holds a pg_dump --schema-only
archive (when pg_dump was installed at backup): a restore of every table
into a database that lacks them recreates from it everything pg_dump
saves (types, functions, triggers, policies, grants, partitions, ...),
loads the rows, builds indexes and constraints, refreshes materialized
views and sets sequences; objects owned by roles the target lacks belong
to the restoring role, grants to them are skipped, each named in a notice
(--no-owner, --no-privileges as pg_restore has them). It needs pg_restore
as new as the pg_dump that made the archive. --jobs N loads tables and
builds indexes on N connections: faster, but, as with pg_restore -j, a
failure leaves a half-restored database (--jobs 1 is all or nothing).
Other PostgreSQL restores re-create each table they re-create with what
belongs to it in the archive, create what it needs and the target lacks
(schema, types, domains, collations, extensions, functions, sequences;
named in a notice), keep what the target has, and refresh the
materialized views over the restored tables; a --replace of every table
re-creates the views and materialized views from the archive too.

A restore refuses to touch a table that holds rows unless
--replace; with --replace strata first saves the tables it overwrites in a
snapshot tagged pre-restore (unless --no-safety-snapshot). --tables restores
only those tables and their triggers: other tables' foreign keys on them
are kept and checked against the restored rows (beforehand when the
referencing table uses at most --held-key-limit distinct values, else by
the restore after loading, with a warning), other sequences, the views,
routines and events stay as they are (only a whole restore recreates them).
MySQL views, triggers, routines and events keep their DEFINER, as
mysqldump's output does; --no-definer leaves it out, so they belong to the
account that restores them. MySQL grants on the database, its routines (a
whole restore) and on the restored tables and columns are given back to
the accounts and roles the target has; the others are named
(--no-privileges: none). What an account held on the database through a
global grant or a wildcard pattern is granted on the restored database
alone. What the snapshot does not hold is named.
--jobs N loads N MySQL tables at once; tables of 10,000 rows or more get
their secondary keys after their rows.
--dry-run shows, per table, the rows in the snapshot, the rows in the target
and what would happen, runs the checks the restore runs first, and exits 1
with the reasons when the restore would be refused. Any snapshot restores
into a new SQLite file for inspection.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "restore files into `DIR`", Destination: &target},
			&cli.StringSliceFlag{Name: "include", Aliases: []string{"i"}, Usage: "restore only paths matching `PATTERN` (repeatable; \"*.csv\" matches base names, \"/var/lib\" whole paths)", Destination: &includes},
			&cli.StringSliceFlag{Name: "exclude", Aliases: []string{"e"}, Usage: "leave out paths matching `PATTERN` (repeatable)", Destination: &excludes},
			&cli.StringSliceFlag{Name: "iinclude", Usage: "like --include, ignoring case", Destination: &iincludes},
			&cli.StringSliceFlag{Name: "iexclude", Usage: "like --exclude, ignoring case", Destination: &iexcludes},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace existing files", Destination: &overwrite},
			&cli.StringFlag{Name: "db", Usage: "restore tables into database `DSN`", Destination: &db.dsn},
			&cli.StringFlag{Name: "db-password-file", Usage: "read the database password from `FILE`", Destination: &db.passwordFile},
			&cli.StringSliceFlag{Name: "tables", Usage: "only tables matching `GLOB` (repeatable; a GLOB matching no table of the snapshot is refused)", Destination: &tables},
			&cli.StringSliceFlag{Name: "exclude-tables", Usage: "leave out tables matching `GLOB`", Destination: &exclude},
			&cli.BoolFlag{Name: "dry-run", Usage: "show what would happen, change nothing", Destination: &dryRun},
			&cli.BoolFlag{Name: "no-owner", Usage: "PostgreSQL: restored objects belong to the restoring role (pg_restore --no-owner)", Destination: &db.noOwner},
			&cli.BoolFlag{Name: "no-privileges", Usage: "PostgreSQL, MySQL: do not restore grants (pg_restore --no-privileges)", Destination: &db.noPrivileges},
			&cli.BoolFlag{Name: "replace", Usage: "overwrite tables that hold rows (after a safety snapshot)", Destination: &replace},
			&cli.BoolFlag{Name: "no-safety-snapshot", Usage: "with --replace: do not save the overwritten tables first", Destination: &noSafety},
			&cli.StringFlag{Name: "at", Usage: "restore the newest snapshot at or before `TIME` (\"YYYY-MM-DD HH:MM[:SS]\" or RFC 3339)", Destination: &at},
			&cli.StringFlag{Name: "host", Usage: "latest and --at: only snapshots from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "source", Usage: "latest and --at: only snapshots of the database `DSN` (any spelling; a password is ignored), or of a recorded source such as files:/srv", Destination: &source},
			&cli.IntFlag{Name: "jobs", Usage: "load `N` tables at once, each on its own connection (MySQL; PostgreSQL from the schema archive, also building indexes, not all or nothing, as pg_restore -j)", Value: 1, Destination: &db.jobs},
			&cli.IntFlag{Name: "held-key-limit", Value: dbexport.DefaultMaxHeldKeyValues, Usage: "--tables: check a foreign key another table holds on a restored one against the snapshot's rows beforehand when that table uses at most `N` distinct values (memory: tens of bytes each); a key with more is checked by the restore after loading (with a warning), or refused where a violation could not be rolled back", Destination: &heldKeyLimit},
			&cli.BoolFlag{Name: "no-definer", Usage: "MySQL: create views, triggers, routines and events without their DEFINER, owned by the restoring account", Destination: &db.noDefiner},
			&cli.BoolFlag{Name: "other-source", Usage: "with --db: allow restoring another database's snapshot into a database that has snapshots of its own", Destination: &otherSource},
			&cli.BoolFlag{Name: "json", Usage: "files: print status lines and a summary as JSON lines; --db: print the plan as JSON (action: create, load, replace or refuse)", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			if db.dsn == "" && target == "" {
				return errors.New("give --target DIR (files) or --db DSN (tables)")
			}
			if err := restoreKindFlags(c, db.dsn != "", target != ""); err != nil {
				return err
			}
			if heldKeyLimit < 1 {
				return fmt.Errorf("--held-key-limit %d: want 1 or more", heldKeyLimit)
			}
			if db.jobs < 1 {
				return fmt.Errorf("invalid --jobs %d: give 1 or more", db.jobs)
			}
			if (c.NArg() == 1) == (at != "") {
				return errors.New("give one snapshot, or --at TIME: strata restore SNAPSHOT --target DIR")
			}
			when, err := parseAt(at)
			if err != nil {
				return err
			}
			req := snapshotRequest(c.Args().First(), host, source)
			req.At, req.OtherSource = when, otherSource
			if db.dsn != "" {
				d, err := db.parse()
				if err != nil {
					return err
				}
				req.Target = &d
			}
			// Only a --replace restore into a database writes to the
			// repository (its safety snapshot); every other restore only
			// reads it, and a damaged index file does not stop it.
			withRepo := g.withReader
			if db.dsn != "" && replace && !noSafety && !dryRun {
				withRepo = func(ctx context.Context, command string, fn func(*repo.Repository) error) error {
					return g.withLock(ctx, false, command, fn)
				}
			}
			var pending *pendingTarget
			if req.Target != nil {
				db.notify = g.notice
				db.pgRestore = g.env.getenv("STRATA_PG_RESTORE")
				pending = startTarget(c.Context, *req.Target, db, dryRun)
				defer pending.close()
			}
			return withRepo(c.Context, "restore", func(r *repo.Repository) error {
				if db.dsn != "" {
					sn, err := dbexport.PickSnapshot(c.Context, r, req)
					if err != nil {
						return err
					}
					g.warnRepaired(sn, asJSON)
					g.audit.restoredFrom(sn)
					return restoreDB(c.Context, g, r, sn, pending, db, dbexport.RestoreOptions{
						Tables: tables.Value(), Exclude: exclude.Value(), Replace: replace, DryRun: dryRun,
						MaxHeldKeyValues: heldKeyLimit, Logger: slog.New(notifyHandler{func(msg string) { fmt.Fprintf(g.env.stderr, "warning: %s\n", msg) }}),
					}, !noSafety, asJSON)
				}
				sn, err := pickSnapshot(c.Context, r, req)
				if err != nil {
					return err
				}
				g.warnRepaired(sn, asJSON)
				g.audit.restoredFrom(sn)
				p := &restore.Progress{}
				opts := restore.Options{
					Include: includes.Value(), Exclude: excludes.Value(), IInclude: iincludes.Value(), IExclude: iexcludes.Value(),
					Overwrite: overwrite, Progress: p, Logger: g.logger(),
					OnFile: func(path string) { g.verbosef(2, "restored %s\n", path) },
				}
				start := time.Now()
				stop := g.startProgress("restore", asJSON, "file", func() progress.Counts {
					return progress.Counts{
						BytesDone: p.BytesWritten.Load(), BytesTotal: p.TotalBytes.Load(),
						FilesDone: p.FilesDone.Load(), FilesTotal: p.TotalFiles.Load(),
					}
				})
				st, err := restore.Restore(c.Context, r, sn.Tree, target, opts)
				stop()
				if err != nil {
					return fmt.Errorf("restoring snapshot %s: %w", sn.ID.Short(), err)
				}
				if asJSON {
					return jsonLine(g.env.stdout, restoreSummaryJSON{
						MessageType: "summary", SnapshotID: sn.ID.String(), Target: target,
						FilesRestored: st.Files, DirsRestored: st.Dirs, SymlinksRestored: st.Symlinks,
						BytesRestored: st.Bytes, Seconds: time.Since(start).Seconds(),
					})
				}
				g.printf("restored snapshot %s to %s: %s, %s in %s\n", sn.ID.Short(), target, counted(st.Files, "file"), progress.Bytes(st.Bytes), progress.Duration(time.Since(start)))
				return nil
			})
		},
	}
}

// parseAt parses --at; empty gives the zero time. A time given to the
// second takes in the whole second: snapshots shows times to the second,
// and a snapshot listed at 13:00:05 was taken at 13:00:05.3, which
// "--at 13:00:05" must not pass over.
func parseAt(at string) (time.Time, error) {
	if at == "" {
		return time.Time{}, nil
	}
	t, err := parseTime("--at", at)
	if err != nil || t.Nanosecond() != 0 {
		return t, err
	}
	return t.Add(time.Second - time.Nanosecond), nil
}

// pickSnapshot resolves the snapshot of a files restore: SNAPSHOT, or the
// newest snapshot (at or before --at) from --host of --source. Restores
// into a database choose with dbexport.PickSnapshot instead.
func pickSnapshot(ctx context.Context, r *repo.Repository, req dbexport.SnapshotRequest) (*repo.Snapshot, error) {
	back, latest, err := repo.LatestRef(req.Ref)
	if err != nil && req.At.IsZero() {
		return nil, err
	}
	if req.At.IsZero() && (!latest || (req.Host == "" && req.Source == "")) {
		return r.FindSnapshot(ctx, req.Ref)
	}
	if !req.At.IsZero() {
		back = 0
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(sns) - 1; i >= 0; i-- {
		sn := sns[i]
		if (!req.At.IsZero() && sn.Time.After(req.At)) || (req.Host != "" && sn.Host != req.Host) || (req.Source != "" && !dbexport.MatchesSource(sn, req.Source)) {
			continue
		}
		if back > 0 {
			back-- // latest~N: N more that match before it
			continue
		}
		return sn, nil
	}
	var filters []string
	if !req.At.IsZero() {
		filters = append(filters, "at or before "+showTime(req.At))
	}
	if req.Host != "" {
		filters = append(filters, "from host "+req.Host)
	}
	if req.Source != "" {
		filters = append(filters, "of "+dbexport.ShowSource(req.Source))
	}
	if latest && req.At.IsZero() {
		return nil, fmt.Errorf("%w: %s: too few snapshots %s", repo.ErrSnapshotNotFound, req.Ref, strings.Join(filters, ", "))
	}
	return nil, fmt.Errorf("%w: none %s", repo.ErrSnapshotNotFound, strings.Join(filters, ", "))
}

// pendingTarget is a restore's target database, opened while the
// repository opens (its key derivation takes a tenth of a second or more,
// a connection and the engine's first look-ups about as long): a
// PostgreSQL target is connected to in the background. Other engines
// open when the restore asks (a SQLite restore creates its file then,
// and not when the repository's password is wrong).
type pendingTarget struct {
	d      dbexport.DSN
	db     dbOptions
	dryRun bool
	done   chan struct{} // closed when target and err are set; nil: open on get
	target dbexport.Target
	err    error
	taken  bool
}

func startTarget(ctx context.Context, d dbexport.DSN, db dbOptions, dryRun bool) *pendingTarget {
	p := &pendingTarget{d: d, db: db, dryRun: dryRun}
	if d.Engine == dbexport.EnginePostgres {
		p.done = make(chan struct{})
		go func() {
			defer close(p.done)
			p.target, p.err = openTarget(ctx, d, db, dryRun)
		}()
	}
	return p
}

// get returns the open target; the caller closes it.
func (p *pendingTarget) get(ctx context.Context) (dbexport.Target, error) {
	p.taken = true
	if p.done == nil {
		return openTarget(ctx, p.d, p.db, p.dryRun)
	}
	<-p.done
	return p.target, p.err
}

// close closes a target opened in the background that the restore did
// not take (the repository or the snapshot could not be opened).
func (p *pendingTarget) close() {
	if p.done == nil || p.taken {
		return
	}
	<-p.done
	if p.err == nil {
		p.target.Close()
	}
}

func restoreDB(ctx context.Context, g *globals, r *repo.Repository, sn *repo.Snapshot, pending *pendingTarget, db dbOptions, opts dbexport.RestoreOptions, safety, asJSON bool) error {
	d := pending.d
	target, err := pending.get(ctx)
	if err != nil {
		return err
	}
	defer target.Close()
	// Plan first: the safety snapshot must cover the tables that will be
	// overwritten, and only those.
	dry := opts
	dry.DryRun = true
	_, plan, err := dbexport.Restore(ctx, r, sn.Tree, target, dry)
	if opts.DryRun && plan != nil {
		// The plan, then the reasons the restore would fail, if any: a
		// dry run exits as the restore would.
		if perr := printPlan(g, sn, d, plan, asJSON); perr != nil {
			return perr
		}
		if err != nil {
			return fmt.Errorf("dry run of snapshot %s into %s: %w", sn.ID.Short(), d, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("restoring snapshot %s into %s: %w", sn.ID.Short(), d, err)
	}
	var overwrite []string
	for _, e := range plan {
		if e.TargetRows > 0 {
			overwrite = append(overwrite, e.Table)
		}
	}
	if opts.Replace && safety && len(overwrite) > 0 {
		req := g.dbBackupRequest(g.backupRequest(false), db, overwrite, nil, false)
		req.Tags = []string{retention.TagPreRestore}
		rep, err := workflow.BackupLocked(ctx, r, req)
		safe := rep.Snapshot
		if err != nil {
			return fmt.Errorf("safety snapshot of %s failed, nothing was restored: %w", d, err)
		}
		g.printf("saved the tables about to be replaced in snapshot %s (tag pre-restore)\n", safe.ID.Short())
	}
	start := time.Now()
	// A bar on a terminal: rows written of the rows the snapshot records.
	// (--json keeps its one plan document.)
	opts.Counters = &dbexport.RestoreCounters{}
	stop := func() {}
	if !asJSON {
		cn := opts.Counters
		stop = g.startProgress("restore", false, "table", func() progress.Counts {
			return progress.Counts{
				BytesDone: cn.Bytes.Load(), FilesDone: cn.Tables.Load(), FilesTotal: cn.TotalTables.Load(),
				RowsDone: cn.Rows.Load(), RowsTotal: cn.TotalRows.Load(),
			}
		})
	}
	s, _, err := dbexport.Restore(ctx, r, sn.Tree, target, opts)
	stop()
	if err != nil {
		return fmt.Errorf("restoring snapshot %s into %s: %w", sn.ID.Short(), d, err)
	}
	for _, what := range s.NotCaptured {
		g.notice(fmt.Sprintf("not recreated: %s (the snapshot does not hold it)", what))
	}
	if other := otherDialect(s, target.Engine()); len(other) > 0 {
		g.notice(fmt.Sprintf("not recreated in %s: %s (their SQL is %s's)", target.Engine(), strings.Join(other, ", "), s.Engine))
	}
	if asJSON {
		return printJSON(g.env.stdout, plan)
	}
	// The rows written, not the snapshot's count: a repaired snapshot
	// lacks the rows of the chunks it lost.
	rows := opts.Counters.Rows.Load()
	g.printf("restored %s (%s) of snapshot %s into %s in %s\n", counted(len(plan), "table"), counted(rows, "row"), sn.ID.Short(), d, progress.Duration(time.Since(start)))
	return nil
}

// otherDialect names the views and other objects of s that a restore
// into another engine does not recreate: their SQL is in s's dialect.
func otherDialect(s *dbexport.Schema, engine string) []string {
	if s.Engine == engine {
		return nil
	}
	var out []string
	for _, v := range s.Views {
		out = append(out, "view "+v.Name)
	}
	for _, o := range s.Objects {
		out = append(out, o.Kind+" "+o.Name)
	}
	return out
}

func printPlan(g *globals, sn *repo.Snapshot, d dbexport.DSN, plan []dbexport.PlanEntry, asJSON bool) error {
	if asJSON {
		return printJSON(g.env.stdout, plan)
	}
	fmt.Fprintf(g.env.stdout, "dry run: restoring snapshot %s into %s would\n", sn.ID.Short(), d)
	t := newTable(g.env.stdout, "Table", "Rows in snapshot", "Rows in target", "Action")
	for _, e := range plan {
		now := "-"
		if e.Exists {
			now = fmt.Sprint(e.TargetRows)
		}
		t.row(e.Table, fmt.Sprint(e.SnapshotRows), now, e.Describe())
	}
	return t.flush()
}

// restoreSummaryJSON is the last line of `restore --target DIR --json`,
// after the status lines.
type restoreSummaryJSON struct {
	MessageType      string  `json:"message_type"` // "summary"
	SnapshotID       string  `json:"snapshot_id"`
	Target           string  `json:"target"`
	FilesRestored    uint64  `json:"files_restored"`
	DirsRestored     uint64  `json:"dirs_restored"`
	SymlinksRestored uint64  `json:"symlinks_restored"`
	BytesRestored    uint64  `json:"bytes_restored"`
	Seconds          float64 `json:"seconds"`
}

// restoreKindFlags refuses a flag of a files restore with --db and one of
// a tables restore with --target: ignored, it would restore other than
// what was asked (--include customers with --db restored every table).
func restoreKindFlags(c *cli.Context, tables, files bool) error {
	if tables && files {
		return errors.New("give --target DIR (files) or --db DSN (tables), not both")
	}
	filesOnly := []string{"include", "exclude", "iinclude", "iexclude", "overwrite"}
	tablesOnly := []string{"tables", "exclude-tables", "replace", "no-safety-snapshot", "other-source", "db-password-file", "no-definer", "jobs", "held-key-limit", "no-owner", "no-privileges"}
	for _, name := range filesOnly {
		if tables && c.IsSet(name) {
			return fmt.Errorf("--%s applies to a restore of files (--target); for tables: --tables, --exclude-tables", name)
		}
	}
	for _, name := range tablesOnly {
		if files && c.IsSet(name) {
			return fmt.Errorf("--%s applies to a restore of tables (--db); for files: --include, --exclude", name)
		}
	}
	return nil
}
