package postgres

import (
	"context"
	"fmt"

	"strata/dbexport"
)

// CreateDatabase creates the database name on the server that serverDSN
// reaches (its own database is only used to connect, like psql's
// postgres). Drills and tests use it for scratch databases.
func CreateDatabase(ctx context.Context, serverDSN dbexport.DSN, name string) error {
	return onServer(ctx, serverDSN, "create database "+name, "CREATE DATABASE "+ident(name))
}

// DropDatabase drops the database name if it exists, closing the
// connections it still has (PostgreSQL 13 and later).
func DropDatabase(ctx context.Context, serverDSN dbexport.DSN, name string) error {
	return onServer(ctx, serverDSN, "drop database "+name, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
}

func onServer(ctx context.Context, serverDSN dbexport.DSN, what, sql string) error {
	conn, err := connect(ctx, serverDSN, Options{})
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("postgres: %s on %s: %w", what, serverDSN.String(), err)
	}
	return nil
}
