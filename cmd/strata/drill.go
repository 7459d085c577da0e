package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/dbexport/sqlite"
	"strata/repo"
	"strata/verify"
)

// drillRequest is what `verify drill` was asked to do.
type drillRequest struct {
	target     string // scratch server DSN; "" for a temporary SQLite file
	tables     []string
	keep       bool // keep the scratch SQLite file
	sameEngine bool // restore into the snapshot's engine and compare rows and schema
	db         dbOptions
}

func drill(ctx context.Context, g *globals, r *repo.Repository, sn *repo.Snapshot, req drillRequest) (*verify.DrillReport, error) {
	if req.sameEngine {
		s, err := dbexport.LoadSchema(ctx, r, sn.Tree)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		}
		if req.target, err = sameEngineTarget(sn, s.Engine, req.target); err != nil {
			return nil, err
		}
	}
	if req.target != "" {
		return drillOnServer(ctx, g, r, sn, req)
	}
	dir, err := os.MkdirTemp("", "strata-drill-")
	if err != nil {
		return nil, err
	}
	if !req.keep {
		defer os.RemoveAll(dir)
	}
	scratch := dbexport.DSN{Engine: dbexport.EngineSQLite, Path: filepath.Join(dir, "drill.db")}
	target, err := sqlite.OpenTarget(ctx, scratch)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	rep, err := verify.Drill(ctx, r, sn.Tree, target, target, req.tables)
	if err != nil {
		return nil, err
	}
	if req.sameEngine {
		err := compareRestored(ctx, r, sn, rep, func() (dbexport.Source, error) {
			return sqlite.Open(ctx, scratch, sqlite.Options{Jobs: 1})
		})
		if err != nil {
			return nil, err
		}
	}
	rep.Target = scratch.String()
	if req.keep {
		g.printf("kept the scratch database %s\n", scratch.Path)
	} else {
		rep.Target += " (temporary, removed)"
	}
	return rep, nil
}

// sameEngineTarget is the server a same-engine drill creates its scratch
// database on: --target, which must be of the snapshot's engine, else the
// snapshot's source (its recorded DSN holds no password: that comes from
// PGPASSWORD, MYSQL_PWD or --db-password-file). A SQLite snapshot drills
// in a temporary file ("").
func sameEngineTarget(sn *repo.Snapshot, engine, target string) (string, error) {
	if engine == dbexport.EngineSQLite {
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
		if d.Engine != engine {
			return "", fmt.Errorf("snapshot %s is of a %s database, --target names a %s server: --same-engine needs a %s server", sn.ID.Short(), engine, d.Engine, engine)
		}
		return target, nil
	}
	d, err := dbexport.ParseDSN(sn.Source)
	if err != nil {
		return "", fmt.Errorf("snapshot %s records no server to drill on (%w): give --target DSN", sn.ID.Short(), err)
	}
	local, _ := os.Hostname()
	if isLoopback(d.Host) && sn.Host != local {
		return "", fmt.Errorf("snapshot %s is of %s on host %s, not of this machine: give --target DSN of a %s server", sn.ID.Short(), d.String(), sn.Host, engine)
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
// PostgreSQL or MySQL server that req.target names, and drops it
// afterwards, also when the drill fails or is interrupted.
func drillOnServer(ctx context.Context, g *globals, r *repo.Repository, sn *repo.Snapshot, req drillRequest) (*verify.DrillReport, error) {
	server, err := dbOptions{dsn: req.target, passwordFile: req.db.passwordFile}.parse()
	if err != nil {
		return nil, err
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := "strata_drill_" + hex.EncodeToString(rnd[:])
	scratch := server
	scratch.Database = name
	// The restore runs as restore --db would, with the drill's --jobs.
	o := req.db
	o.notify, o.pgRestore = g.notice, g.env.getenv("STRATA_PG_RESTORE")
	var (
		create, drop func(context.Context, dbexport.DSN, string) error
		openInspect  func() (inspector, error)
		openExport   func() (dbexport.Source, error)
	)
	switch server.Engine {
	case dbexport.EnginePostgres:
		create, drop = postgres.CreateDatabase, postgres.DropDatabase
		openInspect = func() (inspector, error) { return postgres.OpenInspector(scratch, postgres.Options{}) }
		openExport = func() (dbexport.Source, error) { return postgres.Open(ctx, scratch, postgres.Options{}) }
	case dbexport.EngineMySQL:
		create, drop = mysql.CreateDatabase, mysql.DropDatabase
		openInspect = func() (inspector, error) { return mysql.OpenInspector(scratch, mysql.Options{}) }
		openExport = func() (dbexport.Source, error) { return mysql.Open(ctx, scratch, mysql.Options{}) }
	default:
		return nil, fmt.Errorf("drills run in a temporary SQLite file, or on a PostgreSQL or MySQL server; --target names a %s database", server.Engine)
	}
	if err := create(ctx, server, name); err != nil {
		return nil, err
	}
	g.verbosef(1, "created the drill database %s\n", scratch.String())
	defer func() {
		if err := drop(context.WithoutCancel(ctx), server, name); err != nil {
			g.notice(fmt.Sprintf("dropping the drill database %s failed: %v", name, err))
			return
		}
		g.verbosef(1, "dropped the drill database %s\n", scratch.String())
	}()
	target, err := openTarget(ctx, scratch, o, false)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	in, err := openInspect()
	if err != nil {
		return nil, err
	}
	defer in.Close()
	rep, err := verify.Drill(ctx, r, sn.Tree, target, in, req.tables)
	if err != nil {
		return nil, err
	}
	if req.sameEngine {
		if err := compareRestored(ctx, r, sn, rep, openExport); err != nil {
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

// inspector is a drill's view of a scratch server database.
type inspector interface {
	verify.Inspector
	Close() error
}
