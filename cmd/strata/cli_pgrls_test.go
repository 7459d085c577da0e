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
