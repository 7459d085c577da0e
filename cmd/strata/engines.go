package main

import (
	"context"
	"log/slog"

	"strata/dbexport"
	"strata/dbexport/engine"
	"strata/workflow"
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
	return workflow.ParseDSN(o.dsn, o.password, o.passwordFile)
}

// snapshotRequest is how restore --db, dump and verify drill ask for a
// table snapshot (docs/design.md, "Source keys"): latest and --at pass
// over pre-restore safety snapshots, and a local database's snapshots from
// several machines are this machine's.
func snapshotRequest(ref, host, source string) dbexport.SnapshotRequest {
	return workflow.SnapshotRequest(ref, host, source)
}

// engineOptions are the database flags as the engines take them.
func (o dbOptions) engineOptions() engine.Options {
	var log *slog.Logger
	if o.notify != nil {
		log = slog.New(notifyHandler{o.notify})
	}
	return engine.Options{
		PasswordFile: o.passwordFile, Schemas: o.schemas, Jobs: o.jobs, PgDump: o.pgDump, PgRestore: o.pgRestore,
		NoOwner: o.noOwner, NoPrivileges: o.noPrivileges, NoDefiner: o.noDefiner, Logger: log,
	}
}

// openTarget opens a database to restore into, chosen by the DSN's
// engine (dbexport/engine); for a dry run, a SQLite file read-only, and
// none is created.
func openTarget(ctx context.Context, d dbexport.DSN, o dbOptions, dryRun bool) (dbexport.Target, error) {
	eo := o.engineOptions()
	eo.Plan = dryRun
	return engine.Default().OpenTarget(ctx, d, eo)
}
