package main

import (
	"strings"
	"testing"

	"strata/dbexport"
)

// tableCount counts the base tables of the current database.
func tableCount(t *testing.T, s serverDB, engine string) int64 {
	t.Helper()
	if engine == "postgres" {
		return s.int(t, `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'`)
	}
	return s.int(t, `SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`)
}

// TestRestoreDryRunChecksPostgres: a dry run fails, with the reasons,
// when the restore would: a column type the target lacks, a referenced
// table that is neither restored nor there. Once the target has what is
// missing, the dry run and the restore both pass.
func TestRestoreDryRunChecksPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t,
		`CREATE TYPE mood AS ENUM ('happy', 'sad')`,
		`CREATE TABLE person (id serial PRIMARY KEY, name text, feeling mood)`,
		`CREATE TABLE pet (id integer PRIMARY KEY, owner integer REFERENCES person)`,
		`INSERT INTO person (name, feeling) VALUES ('ann', 'happy'), ('bob', 'sad')`,
		`INSERT INTO pet VALUES (1, 1), (2, 2)`)
	c := newCLI(t)
	c.ok("init")
	// Without a schema archive (no pg_dump), which would create the type
	// itself (TestPostgresSchemaArchiveRoundTrip): the catalog path's
	// checks.
	c.vars["STRATA_PG_DUMP"] = "/nonexistent/pg_dump"
	c.ok("backup", "--db", src.dsn)

	dst := pgDB(t)
	plan, errOut := c.code(exitError, "restore", "latest", "--db", dst.dsn, "--dry-run")
	if !strings.Contains(errOut, "column public.person.feeling has type public.mood, which the target does not have") {
		t.Errorf("dry run with a missing type:\n%s%s", plan, errOut)
	}
	_, errOut = c.code(exitError, "restore", "latest", "--db", dst.dsn)
	if !strings.Contains(errOut, "type public.mood") {
		t.Errorf("restore with a missing type:\n%s", errOut)
	}
	_, errOut = c.code(exitError, "restore", "latest", "--db", dst.dsn, "--tables", "pet", "--dry-run")
	if !strings.Contains(errOut, "table public.pet references public.person (foreign key pet_owner_fkey), which is neither restored nor in the target") {
		t.Errorf("dry run of a child alone:\n%s", errOut)
	}
	if n := tableCount(t, dst, "postgres"); n != 0 {
		t.Fatalf("refused restores left %d tables", n)
	}

	dst.exec(t, `CREATE TYPE mood AS ENUM ('happy', 'sad')`)
	// A role that may connect but not create tables.
	d, err := dbexport.ParseDSN(dst.dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := d.Database + "_guest" // unique, as the database is
	dst.exec(t, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() { dst.db.Exec(`DROP ROLE ` + role) })
	guest := strings.Replace(dst.dsn, "postgres://postgres@", "postgres://"+role+"@", 1)
	_, errOut = c.code(exitError, "restore", "latest", "--db", guest, "--dry-run")
	if !strings.Contains(errOut, "role "+role+" may not create table public.person") {
		t.Errorf("dry run without privileges:\n%s", errOut)
	}
	plan = c.ok("restore", "latest", "--db", dst.dsn, "--dry-run")
	if strings.Count(plan, "create and load") != 2 {
		t.Errorf("dry run:\n%s", plan)
	}
	c.ok("restore", "latest", "--db", dst.dsn)
	if n := dst.int(t, `SELECT count(*) FROM pet JOIN person ON person.id = pet.owner`); n != 2 {
		t.Errorf("restored %d pets with owners, want 2", n)
	}
}

// TestRestoreDryRunChecksMariaDB: restoring a child table alone into an
// empty MariaDB database is refused by the dry run and by the restore,
// before any table is created.
func TestRestoreDryRunChecksMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t, chinookMaria...)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)

	dst := mariaDB(t)
	for _, args := range [][]string{{"--dry-run"}, nil} {
		_, errOut := c.code(exitError, append([]string{"restore", "latest", "--db", dst.dsn, "--tables", "track"}, args...)...)
		for _, want := range []string{"table track references album (foreign key track_album)", "table track references genre"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("restore --tables track %v: no %q:\n%s", args, want, errOut)
			}
		}
	}
	if n := tableCount(t, dst, "mysql"); n != 0 {
		t.Fatalf("refused restores left %d tables", n)
	}
	tables := []string{"--tables", "artist", "--tables", "album", "--tables", "genre", "--tables", "track"}
	c.ok(append([]string{"restore", "latest", "--db", dst.dsn, "--dry-run"}, tables...)...)
	c.ok(append([]string{"restore", "latest", "--db", dst.dsn}, tables...)...)
	if n := dst.int(t, `SELECT count(*) FROM track JOIN album USING (album_id)`); n != 200 {
		t.Errorf("restored %d tracks with albums, want 200", n)
	}
}
