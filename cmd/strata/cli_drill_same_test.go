package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/dbexport/mysql"
	"strata/dbexport/postgres"
	"strata/dbexport/sqlite"
	"strata/repo"
)

// The same-engine drill (verify drill --same-engine) on the real servers
// and on SQLite: a faithful restore passes with every table's rows
// identical; a snapshot whose rows the engine does not give back as saved,
// or whose schema the restore does not recreate, fails it with exit 3
// naming the table, the row and what differs; the scratch database is
// dropped also when the restore fails.

// drillEngine is one engine's throwaway source database for these tests.
type drillEngine struct {
	name  string
	setup func(t *testing.T) (dsn string, exists func(db string) bool)
	open  func(ctx context.Context, d dbexport.DSN) (dbexport.Source, error)
}

var drillEngines = []drillEngine{
	{"postgres", func(t *testing.T) (string, func(string) bool) {
		s := pgDB(t)
		s.exec(t,
			`CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
				balance numeric(10,2) CHECK (balance >= 0), born date, seen timestamptz)`,
			`CREATE TABLE items (id int PRIMARY KEY, customer_id int REFERENCES customers(id), qty int NOT NULL,
				name varchar(40), tags text[], doc jsonb, raw bytea)`,
			`CREATE INDEX items_name ON items (lower(name))`,
			`CREATE SEQUENCE tickets START 100`,
			`SELECT setval('tickets', 142)`,
			`CREATE VIEW big_items AS SELECT id, qty FROM items WHERE qty > 5`,
			`INSERT INTO customers (email, balance, born, seen) VALUES
				('a@x.com', 10.5, '1980-02-29', '2025-06-17 13:00:00.123456+02'),
				('b"q@x.com', 0, NULL, NULL)`,
			`INSERT INTO items VALUES (1, 1, 3, 'tab	and \ slash', '{a,"b c"}', '{"k": [1, 2.5]}', '\x00ff'),
				(2, 1, 7, 'line
break', NULL, NULL, NULL), (3, 2, 9, NULL, '{}', 'null', '')`)
		return s.dsn, func(db string) bool {
			return s.int(t, "SELECT count(*) FROM pg_database WHERE datname = $1", db) > 0
		}
	}, func(ctx context.Context, d dbexport.DSN) (dbexport.Source, error) {
		return postgres.Open(ctx, d, postgres.Options{})
	}},
	{"mariadb", func(t *testing.T) (string, func(string) bool) {
		s := mariaDB(t)
		s.exec(t,
			`CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(100) NOT NULL UNIQUE,
				balance decimal(10,2) CHECK (balance >= 0), born date, seen datetime(3))`,
			`CREATE TABLE items (id int PRIMARY KEY, customer_id int, qty int NOT NULL,
				name varchar(40) CHARACTER SET latin1, doc json, raw blob, KEY items_name (name),
				CONSTRAINT items_customer FOREIGN KEY (customer_id) REFERENCES customers(id))`,
			`CREATE VIEW big_items AS SELECT id, qty FROM items WHERE qty > 5`,
			`CREATE TRIGGER items_qty BEFORE INSERT ON items FOR EACH ROW SET NEW.qty = GREATEST(NEW.qty, 0)`,
			`CREATE FUNCTION double_qty(q int) RETURNS int DETERMINISTIC RETURN q * 2`,
			`CREATE PROCEDURE count_items(OUT n int) SELECT count(*) INTO n FROM items`,
			`INSERT INTO customers (email, balance, born, seen) VALUES
				('a@x.com', 10.5, '1980-02-29', '2025-06-17 13:00:00.123'), ('b"q@x.com', 0, NULL, NULL)`,
			`INSERT INTO items VALUES (1, 1, 3, 'tab	and \\ slash', '{"k": [1, 2.5]}', x'00ff'),
				(2, 1, 7, 'line\nbreak', NULL, NULL), (3, 2, 9, NULL, 'null', '')`)
		return s.dsn, func(db string) bool {
			return s.int(t, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db) > 0
		}
	}, func(ctx context.Context, d dbexport.DSN) (dbexport.Source, error) {
		return mysql.Open(ctx, d, mysql.Options{})
	}},
	{"sqlite", func(t *testing.T) (string, func(string) bool) {
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{
			`CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE,
				balance NUMERIC CHECK (balance >= 0), born DATE, seen DATETIME)`,
			`CREATE TABLE items (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
				qty INTEGER NOT NULL, name TEXT, raw BLOB)`,
			`CREATE INDEX items_name ON items (lower(name))`,
			`CREATE VIEW big_items AS SELECT id, qty FROM items WHERE qty > 5`,
			`CREATE TRIGGER items_qty AFTER UPDATE ON items BEGIN SELECT 1; END`,
			`INSERT INTO customers (email, balance, born, seen) VALUES
				('a@x.com', 10.5, '1980-02-29', '2025-06-17 13:00:00'), ('b"q@x.com', 0, NULL, NULL)`,
			`INSERT INTO items VALUES (1, 1, 3, 'tab	and \ slash', x'00ff'), (2, 1, 7, 'line
break', NULL), (3, 2, 9, NULL, x'')`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return "sqlite://" + path, nil
	}, func(ctx context.Context, d dbexport.DSN) (dbexport.Source, error) {
		return sqlite.Open(ctx, d, sqlite.Options{Jobs: 1})
	}},
}

// drillJSON is the part of `verify drill --json` these tests read.
type drillJSON struct {
	SameEngine bool `json:"same_engine"`
	Tables     []struct {
		Table          string   `json:"table"`
		SnapshotSHA256 string   `json:"snapshot_sha256"`
		RestoredSHA256 string   `json:"restored_sha256"`
		Problems       []string `json:"problems"`
	} `json:"tables"`
	SchemaProblems []string `json:"schema_problems"`
}

var createdRE = regexp.MustCompile(`created the drill database \S+/(strata_drill_[0-9a-f]+)`)

// scratchName is the scratch database a drill run with -v created.
func scratchName(t *testing.T, stderr string) string {
	t.Helper()
	m := createdRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("drill -v did not say which database it created:\n%s", stderr)
	}
	return m[1]
}

func TestDrillSameEngine(t *testing.T) {
	t.Parallel()
	for _, e := range drillEngines {
		t.Run(e.name, func(t *testing.T) {
			c := newCLI(t)
			c.ok("init")
			dsn, exists := e.setup(t)
			c.ok("backup", "--db", dsn)

			// Without --target: the snapshot's own server.
			out, stderr, code := c.run("-v", "verify", "drill", "--same-engine", "latest")
			if code != 0 || !strings.Contains(out, "rows and schema identical to the snapshot") {
				t.Fatalf("drill --same-engine: exit %d\n%s\n%s", code, out, stderr)
			}
			for _, table := range []string{"customers", "items"} {
				if !regexp.MustCompile(`(?m)^(public\.)?` + table + `: rows identical to the snapshot \(SHA-256 [0-9a-f]{16}\)$`).MatchString(out) {
					t.Errorf("drill output does not say that %s came back identical:\n%s", table, out)
				}
			}
			if exists != nil && exists(scratchName(t, stderr)) {
				t.Errorf("the scratch database %s was not dropped", scratchName(t, stderr))
			}

			args := []string{"verify", "drill", "--same-engine", "latest", "--json"}
			if e.name != "sqlite" {
				d, err := dbexport.ParseDSN(dsn)
				if err != nil {
					t.Fatal(err)
				}
				args = append(args, "--target", d.String(), "--jobs", "2") // named explicitly
			}
			var rep drillJSON
			if err := json.Unmarshal([]byte(c.ok(args...)), &rep); err != nil {
				t.Fatal(err)
			}
			if !rep.SameEngine || len(rep.Tables) != 2 || len(rep.SchemaProblems) > 0 {
				t.Fatalf("drill --json: %+v", rep)
			}
			for _, td := range rep.Tables {
				if len(td.SnapshotSHA256) != 64 || td.SnapshotSHA256 != td.RestoredSHA256 || len(td.Problems) > 0 {
					t.Errorf("table %s: %+v", td.Table, td)
				}
			}
		})
	}
}

// alteredSource is a real database's snapshot as the test wants it saved:
// schema and rows pass through the functions given.
type alteredSource struct {
	dbexport.Source
	schema func(*dbexport.Schema)
	row    func(t *dbexport.Table, fields [][]byte)
}

func (a alteredSource) Schema(ctx context.Context) (*dbexport.Schema, error) {
	s, err := a.Source.Schema(ctx)
	if err == nil && a.schema != nil {
		a.schema(s)
	}
	return s, err
}

func (a alteredSource) CopyOut(ctx context.Context, t *dbexport.Table, w io.Writer) (int64, error) {
	var buf bytes.Buffer
	n, err := a.Source.CopyOut(ctx, t, &buf)
	if err != nil || a.row == nil {
		_, _ = w.Write(buf.Bytes())
		return n, err
	}
	for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		fields := dbexport.SplitRow(bytes.TrimSuffix(line, []byte("\n")))
		a.row(t, fields)
		if _, err := w.Write(append(bytes.Join(fields, []byte("\t")), '\n')); err != nil {
			return n, err
		}
	}
	return n, nil
}

// backupAltered saves a snapshot of dsn through the library, altered by
// src's functions, as strata backup would save it.
func backupAltered(t *testing.T, c *tcli, e drillEngine, dsn string, alter alteredSource) {
	t.Helper()
	ctx := context.Background()
	d, err := dbexport.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if alter.Source, err = e.open(ctx, d); err != nil {
		t.Fatal(err)
	}
	defer alter.Source.Close()
	r := c.openAPI(repo.Options{})
	if _, err := dbexport.Backup(ctx, r, alter, dbexport.BackupOptions{Source: d.String()}); err != nil {
		t.Fatal(err)
	}
}

func column(t *dbexport.Table, name string) int {
	for i, col := range t.Columns {
		if col.Name == name {
			return i
		}
	}
	return -1
}

func TestDrillSameEngineFindsDifferences(t *testing.T) {
	t.Parallel()
	for _, e := range drillEngines {
		t.Run(e.name, func(t *testing.T) {
			c := newCLI(t)
			c.ok("init")
			dsn, exists := e.setup(t)
			// The snapshot says item 2 has qty "007": every engine loads
			// that as the integer 7, which reads back as "7". And it says
			// the column name is of a type the DDL does not create.
			backupAltered(t, c, e, dsn, alteredSource{
				schema: func(s *dbexport.Schema) {
					for _, tb := range s.Tables {
						if tb.Name == "items" {
							tb.Columns[column(tb, "name")].Type = "character varying(99)"
						}
					}
				},
				row: func(tb *dbexport.Table, fields [][]byte) {
					if tb.Name == "items" && string(fields[0]) == "2" {
						fields[column(tb, "qty")] = []byte("007")
					}
				},
			})
			// Counts, keys, foreign keys and CHECKs all hold: the drill
			// without --same-engine passes.
			c.ok("verify", "drill", "latest")

			out, stderr, code := c.run("-v", "verify", "drill", "--same-engine", "latest")
			if code != exitCheckFailed {
				t.Fatalf("drill --same-engine: exit %d, want %d\n%s\n%s", code, exitCheckFailed, out, stderr)
			}
			t.Logf("drill output:\n%s", out)
			for _, want := range []string{
				"content differs: 1 of 3 rows in key order (first: row 2 (key id=2) differs in column qty)",
				"columns name: type differs: snapshot character varying(99), restored ",
				"found problems",
			} {
				if !strings.Contains(out+stderr, want) {
					t.Errorf("drill output lacks %q:\n%s\n%s", want, out, stderr)
				}
			}
			if !strings.Contains(out, "customers: rows identical") {
				t.Errorf("customers, unaltered, is not reported identical:\n%s", out)
			}
			if exists != nil && exists(scratchName(t, stderr)) {
				t.Errorf("the scratch database %s was not dropped", scratchName(t, stderr))
			}
		})
	}
}

// A restore that fails (here: the saved DDL of a table names a type that
// does not exist) fails the drill, and its scratch database is dropped.
func TestDrillSameEngineFailedRestoreDropsScratch(t *testing.T) {
	t.Parallel()
	for _, e := range drillEngines[:2] {
		t.Run(e.name, func(t *testing.T) {
			c := newCLI(t)
			c.ok("init")
			dsn, exists := e.setup(t)
			backupAltered(t, c, e, dsn, alteredSource{schema: func(s *dbexport.Schema) {
				for _, tb := range s.Tables {
					if tb.Name == "items" {
						tb.DDL = strings.Replace(tb.DDL, "(", "(broken no_such_type, ", 1)
					}
				}
			}})
			out, stderr, code := c.run("-v", "verify", "drill", "--same-engine", "latest")
			if code != exitCheckFailed || !strings.Contains(out, "error: the restore failed") || !strings.Contains(out, "no_such_type") {
				t.Fatalf("drill of a snapshot that cannot restore: exit %d\n%s\n%s", code, out, stderr)
			}
			if name := scratchName(t, stderr); exists(name) {
				t.Errorf("the scratch database %s was not dropped", name)
			}
		})
	}
}

// --same-engine refuses a server of another engine, and a SQLite
// snapshot needs no server.
func TestDrillSameEngineTargetMismatch(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	_, stderr := c.code(exitError, "verify", "drill", "--same-engine", "latest", "--target", "postgres://postgres@127.0.0.1/postgres")
	if !strings.Contains(stderr, "leave out --target") {
		t.Errorf("stderr: %s", stderr)
	}
	if err := os.Remove(path); err != nil { // the drill needs the snapshot only
		t.Fatal(err)
	}
	c.ok("verify", "drill", "--same-engine", "latest")
}
