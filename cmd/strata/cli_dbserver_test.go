package main

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/internal/dbtest"
)

// This file gives the CLI tests throwaway databases on the real test
// servers: STRATA_TEST_POSTGRES and STRATA_TEST_MYSQL, or the local ones.

// serverDB is a throwaway database: the DSN strata is given and a handle
// for setting up and checking it.
type serverDB struct {
	dsn string
	db  *sql.DB
}

func (s serverDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func (s serverDB) int(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (s serverDB) str(t *testing.T, q string, args ...any) string {
	t.Helper()
	var v string
	if err := s.db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// pgDB creates a PostgreSQL database dropped when the test ends.
func pgDB(t *testing.T) serverDB {
	t.Helper()
	server := testServerDSN(t, "STRATA_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	d := dbtest.TempDatabase(t, server, postgres.CreateDatabase, postgres.DropDatabase)
	url := "postgres://" + d.User + "@" + d.Host + ":" + d.Port + "/" + d.Database + "?sslmode=disable"
	return openServerDB(t, "pgx", url)
}

// mariaDB creates a MySQL/MariaDB database dropped when the test ends.
func mariaDB(t *testing.T) serverDB {
	t.Helper()
	server := testServerDSN(t, "STRATA_TEST_MYSQL", "mysql://root@127.0.0.1:3306/mysql")
	d := dbtest.TempDatabase(t, server, mysql.CreateDatabase, mysql.DropDatabase)
	s := openServerDB(t, "mysql", d.User+"@tcp("+d.Host+":"+d.Port+")/"+d.Database)
	s.dsn = "mysql://" + d.User + "@" + d.Host + ":" + d.Port + "/" + d.Database
	return s
}

func openServerDB(t *testing.T, driver, dsn string) serverDB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // session settings hold for every statement
	return serverDB{dsn: dsn, db: db}
}

// testServerDSN returns the server named by env, or def; an unreachable
// server fails the test under CI=true and skips it elsewhere.
func testServerDSN(t *testing.T, env, def string) dbexport.DSN {
	t.Helper()
	s := os.Getenv(env)
	if s == "" {
		s = def
	}
	d, err := dbexport.ParseDSN(s)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var src interface{ Close() error }
	switch d.Engine {
	case dbexport.EnginePostgres:
		src, err = postgres.OpenTarget(ctx, d, postgres.Options{})
	default:
		src, err = mysql.OpenTarget(ctx, d, mysql.Options{})
	}
	if err != nil {
		dbtest.Unreachable(t, d.String()+" not reachable: "+err.Error()+" (start it, or set "+env+")")
	}
	src.Close()
	return d
}
