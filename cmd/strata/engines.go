package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/dbexport/sqlite"
	"strata/repo/retention"
)

// dbOptions are the database flags shared by backup, restore, guard and
// drills.
type dbOptions struct {
	dsn          string
	passwordFile string
	// password from the config's password_env (backup --job); never a
	// flag's value.
	password  string
	schemas   []string
	jobs      int
	noDefiner bool // restore: MySQL objects without their DEFINER
	// Restores into PostgreSQL: pg_restore's --no-owner and
	// --no-privileges, and where notices go.
	noOwner, noPrivileges bool
	notify                func(string)
	// pg_dump and pg_restore to run (STRATA_PG_DUMP, STRATA_PG_RESTORE);
	// empty: those on PATH.
	pgDump, pgRestore string
}

func (o dbOptions) parse() (dbexport.DSN, error) {
	if o.dsn == "" {
		return dbexport.DSN{}, fmt.Errorf("no database: give --db DSN")
	}
	d, err := dbexport.ParseDSN(o.dsn)
	if err != nil {
		return d, err
	}
	if d.Engine == dbexport.EngineSQLite {
		// Snapshots record the file by its absolute path, which is what
		// names the source (docs/design.md, "Source keys").
		if d.Path, err = filepath.Abs(d.Path); err != nil {
			return d, fmt.Errorf("sqlite database path: %w", err)
		}
	}
	if o.password != "" && d.Password == "" {
		d.Password = o.password
	}
	if o.passwordFile != "" && d.Password == "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return d, fmt.Errorf("reading database password file: %w", err)
		}
		d.Password = strings.TrimRight(string(b), "\r\n")
	}
	return d, nil
}

// snapshotRequest is how restore --db, dump and verify drill ask for a
// table snapshot (docs/design.md, "Source keys"): latest and --at pass
// over pre-restore safety snapshots, and a local database's snapshots from
// several machines are this machine's.
func snapshotRequest(ref, host, source string) dbexport.SnapshotRequest {
	local, _ := os.Hostname()
	return dbexport.SnapshotRequest{
		Ref: ref, Host: host, Source: source, LocalHost: local,
		// latest twice must not undo the first restore
		SkipTags: []string{retention.TagPreRestore},
	}
}

// openSource opens one consistent read snapshot of the database.
func openSource(ctx context.Context, d dbexport.DSN, o dbOptions) (dbexport.Source, error) {
	switch d.Engine {
	case dbexport.EngineSQLite:
		return sqlite.Open(ctx, d, sqlite.Options{Jobs: o.sqliteJobs()})
	case dbexport.EnginePostgres:
		return postgres.Open(ctx, d, postgres.Options{Schemas: o.schemas, Jobs: o.jobs, PasswordFile: o.passwordFile, PgDump: o.pgDump})
	case dbexport.EngineMySQL:
		return mysql.Open(ctx, d, mysql.Options{PasswordFile: o.passwordFile})
	default:
		return nil, fmt.Errorf("%s databases are not supported", d.Engine)
	}
}

// sqliteJobs is --jobs for a SQLite file, by default one connection per
// CPU up to 4: a local file costs no server anything per connection, and
// beyond a few the chunking and compression of what they read need the
// CPUs more.
func (o dbOptions) sqliteJobs() int {
	if o.jobs > 0 {
		return o.jobs
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// exportJobs is how many tables a backup of src exports at once: one per
// connection sharing the snapshot.
func exportJobs(src dbexport.Source, o dbOptions) int {
	switch s := src.(type) {
	case *sqlite.Source:
		return s.Jobs() // fewer than asked when the database cannot share its snapshot
	case *postgres.Source:
		return o.jobs
	}
	return 1
}

// openTarget opens a database to restore into; for a dry run, a SQLite
// file read-only, and none is created.
func openTarget(ctx context.Context, d dbexport.DSN, o dbOptions, dryRun bool) (dbexport.Target, error) {
	switch d.Engine {
	case dbexport.EngineSQLite:
		if dryRun {
			return sqlite.OpenPlanTarget(ctx, d)
		}
		return sqlite.OpenTarget(ctx, d)
	case dbexport.EnginePostgres:
		return postgres.OpenTarget(ctx, d, postgres.Options{
			PasswordFile: o.passwordFile, Jobs: o.jobs, NoOwner: o.noOwner, NoPrivileges: o.noPrivileges, Notify: o.notify,
			PgRestore: o.pgRestore,
		})
	case dbexport.EngineMySQL:
		return mysql.OpenTarget(ctx, d, mysql.Options{PasswordFile: o.passwordFile, Jobs: o.jobs, NoDefiner: o.noDefiner, Notify: o.notify})
	default:
		return nil, fmt.Errorf("%s databases are not supported", d.Engine)
	}
}
