package main

import (
	"strings"
	"testing"
)

// TestPostgresNotSavedNamed: large objects, which pg_dump saves and
// strata does not, and the database's own settings (ALTER DATABASE ...
// SET) are named by the backup, recorded in the snapshot and repeated by
// the restore, instead of being lost silently (before, neither said a
// word).
func TestPostgresNotSavedNamed(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	name := src.str(t, "SELECT current_database()")
	src.exec(t, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)",
		"SELECT lo_from_bytea(0, 'a large object'), lo_from_bytea(0, 'another')",
		"ALTER DATABASE "+name+" SET work_mem = '8MB'")
	c := newCLI(t)
	c.ok("init")
	_, backupErr := c.code(0, "backup", "--db", src.dsn)
	for _, want := range []string{"holds 2 large objects", "ALTER DATABASE ... SET"} {
		if !strings.Contains(backupErr, want) {
			t.Errorf("the backup does not say %q:\n%s", want, backupErr)
		}
	}
	dst := pgDB(t)
	_, restoreErr := c.code(0, "restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	for _, want := range []string{"not recreated: 2 large objects of database " + name, "not recreated: the settings of database " + name} {
		if !strings.Contains(restoreErr, want) {
			t.Errorf("the restore does not say %q:\n%s", want, restoreErr)
		}
	}
	if n := dst.int(t, "SELECT count(*) FROM t"); n != 1 {
		t.Errorf("table t: %d rows", n)
	}
	// A database without either says nothing of them.
	plain := pgDB(t)
	plain.exec(t, "CREATE TABLE t (id int PRIMARY KEY)")
	if _, errOut := c.code(0, "backup", "--db", plain.dsn); strings.Contains(errOut, "large objects") || strings.Contains(errOut, "ALTER DATABASE") {
		t.Errorf("the backup of a plain database warns:\n%s", errOut)
	}
}

// TestPostgresExtensionVersion: an extension comes back at the version
// the source had, not at the target's default: pg_dump's archive writes
// CREATE EXTENSION without VERSION, and before strata recorded the
// versions, citext 1.5 came back as 1.6. A version the target cannot
// install is said.
func TestPostgresExtensionVersion(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	if n := src.int(t, "SELECT count(*) FROM pg_available_extension_versions WHERE name = 'citext' AND version IN ('1.5', '1.6')"); n != 2 {
		t.Skip("citext 1.5 and 1.6 are not both available")
	}
	src.exec(t, "CREATE EXTENSION citext VERSION '1.5'", "CREATE TABLE t (id int PRIMARY KEY, email citext)", "INSERT INTO t VALUES (1, 'A@x')")
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	for _, jobs := range []string{"1", "2"} {
		dst := pgDB(t)
		c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", jobs)
		if v := dst.str(t, "SELECT extversion FROM pg_extension WHERE extname = 'citext'"); v != "1.5" {
			t.Errorf("--jobs %s: citext restored at version %s, want 1.5", jobs, v)
		}
	}
	if drill := c.ok("verify", "drill", "latest", "--same-engine", "--source", src.dsn); !strings.Contains(drill, "drill passed") {
		t.Errorf("same-engine drill:\n%s", drill)
	}
}

// TestPostgresJobsUnusedSaid: a restore that cannot run on several
// connections (some tables, over tables the target holds) says that
// --jobs is not used, instead of ignoring it silently; a whole restore
// into an empty database uses it and says nothing of it.
func TestPostgresJobsUnusedSaid(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)", "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)")
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	dst := pgDB(t)
	if _, errOut := c.code(0, "restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", "2"); strings.Contains(errOut, "is not used") {
		t.Errorf("a whole restore says --jobs is not used:\n%s", errOut)
	}
	_, errOut := c.code(0, "restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "public.a", "--replace", "--no-safety-snapshot", "--jobs", "2")
	if !strings.Contains(errOut, "--jobs 2 is not used") {
		t.Errorf("a partial restore does not say that --jobs is not used:\n%s", errOut)
	}
}

// TestPostgresEventTriggerLast: an event trigger is created at the end of
// the restore, after the materialized views are refreshed, as pg_restore
// does, so it does not fire on the restore's own DDL. Before, it was
// created with the post-data entries (with --jobs, possibly before the
// tables' keys and indexes), and the REFRESH (and the indexes, keys)
// fired it: here a DDL log table gained rows the source never had.
func TestPostgresEventTriggerLast(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t,
		"CREATE TABLE t (id int PRIMARY KEY, v int)", "CREATE INDEX t_v ON t (v)", "INSERT INTO t VALUES (1, 10), (2, 20)",
		"CREATE MATERIALIZED VIEW mv AS SELECT sum(v) AS s FROM t",
		"CREATE TABLE ddl_log (tag text)",
		`CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.ddl_log VALUES (tg_tag); END $$`,
		"CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl()",
		"COMMENT ON EVENT TRIGGER log_ddl IS 'logs DDL'")
	if n := src.int(t, "SELECT count(*) FROM ddl_log"); n != 0 { // commands on event triggers fire none
		t.Fatalf("the source's ddl_log holds %d rows", n)
	}
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	for _, jobs := range []string{"1", "2"} {
		dst := pgDB(t)
		c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", jobs)
		if got := dst.str(t, "SELECT coalesce(string_agg(tag, ', '), '') FROM ddl_log"); got != "" {
			t.Errorf("--jobs %s: the restored ddl_log holds %q, want no row, as the source", jobs, got)
		}
		if n := dst.int(t, "SELECT count(*) FROM pg_event_trigger WHERE evtname = 'log_ddl'"); n != 1 {
			t.Errorf("--jobs %s: the event trigger was not restored", jobs)
		}
		if n := dst.int(t, "SELECT s FROM mv"); n != 30 {
			t.Errorf("--jobs %s: mv holds %d", jobs, n)
		}
	}
}
