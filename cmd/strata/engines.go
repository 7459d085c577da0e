package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/repo"
	"strata/verify"
)

// dbOptions are the database flags shared by backup, restore, guard and
// drills.
type dbOptions struct {
	dsn          string
	passwordFile string
	schemas      []string
	jobs         int
}

func (o dbOptions) parse() (dbexport.DSN, error) {
	if o.dsn == "" {
		return dbexport.DSN{}, fmt.Errorf("no database: give --db DSN")
	}
	d, err := dbexport.ParseDSN(o.dsn)
	if err != nil {
		return d, err
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

// openSource opens one consistent read snapshot of the database.
func openSource(ctx context.Context, d dbexport.DSN, o dbOptions) (dbexport.Source, error) {
	switch d.Engine {
	case dbexport.EngineSQLite:
		return sqlite.Open(ctx, d)
	default:
		return nil, fmt.Errorf("%s databases are not supported by this build", d.Engine)
	}
}

// openTarget opens a database to restore into.
func openTarget(ctx context.Context, d dbexport.DSN, o dbOptions) (dbexport.Target, error) {
	switch d.Engine {
	case dbexport.EngineSQLite:
		return sqlite.OpenTarget(ctx, d)
	default:
		return nil, fmt.Errorf("%s databases are not supported by this build", d.Engine)
	}
}

// drillOnServer runs a drill in a temporary database on a server.
func drillOnServer(ctx context.Context, g *globals, r *repo.Repository, sn *repo.Snapshot, dsn string, tables []string) (*verify.DrillReport, error) {
	d, err := dbexport.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("drills on %s servers are not supported by this build; leave out --target for a SQLite drill", d.Engine)
}
