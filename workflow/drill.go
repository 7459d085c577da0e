package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"strata/dbexport"
	"strata/dbexport/engine"
	"strata/repo"
	"strata/repo/retention"
	"strata/verify"
)

// DrillRequest is one restore drill: a table snapshot restored into a
// scratch database and inspected (verify.Drill).
type DrillRequest struct {
	// Snapshot is the snapshot: an ID, a unique ID prefix, or "latest"
	// (the newest of one database: the only one, or the one Source
	// names, from Host when given).
	Snapshot     string
	Host, Source string
	// Target is the scratch server's DSN (PostgreSQL or MySQL), where a
	// temporary database is created and dropped afterwards; empty: a
	// temporary SQLite file.
	Target string
	// Password is the scratch server's password when its DSN has none
	// (strata.yaml's drill.target_password_env); it reaches the server
	// and pg_restore through the driver and the environment, never a
	// process's arguments. PasswordFile holds it when neither gives one;
	// PGPASSWORD and MYSQL_PWD come after.
	Password     string
	PasswordFile string
	// Tables are globs of the tables to drill; empty: all.
	Tables []string
	// Keep keeps the scratch SQLite file (its path is in the report).
	Keep bool
	// SameEngine restores into the snapshot's own engine (Target, else
	// the snapshot's source server) and compares every table's rows and
	// schema with the snapshot.
	SameEngine bool
	// Jobs is the connections a restore into a server uses (at least 1).
	Jobs int
	// PgRestore is the pg_restore to run; empty: the one on PATH.
	PgRestore string
	// Engines chooses the scratch server's engine; nil: the default.
	Engines *engine.Registry
	// Lock says how to wait for, or do without, the shared lock.
	Lock LockOptions
	// Logger receives the restore's notices (LevelWarn), the scratch
	// database's creation and removal (Debug) and a kept file's path
	// (Info); nil discards them.
	Logger *slog.Logger
}

// DrillReport is what a drill found.
type DrillReport struct {
	// Snapshot is the snapshot drilled; set as soon as it is found, also
	// when the drill then fails.
	Snapshot *repo.Snapshot
	// Report holds per table the rows restored against the snapshot's,
	// duplicate keys, foreign-key orphans and CHECK violations, the
	// restore's time (RestoreSeconds) and, with SameEngine, the row
	// hashes and schema differences; Report.Target names the scratch
	// database.
	Report *verify.DrillReport
	// OK is true when every table restored completely and consistently.
	OK bool
	// KeptPath is the scratch SQLite file when Keep kept it.
	KeptPath string
}

// SnapshotRequest is how a restore, a dump or a drill asks for a table
// snapshot (docs/design.md, "Source keys"): latest and a time pass over
// pre-restore safety snapshots, and a local database's snapshots from
// several machines are this machine's.
func SnapshotRequest(ref, host, source string) dbexport.SnapshotRequest {
	local, _ := os.Hostname()
	return dbexport.SnapshotRequest{
		Ref: ref, Host: host, Source: source, LocalHost: local,
		// latest twice must not undo the first restore
		SkipTags: []string{retention.TagPreRestore},
	}
}

// Drill restores a table snapshot of r into a scratch database under a
// shared lock (taken as req.Lock says; a damaged index file is skipped
// with a warning) and inspects it. A drill that finds problems is a
// report with OK false, not an error.
func Drill(ctx context.Context, r *repo.Repository, req DrillRequest) (DrillReport, error) {
	if req.Jobs < 1 {
		req.Jobs = 1
	}
	if req.Engines == nil {
		req.Engines = engine.Default()
	}
	var rep DrillReport
	lock := LockRequest{LockOptions: req.Lock, Command: "verify drill", Index: ReaderIndex, Logger: req.Logger}
	err := WithLock(ctx, r, lock, func(ctx context.Context, r *repo.Repository) error {
		sn, err := dbexport.PickSnapshot(ctx, r, SnapshotRequest(req.Snapshot, req.Host, req.Source))
		if err != nil {
			return err
		}
		rep.Snapshot = sn
		d, kept, err := drill(ctx, r, sn, req)
		if err != nil {
			return err
		}
		d.Snapshot = sn.ID.String()
		rep.Report, rep.OK, rep.KeptPath = d, d.OK(), kept
		return nil
	})
	return rep, err
}

// drill runs the drill of sn, returning the path of a kept scratch file.
func drill(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, req DrillRequest) (*verify.DrillReport, string, error) {
	if req.SameEngine {
		s, err := dbexport.LoadSchema(ctx, r, sn.Tree)
		if err != nil {
			return nil, "", fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		}
		if req.Target, err = sameEngineTarget(sn, s.Engine, req.Target); err != nil {
			return nil, "", err
		}
	}
	if req.Target != "" {
		rep, err := drillOnServer(ctx, r, sn, req)
		return rep, "", err
	}
	dir, err := os.MkdirTemp("", "strata-drill-")
	if err != nil {
		return nil, "", err
	}
	if !req.Keep {
		defer os.RemoveAll(dir)
	}
	sqlite := engine.SQLite()
	scratch := dbexport.DSN{Engine: dbexport.EngineSQLite, Path: filepath.Join(dir, "drill.db")}
	target, err := sqlite.OpenTarget(ctx, scratch, engine.Options{})
	if err != nil {
		return nil, "", err
	}
	defer target.Close()
	in, ok := target.(verify.Inspector)
	if !ok {
		return nil, "", fmt.Errorf("drill: the SQLite target cannot be inspected")
	}
	rep, err := verify.Drill(ctx, r, sn.Tree, target, in, req.Tables)
	if err != nil {
		return nil, "", err
	}
	if req.SameEngine {
		err := compareRestored(ctx, r, sn, rep, func() (dbexport.Source, error) {
			return sqlite.OpenSource(ctx, scratch, engine.Options{Jobs: 1})
		})
		if err != nil {
			return nil, "", err
		}
	}
	rep.Target = scratch.String()
	if !req.Keep {
		rep.Target += " (temporary, removed)"
		return rep, "", nil
	}
	logger(req.Logger).Info("kept the scratch database " + scratch.Path)
	return rep, scratch.Path, nil
}

// sameEngineTarget is the server a same-engine drill creates its scratch
// database on: target, which must be of the snapshot's engine, else the
// snapshot's source (its recorded DSN holds no password: that comes from
// PGPASSWORD, MYSQL_PWD or the password file). A SQLite snapshot drills
// in a temporary file ("").
func sameEngineTarget(sn *repo.Snapshot, engineName, target string) (string, error) {
	if engineName == dbexport.EngineSQLite {
		if target != "" {
			return "", fmt.Errorf("snapshot %s is of a SQLite database: --same-engine restores it into a temporary SQLite file; leave out --target", sn.ID.Short())
		}
		return "", nil
	}
	if target != "" {
		d, err := dbexport.ParseDSN(target)
		if err != nil {
			return "", fmt.Errorf("--target: %w", err)
		}
		if d.Engine != engineName {
			return "", fmt.Errorf("snapshot %s is of a %s database, --target names a %s server: --same-engine needs a %s server", sn.ID.Short(), engineName, d.Engine, engineName)
		}
		return target, nil
	}
	d, err := dbexport.ParseDSN(sn.Source)
	if err != nil {
		return "", fmt.Errorf("snapshot %s records no server to drill on (%w): give --target DSN", sn.ID.Short(), err)
	}
	local, _ := os.Hostname()
	if isLoopback(d.Host) && sn.Host != local {
		return "", fmt.Errorf("snapshot %s is of %s on host %s, not of this machine: give --target DSN of a %s server", sn.ID.Short(), d.String(), sn.Host, engineName)
	}
	return sn.Source, nil
}

func isLoopback(host string) bool {
	if host == "localhost" || host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// drillOnServer runs a drill in a temporary database created on the
// server that req.Target names, and drops it afterwards, also when the
// drill fails or is interrupted.
func drillOnServer(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, req DrillRequest) (*verify.DrillReport, error) {
	log := logger(req.Logger)
	server, err := ParseDSN(req.Target, req.Password, req.PasswordFile)
	if err != nil {
		return nil, err
	}
	e, err := req.Engines.Lookup(server)
	if err != nil || e.CreateDatabase == nil || e.DropDatabase == nil || e.OpenInspector == nil {
		return nil, fmt.Errorf("drills run in a temporary SQLite file, or on a PostgreSQL or MySQL server; --target names a %s database", server.Engine)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := "strata_drill_" + hex.EncodeToString(rnd[:])
	scratch := server
	scratch.Database = name
	if err := e.CreateDatabase(ctx, server, name); err != nil {
		return nil, err
	}
	log.Debug("created the drill database " + scratch.String())
	defer func() {
		if err := e.DropDatabase(context.WithoutCancel(ctx), server, name); err != nil {
			log.Warn(fmt.Sprintf("dropping the drill database %s failed: %v", name, err))
			return
		}
		log.Debug("dropped the drill database " + scratch.String())
	}()
	// The restore runs as a restore into a database would, with the
	// drill's Jobs, but gives back no grants: MySQL keeps a database's
	// grants after DROP DATABASE, so they would outlive the drill, and
	// would apply to any later database of the same name.
	target, err := e.OpenTarget(ctx, scratch, engine.Options{
		PasswordFile: req.PasswordFile, Jobs: req.Jobs, PgRestore: req.PgRestore, Logger: req.Logger,
		NoPrivileges: true,
	})
	if err != nil {
		return nil, err
	}
	defer target.Close()
	in, err := e.OpenInspector(scratch, engine.Options{})
	if err != nil {
		return nil, err
	}
	defer in.Close()
	rep, err := verify.Drill(ctx, r, sn.Tree, target, in, req.Tables)
	if err != nil {
		return nil, err
	}
	if req.SameEngine {
		err := compareRestored(ctx, r, sn, rep, func() (dbexport.Source, error) {
			return e.OpenSource(ctx, scratch, engine.Options{})
		})
		if err != nil {
			return nil, err
		}
	}
	rep.Target = scratch.String() + " (temporary, dropped)"
	return rep, nil
}

// compareRestored reads the drill's scratch database back with the
// engine's exporter and compares it with the snapshot.
func compareRestored(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, rep *verify.DrillReport, open func() (dbexport.Source, error)) error {
	if rep.Error != "" {
		rep.SameEngine = true
		return nil
	}
	src, err := open()
	if err != nil {
		return fmt.Errorf("drill: reading the restored database back: %w", err)
	}
	defer src.Close()
	return verify.CompareRestored(ctx, r, sn.Tree, src, rep)
}
