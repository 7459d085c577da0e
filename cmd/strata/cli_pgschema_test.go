package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The PostgreSQL schema archive through the CLI (docs/design.md, "Schema
// archive"): a database holding every kind of object pg_dump saves is
// backed up and restored into empty databases, and pg_dump of source and
// target must then be identical, schema and rows.

// everyObjectDB loads dbexport/postgres/testdata/every_object.sql into a
// new database, with its grants to a role made for the test (dropped at
// the end, after the databases), and returns the database and the role.
func everyObjectDB(t *testing.T) (serverDB, string) {
	t.Helper()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	fixture, err := os.ReadFile("../../dbexport/postgres/testdata/every_object.sql")
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	rand.Read(b[:])
	role := "strata_reader_" + hex.EncodeToString(b[:])
	admin := pgDB(t)
	admin.exec(t, "CREATE ROLE "+role+" NOLOGIN")
	t.Cleanup(func() { admin.db.Exec("DROP ROLE IF EXISTS " + role) })
	src := pgDB(t)
	src.exec(t, strings.ReplaceAll(string(fixture), "strata_test_reader", role))
	return src, role
}

// pgDump runs pg_dump on the database behind dsn; \restrict lines, whose
// key is random, are left out.
func pgDump(t *testing.T, dsn string, args ...string) string {
	t.Helper()
	out, err := exec.Command("pg_dump", append(args, "--dbname="+dsn)...).Output()
	if err != nil {
		t.Fatalf("pg_dump %s: %v", dsn, err)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, `\restrict `) && !strings.HasPrefix(line, `\unrestrict `) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// contentHashes returns per table and materialized view of the database
// the md5 of its rows as text, sorted.
func contentHashes(t *testing.T, db serverDB) map[string]string {
	t.Helper()
	rows, err := db.db.Query(`SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND (c.relkind <> 'm' OR c.relispopulated) ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, n := range names {
		out[n] = db.str(t, "SELECT coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '') || ' ' || count(*) FROM ONLY "+n+" x")
	}
	return out
}

func sameHashes(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("no tables hashed")
	}
	for n, h := range want {
		if got[n] != h {
			t.Errorf("%s: content %q, want %q", n, got[n], h)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("restored database holds %s, which the source does not", n)
		}
	}
}

// diffLines names the first lines where a and b differ.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out bytes.Buffer
	for i := 0; i < max(len(al), len(bl)) && out.Len() < 2000; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n- %s\n+ %s\n", i+1, x, y)
		}
	}
	return out.String()
}

func TestPostgresSchemaArchiveRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src, _ := everyObjectDB(t)
	_, errOut, code := c.run("backup", "--db", src.dsn)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "not saved") || strings.Contains(errOut, "no schema archive") {
		t.Errorf("backup warns of objects not saved:\n%s", errOut)
	}
	wantSchema := pgDump(t, src.dsn, "--schema-only")
	wantAll := pgDump(t, src.dsn)
	wantHashes := contentHashes(t, src)
	for _, jobs := range []string{"1", "3"} {
		t.Run("jobs="+jobs, func(t *testing.T) {
			dst := pgDB(t)
			_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", jobs)
			if code != 0 {
				t.Fatalf("restore: exit %d: %s", code, errOut)
			}
			if got := pgDump(t, dst.dsn, "--schema-only"); got != wantSchema {
				t.Errorf("pg_dump --schema-only of the restored database differs:\n%s", diffLines(wantSchema, got))
			}
			// Rows, sequence positions and materialized views too.
			if got := pgDump(t, dst.dsn); got != wantAll {
				t.Errorf("pg_dump of the restored database differs:\n%s", diffLines(wantAll, got))
			}
			sameHashes(t, wantHashes, contentHashes(t, dst))
		})
	}
}

// Owners and grants come back where the roles exist; objects of a role
// the target lacks belong to the restoring role and grants to it are
// skipped, each said; --no-owner and --no-privileges as pg_restore's.
func TestPostgresSchemaArchiveOwners(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("make test-long runs it")
	}
	c := newCLI(t)
	c.ok("init")
	src, role := everyObjectDB(t)
	gone := role + "_gone"
	src.exec(t, "CREATE ROLE "+gone+" NOLOGIN")
	t.Cleanup(func() { src.db.Exec("DROP ROLE IF EXISTS " + gone) })
	src.exec(t, "ALTER TABLE shop.counter OWNER TO "+role,
		"ALTER TABLE shop.animal OWNER TO "+gone,
		"GRANT SELECT ON shop.counter TO "+gone)
	c.ok("backup", "--db", src.dsn)
	src.exec(t, "REASSIGN OWNED BY "+gone+" TO CURRENT_USER", "DROP OWNED BY "+gone, "DROP ROLE "+gone)
	me := src.str(t, "SELECT current_user")

	owner := func(db serverDB, table string) string {
		return db.str(t, "SELECT relowner::regrole::text FROM pg_class WHERE oid = $1::regclass", table)
	}
	canRead := func(db serverDB, table string) bool {
		return db.int(t, "SELECT has_table_privilege($1, $2, 'SELECT')::int", role, table) == 1
	}

	dst := pgDB(t)
	// On several connections: the notices come from several goroutines.
	_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", "3")
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"role " + gone + " does not exist in the target", "GRANT SELECT ON TABLE shop.counter TO " + gone} {
		if !strings.Contains(errOut, want) {
			t.Errorf("restore does not say %q:\n%s", want, errOut)
		}
	}
	if got := owner(dst, "shop.counter"); got != role {
		t.Errorf("shop.counter belongs to %s, want %s", got, role)
	}
	if got := owner(dst, "shop.animal"); got != me {
		t.Errorf("shop.animal (its owner gone) belongs to %s, want the restoring role %s", got, me)
	}
	if !canRead(dst, "shop.customer") {
		t.Errorf("the grant of SELECT on shop.customer to %s was not restored", role)
	}

	bare := pgDB(t)
	_, errOut, code = c.run("restore", "latest", "--db", bare.dsn, "--source", src.dsn, "--no-owner", "--no-privileges")
	if code != 0 {
		t.Fatalf("restore --no-owner --no-privileges: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, gone) {
		t.Errorf("restore --no-owner --no-privileges speaks of the missing role:\n%s", errOut)
	}
	if got := owner(bare, "shop.counter"); got != me {
		t.Errorf("with --no-owner shop.counter belongs to %s, want %s", got, me)
	}
	if canRead(bare, "shop.customer") {
		t.Errorf("with --no-privileges the grant on shop.customer to %s was restored", role)
	}
	// RLS is never lost.
	if n := bare.int(t, "SELECT (relrowsecurity AND relforcerowsecurity)::int FROM pg_class WHERE oid = 'shop.customer'::regclass"); n != 1 {
		t.Errorf("row-level security of shop.customer not restored")
	}
}

// A backup of some tables restores them with what they need, and says
// what of the archive it leaves out.
func TestPostgresSchemaArchiveSomeTables(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("make test-long runs it")
	}
	c := newCLI(t)
	c.ok("init")
	src, _ := everyObjectDB(t)
	c.ok("backup", "--db", src.dsn, "--exclude-tables", "shop.measure")
	dst := pgDB(t)
	_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "not recreated") || !strings.Contains(errOut, "TABLE shop.measure") || !strings.Contains(errOut, "shop.measure_2024") {
		t.Errorf("restore does not name the tables it left out:\n%s", errOut)
	}
	if n := dst.int(t, "SELECT count(*) FROM pg_class WHERE relname LIKE 'measure%'"); n != 0 {
		t.Errorf("%d relations of shop.measure restored, want none", n)
	}
	want, got := contentHashes(t, src), contentHashes(t, dst)
	for _, n := range []string{"shop.measure", "shop.measure_2024", "shop.measure_2025"} {
		delete(want, n)
	}
	sameHashes(t, want, got)
}

// Without a usable pg_dump a backup still saves the tables, and warns
// what it does not save; the warning is in the snapshot.
func TestPostgresSchemaArchiveWithoutPgDump(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, "CREATE TYPE mood AS ENUM ('sad', 'ok')", "CREATE TABLE t (id int PRIMARY KEY, m mood)", "INSERT INTO t VALUES (1, 'ok')")
	c.vars["STRATA_PG_DUMP"] = "/nonexistent/pg_dump"
	_, errOut, code := c.run("backup", "--db", src.dsn)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"no schema archive", "/nonexistent/pg_dump", "functions", "row-level security"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("backup without pg_dump does not say %q:\n%s", want, errOut)
		}
	}
	schema := c.ok("dump", "latest", "/schema.json")
	if !strings.Contains(schema, "no schema archive") || strings.Contains(schema, `"archive"`) {
		t.Errorf("schema.json does not record the missing archive:\n%s", schema)
	}
	dst := pgDB(t)
	_, errOut, code = c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	if code == 0 || !strings.Contains(errOut, "public.mood") {
		t.Errorf("restore of a snapshot without archive into an empty database: exit %d: %s", code, errOut)
	}
}

// A restore of some tables re-creates each from the archive's entries
// that belong to it (partitions, identity, triggers, policies, comments,
// grants, ...) and touches nothing else: the foreign key another table
// held on a dropped table stays gone.
func TestPostgresSchemaArchivePartialRestore(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("make test-long runs it")
	}
	c := newCLI(t)
	c.ok("init")
	src, _ := everyObjectDB(t)
	c.ok("backup", "--db", src.dsn)
	wantSchema := pgDump(t, src.dsn, "--schema-only")
	dst := pgDB(t)
	c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	dst.exec(t, "DROP TABLE shop.customer CASCADE", "DROP TABLE shop.measure")
	_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "shop.customer", "--tables", "shop.measure")
	if code != 0 {
		t.Fatalf("restore --tables: exit %d: %s", code, errOut)
	}
	if n := dst.int(t, "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'"); n != 0 {
		t.Errorf("the partial restore re-created the foreign key of shop.orders, a table it does not restore")
	}
	dst.exec(t, "ALTER TABLE ONLY shop.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES shop.customer(id) DEFERRABLE INITIALLY DEFERRED")
	if got := pgDump(t, dst.dsn, "--schema-only"); got != wantSchema {
		t.Errorf("pg_dump --schema-only after the partial restore differs:\n%s", diffLines(wantSchema, got))
	}
	sameHashes(t, contentHashes(t, src), contentHashes(t, dst))
}

// Names the archive's entry headers show ambiguously restore, whole and
// alone, with their constraints and comment: pg_dump writes a name's
// newlines as spaces there, and a schema's name may hold a dot.
func TestPostgresSchemaArchiveOddNames(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, "CREATE TABLE \"line\nbreak\r\" (\"id\n\" int PRIMARY KEY, v text)",
		"INSERT INTO \"line\nbreak\r\" VALUES (1, 'a'), (2, E'b\\nc')",
		"COMMENT ON TABLE \"line\nbreak\r\" IS 'two\nlines'",
		"CREATE TABLE plain (id int PRIMARY KEY)",
		"CREATE SCHEMA \"s.x\"",
		"CREATE TABLE \"s.x\".t (id int PRIMARY KEY, v int)",
		"CREATE INDEX t_v ON \"s.x\".t (v)",
		"INSERT INTO \"s.x\".t VALUES (1, 2)")
	c.ok("backup", "--db", src.dsn)
	wantSchema := pgDump(t, src.dsn, "--schema-only")
	dst := pgDB(t)
	if _, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	if got := pgDump(t, dst.dsn, "--schema-only"); got != wantSchema {
		t.Errorf("pg_dump --schema-only of the restored database differs:\n%s", diffLines(wantSchema, got))
	}
	sameHashes(t, contentHashes(t, src), contentHashes(t, dst))

	dst.exec(t, "DROP TABLE \"line\nbreak\r\"", "DROP TABLE \"s.x\".t")
	_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "public.line?break?", "--tables", "s.x.t")
	if code != 0 {
		t.Fatalf("restore --tables: exit %d: %s", code, errOut)
	}
	if got := pgDump(t, dst.dsn, "--schema-only"); got != wantSchema {
		t.Errorf("pg_dump --schema-only after the partial restore differs:\n%s", diffLines(wantSchema, got))
	}
	sameHashes(t, contentHashes(t, src), contentHashes(t, dst))
}
