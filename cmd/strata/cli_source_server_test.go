package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/internal/dbtest"
)

// serverDatabases creates two throwaway databases A and B on a real
// server, each with a table customers holding its own rows, and returns
// their DSNs as the server's test DSN spells them.
func serverDatabases(t *testing.T, env, def string, create, drop func(context.Context, dbexport.DSN, string) error, exec func(dbexport.DSN, string) error) (a, b dbexport.DSN) {
	t.Helper()
	s := os.Getenv(env)
	if s == "" {
		s = def
	}
	server, err := dbexport.ParseDSN(s)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if err := exec(server, "SELECT 1"); err != nil {
		dbtest.Unreachable(t, "test server not reachable at "+server.String()+": "+err.Error()+" (set "+env+")")
	}
	for i, who := range []string{"a", "b"} {
		d := dbtest.TempDatabase(t, server, create, drop)
		for _, q := range []string{
			`CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)`,
			`INSERT INTO customers VALUES (1, '` + who + `-1'), (2, '` + who + `-2')`,
		} {
			if err := exec(d, q); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			a = d
		} else {
			b = d
		}
	}
	return a, b
}

func pgExec(d dbexport.DSN, q string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "host="+d.Host+" port="+d.Port+" user="+d.User+" dbname="+d.Database+" sslmode=disable")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, q)
	return err
}

// pgNames returns the names in table customers of d, in id order.
func pgNames(d dbexport.DSN) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "host="+d.Host+" port="+d.Port+" user="+d.User+" dbname="+d.Database+" sslmode=disable")
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var names string
	err = conn.QueryRow(ctx, `SELECT string_agg(name, ',' ORDER BY id) FROM customers`).Scan(&names)
	return names, err
}

// myNames returns the names in table customers of d, in id order.
func myNames(d dbexport.DSN) (string, error) {
	db, err := sql.Open("mysql", d.User+"@tcp("+d.Host+":"+d.Port+")/"+d.Database)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var names string
	err = db.QueryRow(`SELECT GROUP_CONCAT(name ORDER BY id) FROM customers`).Scan(&names)
	return names, err
}

func myExec(d dbexport.DSN, q string) error {
	db, err := sql.Open("mysql", d.User+"@tcp("+d.Host+":"+d.Port+")/"+d.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, q)
	return err
}

// On PostgreSQL and MariaDB, the target's own source is found however its
// DSN is written (a password, ?sslmode, other options, 127.0.0.1 for
// localhost): restore latest takes A's rows, never B's, the newest.
func TestRestoreOwnSourceOnServers(t *testing.T) {
	t.Parallel()
	type server struct {
		name, env, def string
		create, drop   func(context.Context, dbexport.DSN, string) error
		exec           func(dbexport.DSN, string) error
		names          func(dbexport.DSN) (string, error)
		// variant spells the DSN of database db differently
		variants func(db string) []string
	}
	for _, s := range []server{
		{"postgres", "STRATA_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			postgres.CreateDatabase, postgres.DropDatabase, pgExec, pgNames,
			func(db string) []string {
				return []string{
					"postgres://postgres@localhost/" + db,
					"postgresql://postgres:not-checked@127.0.0.1:5432/" + db + "?sslmode=disable&connect_timeout=10",
					"postgres://postgres@LOCALHOST:5432/" + db + "?application_name=x",
				}
			}},
		{"mariadb", "STRATA_TEST_MYSQL", "mysql://root@127.0.0.1:3306/mysql",
			mysql.CreateDatabase, mysql.DropDatabase, myExec, myNames,
			func(db string) []string {
				return []string{
					"mysql://root@localhost/" + db,
					"mariadb://root@127.0.0.1:3306/" + db + "?tls=false",
				}
			}},
	} {
		t.Run(s.name, func(t *testing.T) {
			a, b := serverDatabases(t, s.env, s.def, s.create, s.drop, s.exec)
			c := newCLI(t)
			c.ok("init")
			c.ok("backup", "--db", a.String())
			c.ok("backup", "--db", b.String())
			for _, dsn := range s.variants(a.Database) {
				if err := s.exec(a, `UPDATE customers SET name = 'changed' WHERE id = 1`); err != nil {
					t.Fatal(err)
				}
				c.ok("restore", "latest", "--db", dsn, "--tables", "customers", "--replace", "--no-safety-snapshot")
				if got, err := s.names(a); err != nil || got != "a-1,a-2" {
					t.Fatalf("restore latest --db %s left customers = %q (%v), want A's own rows a-1,a-2", dsn, got, err)
				}
				if got := c.ok("dump", "latest", "customers", "--source", dsn); got != "1\ta-1\n2\ta-2\n" {
					t.Errorf("dump latest --source %s: %q", dsn, got)
				}
			}
			// A backup under another spelling takes the last one as its
			// parent, and snapshots --source lists both.
			variant := s.variants(a.Database)[0]
			if out := c.ok("backup", "--db", variant); !strings.Contains(out, "using parent snapshot") {
				t.Errorf("backup --db %s found no parent:\n%s", variant, out)
			}
			if sns := c.snapshots("--source", variant); len(sns) != 2 {
				t.Errorf("snapshots --source %s: %d snapshots, want 2", variant, len(sns))
			}
			// forget groups the two spellings as one database.
			var fj forgetJSON
			if err := json.Unmarshal([]byte(c.ok("forget", "--keep-last", "1", "--dry-run", "--json")), &fj); err != nil {
				t.Fatal(err)
			}
			if len(fj.Groups) != 2 || fj.Remove != 1 {
				t.Errorf("forget --keep-last 1 of A (two spellings) and B: %d groups, %d to remove; want 2 groups, 1 to remove", len(fj.Groups), fj.Remove)
			}
			// A password in --source does not make another source, and
			// is never printed.
			_, errOut := c.code(exitError, "restore", "latest", "--db", a.String(), "--source", strings.Replace(b.String(), "://"+b.User+"@", "://"+b.User+":hunter2@", 1))
			if !strings.Contains(errOut, "--other-source") || strings.Contains(errOut, "hunter2") {
				t.Errorf("restoring B into A by --source: %s", errOut)
			}
		})
	}
}
