package main

import (
	"strings"
	"testing"

	"strata/dbexport"
)

// A backup by a role that row-level security hides rows from fails,
// naming the table, as pg_dump does, rather than saving the rows the
// policies let through as if they were the table.
func TestPostgresBackupRowSecurity(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	d, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := d.Database + "_owner" // unique, as the database is
	src.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { src.db.Exec("DROP OWNED BY " + role); src.db.Exec("DROP ROLE " + role) })
	src.exec(t, "CREATE TABLE secret (id int PRIMARY KEY, v int)",
		"INSERT INTO secret SELECT i, i FROM generate_series(1, 100) i",
		"ALTER TABLE secret OWNER TO "+role,
		"ALTER TABLE secret ENABLE ROW LEVEL SECURITY",
		"ALTER TABLE secret FORCE ROW LEVEL SECURITY",
		"CREATE POLICY recent ON secret USING (v > 90)")
	owner := strings.Replace(src.dsn, "postgres://postgres@", "postgres://"+role+"@", 1)

	c := newCLI(t)
	c.ok("init")
	_, errOut := c.code(exitError, "backup", "--db", owner)
	if !strings.Contains(errOut, "public.secret") || !strings.Contains(errOut, "row-level security") || !strings.Contains(errOut, "BYPASSRLS") {
		t.Errorf("backup by a role the policy hides rows from (it should say what to do):\n%s", errOut)
	}
	// A superuser is not subject to the policy: all the rows.
	c.ok("backup", "--db", src.dsn)
	if out := c.ok("dump", "latest", "public.secret"); strings.Count(out, "\n") < 100 {
		t.Errorf("dump of the superuser's backup holds %d lines, want the 100 rows:\n%s", strings.Count(out, "\n"), out)
	}
	// Nor does a restore over the table by its owner replace rows it
	// cannot all see (the pre-restore snapshot could not save them).
	_, errOut = c.code(exitError, "restore", "latest", "--db", owner, "--tables", "public.secret", "--replace")
	if !strings.Contains(errOut, "public.secret") || !strings.Contains(errOut, "BYPASSRLS") {
		t.Errorf("restore --replace by a role the policy hides rows from (it should say what to do):\n%s", errOut)
	}
}

// A materialized view over a table with FORCE ROW LEVEL SECURITY holds
// what the policies let its owner see. A restore into an empty database,
// by a role that owns the database and is no superuser, refreshes it
// with row security on, as pg_restore --enable-row-security does, and
// so gets back the source's rows: with row_security off (pg_restore's
// default) the REFRESH fails ("query would be affected by row-level
// security policy") and the restore rolled back.
func TestPostgresRestoreMatViewOverForcedRowSecurity(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	d, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := d.Database + "_owner" // unique, as the database is
	src.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { src.db.Exec("DROP ROLE IF EXISTS " + role) }) // after dst is dropped
	t.Cleanup(func() { src.db.Exec("DROP OWNED BY " + role) })
	src.exec(t, "CREATE TABLE secret (id int PRIMARY KEY, who text)",
		"INSERT INTO secret SELECT i, CASE WHEN i > 90 THEN '"+role+"' ELSE 'other' END FROM generate_series(1, 100) i",
		"ALTER TABLE secret OWNER TO "+role,
		"ALTER TABLE secret ENABLE ROW LEVEL SECURITY",
		"ALTER TABLE secret FORCE ROW LEVEL SECURITY",
		"CREATE POLICY mine ON secret USING (who = current_user)",
		"CREATE MATERIALIZED VIEW seen AS SELECT count(*) AS n, min(id) AS first FROM secret",
		"ALTER MATERIALIZED VIEW seen OWNER TO "+role,
		"REFRESH MATERIALIZED VIEW seen")
	want := src.str(t, "SELECT n || ',' || first FROM seen")
	if want != "10,91" {
		t.Fatalf("the source's materialized view holds %s, want 10,91 (the rows the policy lets its owner see)", want)
	}
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)

	dst := pgDB(t)
	dbName := dst.str(t, "SELECT current_database()")
	dst.exec(t, "ALTER DATABASE "+dbName+" OWNER TO "+role, "ALTER SCHEMA public OWNER TO "+role)
	owner := strings.Replace(dst.dsn, "postgres://postgres@", "postgres://"+role+"@", 1)
	_, errOut, code := c.run("restore", "latest", "--db", owner)
	if code != 0 {
		t.Fatalf("restore by the database's owner: exit %d: %s", code, errOut)
	}
	if got := dst.str(t, "SELECT n || ',' || first FROM seen"); got != want {
		t.Errorf("the restored materialized view holds %s, want the source's %s", got, want)
	}
	// A restore of the table over it refreshes the materialized views
	// that read it, the same way.
	dst.exec(t, "UPDATE secret SET who = 'other'", "REFRESH MATERIALIZED VIEW seen")
	_, errOut, code = c.run("restore", "latest", "--db", dst.dsn, "--tables", "public.secret", "--replace", "--no-safety-snapshot")
	if code != 0 {
		t.Fatalf("restore --tables public.secret --replace: exit %d: %s", code, errOut)
	}
	if got := dst.str(t, "SELECT n || ',' || first FROM seen"); got != want {
		t.Errorf("after a restore of its table, the materialized view holds %s, want the source's %s", got, want)
	}
}
