package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
	"strata/dbexport/postgres"
	"strata/internal/dbtest"
)

// CSV keeps NULL and the empty string apart as PostgreSQL's CSV does
// (NULL an empty field, the empty string ""), and jsonl writes null.
func TestDumpNullAndEmptyString(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path := filepath.Join(t.TempDir(), "n.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)`,
		`INSERT INTO t VALUES (1, NULL, ''), (2, '', NULL), (3, 'x,y', ' lead'), (4, 'q"q', 'line` + "\n" + `break'), (5, '\.', 'plain')`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	c.ok("backup", "--db", "sqlite://"+path)
	wantCSV := "id,a,b\n" +
		"1,,\"\"\n" +
		"2,\"\",\n" +
		"3,\"x,y\", lead\n" +
		"4,\"q\"\"q\",\"line\nbreak\"\n" +
		"5,\"\\.\",plain\n"
	if got := c.ok("dump", "latest", "t", "--format", "csv"); got != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", got, wantCSV)
	}
	wantJSONL := `{"id":1,"a":null,"b":""}` + "\n" +
		`{"id":2,"a":"","b":null}` + "\n"
	if got := c.ok("dump", "latest", "t", "--format", "jsonl"); !strings.HasPrefix(got, wantJSONL) {
		t.Errorf("jsonl:\n%s\nwant it to start with:\n%s", got, wantJSONL)
	}
}

// On a real PostgreSQL table, dump --format csv writes what PostgreSQL's
// own COPY ... (FORMAT csv, HEADER) writes, NULLs and empty strings
// included, and jsonl writes null for NULL only.
func TestDumpCSVMatchesPostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("STRATA_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	server, err := dbexport.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := pgExec(server, "SELECT 1"); err != nil {
		dbtest.Unreachable(t, "PostgreSQL test server not reachable at "+server.String()+": "+err.Error())
	}
	d := dbtest.TempDatabase(t, server, postgres.CreateDatabase, postgres.DropDatabase)
	if err := pgExec(d, `CREATE TABLE t (id int PRIMARY KEY, s text, v varchar(10), n numeric, b boolean, arr text[], j jsonb, by bytea, day date);
		INSERT INTO t VALUES
		 (1, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL),
		 (2, '', NULL, 1.50, true, '{a,"b c",NULL}', '{"k": [1, null, ""]}', '\x00ff', '2025-06-17'),
		 (3, 'x,y', ' lead', -0.001, false, '{}', '""', '', '1999-12-31'),
		 (4, E'q"q\nline\rcr', 'tab	in', 12345678901234567890, NULL, '{""}', 'null', '\x2c', NULL)`); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", d.String())
	got := c.ok("dump", "latest", "t", "--format", "csv")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "host="+d.Host+" port="+d.Port+" user="+d.User+" dbname="+d.Database+" sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range []string{"SET DateStyle = ISO", "SET bytea_output = hex", "SET extra_float_digits = 1"} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var want bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &want, `COPY (SELECT * FROM t ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`); err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Errorf("dump --format csv differs from PostgreSQL's COPY csv:\ngot:\n%s\nwant:\n%s", got, want.String())
	}
	jsonl := c.ok("dump", "latest", "t", "--format", "jsonl")
	first := strings.SplitN(jsonl, "\n", 2)[0]
	if wantFirst := `{"id":1,"s":null,"v":"","n":null,"b":null,"arr":null,"j":null,"by":null,"day":null}`; first != wantFirst {
		t.Errorf("jsonl row 1 = %s, want %s", first, wantFirst)
	}
}
