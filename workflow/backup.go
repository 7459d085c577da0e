package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"strata/dbexport"
	"strata/dbexport/engine"
	"strata/pack"
	"strata/repo"
	"strata/repo/archive"
)

// BackupRequest is one backup into a new snapshot. It names exactly one
// source: Paths (files and folders), Stdin (a stream saved as one file)
// or Database (the tables of one database).
type BackupRequest struct {
	// Paths are the files and folders to save. Their absolute paths,
	// sorted, name the source ("files:/a /b").
	Paths []string
	// Exclude leaves entries out of a backup of Paths.
	Exclude archive.Exclusions
	// Stdin is a stream to save as the file StdinName (default "stdin").
	Stdin     io.Reader
	StdinName string
	// Database is a database whose tables to save.
	Database *DatabaseSource

	// Host is recorded in the snapshot; empty: this machine's name.
	Host string
	// Tags and Tier are recorded in the snapshot (Tier: docs/design.md,
	// "Tiers").
	Tags []string
	Tier string
	// Time is the snapshot's time, from 1970 to one hour ahead; zero:
	// now.
	Time time.Time
	// Force reads every file, even those the parent snapshot holds
	// unchanged (Paths).
	Force bool
	// DryRun reads and chunks Paths or Stdin and reports what a backup
	// would add, writing nothing; not for a Database.
	DryRun bool
	// Program is recorded in the snapshot ("strata 1.2.3").
	Program string
	// Meta is recorded in a database snapshot (guard records the command
	// it guards).
	Meta map[string]string

	// Lock says how to wait for a lock another process holds.
	Lock LockOptions
	// Progress, when set, is called when the data starts to be read,
	// with the counters the backup updates as it goes and the noun of
	// what it counts ("file", "table"); the function it returns is called
	// when reading ends.
	Progress func(counters *archive.Counters, noun string) (stop func())
	// CountRows has a database whose schema does not count rows (SQLite)
	// count them first, for a progress total: a pass over each table.
	CountRows bool
	// Logger receives notices (LevelWarn), steps (Debug) and each file
	// saved (LevelFile); nil discards them.
	Logger *slog.Logger
}

// DatabaseSource is the database of a BackupRequest.
type DatabaseSource struct {
	// DSN names the database: sqlite:///path/app.db, sqlite:rel.db,
	// postgres://user@host:5432/db?sslmode=..., mysql://user@host:3306/db.
	// Its password, if any, is never stored.
	DSN string
	// Password is the password when the DSN has none (read from where a
	// configuration says); never stored, logged or put in an error.
	Password string
	// PasswordFile holds the password when neither the DSN nor Password
	// gives one; PGPASSWORD, MYSQL_PWD and ~/.pgpass come after.
	PasswordFile string
	// Tables and ExcludeTables are globs of qualified table names to
	// save and to leave out; a Tables glob matching no table is an error.
	Tables, ExcludeTables []string
	// Schemas limits PostgreSQL to these schemas.
	Schemas []string
	// Jobs is the number of connections sharing the snapshot (PostgreSQL,
	// SQLite); 0: 1 for PostgreSQL, one per CPU up to 4 for SQLite.
	Jobs int
	// PgDump is the pg_dump to run; empty: the one on PATH.
	PgDump string
	// Engines chooses the engine by the DSN's scheme; nil: the default
	// registry (SQLite, PostgreSQL, MySQL).
	Engines *engine.Registry
}

// BackupReport is what a backup did.
type BackupReport struct {
	// Snapshot is the snapshot saved, with its Summary (files or tables
	// new, changed and unchanged; bytes read and added; duration) and
	// its Parent. For a DryRun it is the snapshot that would have been
	// saved, and nothing was written.
	Snapshot *repo.Snapshot
	// Parent is the snapshot whose unchanged files were not read again
	// (Paths, Stdin) or whose chunks served as delta bases (Database);
	// nil for the first backup of the source from this host.
	Parent *repo.Snapshot
	// DryRun is true when nothing was written.
	DryRun bool
	// FilesProcessed is how many files were read or found unchanged.
	FilesProcessed uint64
}

// Backup saves req's source in a new snapshot of r. It takes r's shared
// lock (waiting for another process's as req.Lock says), loads the
// index, finds the parent snapshot (the newest of the same source from
// the same host) and saves.
func Backup(ctx context.Context, r *repo.Repository, req BackupRequest) (BackupReport, error) {
	if err := req.check(); err != nil {
		return BackupReport{}, err
	}
	var rep BackupReport
	lock := LockRequest{LockOptions: req.Lock, Command: "backup", Index: StrictIndex, Logger: req.Logger}
	err := WithLock(ctx, r, lock, func(ctx context.Context, r *repo.Repository) error {
		var err error
		rep, err = backupLocked(ctx, r, req)
		return err
	})
	return rep, err
}

// BackupLocked is Backup for a caller that holds r's lock and has loaded
// its index already: a restore's safety snapshot of the tables it is
// about to replace, or guard's snapshot before the command it guards.
func BackupLocked(ctx context.Context, r *repo.Repository, req BackupRequest) (BackupReport, error) {
	if err := req.check(); err != nil {
		return BackupReport{}, err
	}
	return backupLocked(ctx, r, req)
}

func backupLocked(ctx context.Context, r *repo.Repository, req BackupRequest) (BackupReport, error) {
	if req.Host == "" {
		req.Host, _ = os.Hostname()
	}
	if req.Database != nil {
		return backupDatabase(ctx, r, req)
	}
	return backupFiles(ctx, r, req)
}

// check refuses a request that names no source or several, or asks what
// its source does not allow.
func (req BackupRequest) check() error {
	sources := 0
	for _, given := range []bool{req.Stdin != nil, len(req.Paths) > 0, req.Database != nil} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("a backup needs exactly one source: paths, a stream or a database")
	}
	if req.DryRun && req.Database != nil {
		return errors.New("a dry run applies to backups of paths and streams, not of a database")
	}
	if !req.Time.IsZero() {
		if err := repo.CheckSnapshotTime(req.Time, time.Now()); err != nil {
			return fmt.Errorf("invalid snapshot time %s: %w", req.Time.Format(time.RFC3339), err)
		}
	}
	return nil
}

// startProgress calls req.Progress, if any.
func (req BackupRequest) startProgress(c *archive.Counters, noun string) func() {
	if req.Progress == nil {
		return func() {}
	}
	return req.Progress(c, noun)
}

// backupFiles saves req.Paths or req.Stdin under the lock.
func backupFiles(ctx context.Context, r *repo.Repository, req BackupRequest) (BackupReport, error) {
	log := logger(req.Logger)
	opts := archive.Options{
		Host: req.Host, Tags: req.Tags, Tier: req.Tier, Time: req.Time, Force: req.Force, Program: req.Program,
		Logger: log, Counters: &archive.Counters{}, Exclude: req.Exclude,
	}
	if log.Enabled(ctx, LevelFile) {
		opts.OnFile = func(status, path string) { log.Log(ctx, LevelFile, fmt.Sprintf("%-9s %s", status, path)) }
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return BackupReport{}, err
	}
	name := req.StdinName
	if name == "" {
		name = "stdin"
	}
	source := archive.StreamSource(name)
	if req.Stdin == nil {
		abs, err := absPaths(req.Paths)
		if err != nil {
			return BackupReport{}, err
		}
		source = archive.FilesSource(abs)
	}
	opts.Parent = archive.FindParent(sns, opts.Host, source)
	if opts.Parent != nil {
		log.Debug(fmt.Sprintf("parent snapshot %s: files it holds unchanged are not read again", opts.Parent.ID.Short()))
	}
	stop := req.startProgress(opts.Counters, "file")
	var target archive.Repository = r
	if req.DryRun {
		target = archive.NewDryRun(dryRunBase{r})
	}
	var sn *repo.Snapshot
	if req.Stdin != nil {
		sn, err = archive.BackupStream(ctx, target, req.Stdin, name, opts)
	} else {
		sn, err = archive.BackupPaths(ctx, target, req.Paths, opts)
	}
	stop()
	if err != nil {
		return BackupReport{}, err
	}
	return BackupReport{Snapshot: sn, Parent: opts.Parent, DryRun: req.DryRun, FilesProcessed: opts.Counters.Files.Load()}, nil
}

// dryRunBase gives a dry run what it needs of the repository.
type dryRunBase struct{ *repo.Repository }

func (d dryRunBase) HasBlob(id pack.ID) bool     { return d.Index().Has(id) }
func (d dryRunBase) BlobID(plain []byte) pack.ID { return d.Key().BlobID(plain) }

// absPaths returns the absolute paths of paths, sorted.
func absPaths(paths []string) ([]string, error) {
	abs := make([]string, 0, len(paths))
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs = append(abs, a)
	}
	sort.Strings(abs)
	return abs, nil
}

// backupDatabase exports the tables of req.Database into a new snapshot
// whose parent is the previous snapshot of the same database from this
// host.
func backupDatabase(ctx context.Context, r *repo.Repository, req BackupRequest) (BackupReport, error) {
	db := req.Database
	d, err := ParseDSN(db.DSN, db.Password, db.PasswordFile)
	if err != nil {
		return BackupReport{}, err
	}
	log := logger(req.Logger)
	opts := dbexport.BackupOptions{
		Host: req.Host, Tags: req.Tags, Tier: req.Tier, Time: req.Time,
		Tables: db.Tables, Exclude: db.ExcludeTables,
		Source: d.String(), Program: req.Program, Meta: req.Meta, Counters: &archive.Counters{}, CountRows: req.CountRows,
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return BackupReport{}, err
	}
	opts.Parent = dbexport.FindParent(sns, opts.Host, d)
	opts.Logger = schemaNotices(ctx, r, opts.Parent, log)
	engines := db.Engines
	if engines == nil {
		engines = engine.Default()
	}
	e, err := engines.Lookup(d)
	if err != nil {
		return BackupReport{}, err
	}
	eo := engine.Options{Schemas: db.Schemas, Jobs: db.Jobs, PasswordFile: db.PasswordFile, PgDump: db.PgDump, Logger: req.Logger}
	src, err := e.OpenSource(ctx, d, eo)
	if err != nil {
		return BackupReport{}, err
	}
	defer src.Close()
	opts.Jobs = e.ExportJobs(src, eo)
	stop := req.startProgress(opts.Counters, "table")
	sn, err := dbexport.Backup(ctx, r, src, opts)
	stop()
	if err != nil {
		return BackupReport{}, err
	}
	return BackupReport{Snapshot: sn, Parent: opts.Parent, FilesProcessed: opts.Counters.Files.Load()}, nil
}

// schemaNotices returns the logger of a database backup's notices (log,
// at slog.LevelWarn): the schema's warnings (a table without a primary
// key, say) are told once per source, by the first backup that finds
// them, and not again while its parent snapshot records them.
func schemaNotices(ctx context.Context, r *repo.Repository, parent *repo.Snapshot, log *slog.Logger) *slog.Logger {
	if parent == nil {
		return log
	}
	ps, err := dbexport.LoadSchema(ctx, r, parent.Tree)
	if err != nil {
		return log // an unreadable parent: tell everything
	}
	told := map[string]bool{}
	for _, w := range ps.Warnings {
		told[w] = true
	}
	return slog.New(skipMessages{Handler: log.Handler(), skip: told})
}

// skipMessages drops the records whose message is in skip.
type skipMessages struct {
	slog.Handler
	skip map[string]bool
}

func (h skipMessages) Handle(ctx context.Context, r slog.Record) error {
	if h.skip[r.Message] {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h skipMessages) WithAttrs(a []slog.Attr) slog.Handler {
	return skipMessages{Handler: h.Handler.WithAttrs(a), skip: h.skip}
}

func (h skipMessages) WithGroup(name string) slog.Handler {
	return skipMessages{Handler: h.Handler.WithGroup(name), skip: h.skip}
}
