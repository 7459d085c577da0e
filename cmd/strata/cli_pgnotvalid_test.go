package main

import (
	"strings"
	"testing"
)

// A table reloaded in place by a partial restore keeps its constraints,
// and the constraints set aside while it loads come back as they were:
// CHECKs marked NOT VALID (of the table and of a domain of its columns)
// that the snapshot's rows break do not stop the restore (the restore
// failed on them: "new row for relation t violates check constraint"),
// and the comments of the constraints set aside stay (the foreign key
// another table holds on it lost its comment).
func TestRestoreInPlaceNotValidChecks(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE DOMAIN code AS text`,
		`CREATE TABLE item (id integer PRIMARY KEY, c code, qty integer)`,
		`CREATE TABLE line (id integer PRIMARY KEY, item_id integer CONSTRAINT line_item_fk REFERENCES item)`,
		`INSERT INTO item VALUES (1, 'abc', 5), (2, 'ABC', 50)`,
		`INSERT INTO line VALUES (1, 2)`,
		`ALTER DOMAIN code ADD CONSTRAINT code_upper CHECK (VALUE ~ '^[A-Z]+$') NOT VALID`,
		`ALTER TABLE item ADD CONSTRAINT qty_small CHECK (qty < 10) NOT VALID`,
		`COMMENT ON CONSTRAINT code_upper ON DOMAIN code IS 'upper case from now on'`,
		`COMMENT ON CONSTRAINT qty_small ON item IS 'small from now on'`,
		`COMMENT ON CONSTRAINT line_item_fk ON line IS 'the item of a line'`,
	)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	wantRows := s.str(t, `SELECT string_agg(x::text, ',' ORDER BY id) FROM item x`)
	s.exec(t, `UPDATE item SET qty = 1, c = 'X'`)
	wantSchema := pgDump(t, s.dsn, "--schema-only")

	_, errOut, code := c.run("restore", "latest", "--db", s.dsn, "--tables", "public.item", "--replace", "--no-safety-snapshot")
	if code != 0 {
		t.Fatalf("restore --tables public.item --replace: exit %d: %s", code, errOut)
	}
	if got := s.str(t, `SELECT string_agg(x::text, ',' ORDER BY id) FROM item x`); got != wantRows {
		t.Errorf("item holds %s, want the snapshot's %s", got, wantRows)
	}
	if got := pgDump(t, s.dsn, "--schema-only"); got != wantSchema {
		t.Errorf("pg_dump --schema-only after the partial restore differs:\n%s", diffLines(wantSchema, got))
	}
	for _, q := range []string{
		`INSERT INTO item VALUES (3, 'abc', 1)`,
		`INSERT INTO item VALUES (3, 'ABC', 11)`,
	} {
		if _, err := s.db.Exec(q); err == nil || !strings.Contains(err.Error(), "check constraint") {
			t.Errorf("%s: %v, want a check constraint's error (the checks hold new rows again)", q, err)
		}
	}
}

// The drills of a faithful restore pass on what PostgreSQL allows a
// source to hold: rows older than a key or check added NOT VALID that
// break it, and a table others inherit from, whose own rows the snapshot
// holds (both drills failed it: "1 row references a missing parent
// row", "rows fail CHECK", "4 rows restored, the snapshot has 2").
func TestDrillNotValidAndInheritance(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE TABLE animal (id integer PRIMARY KEY, name text)`,
		`CREATE TABLE dog (bark text) INHERITS (animal)`,
		`CREATE TABLE owner (id integer PRIMARY KEY, animal_id integer, age integer)`,
		`INSERT INTO animal VALUES (1, 'cat'), (2, 'cow')`,
		`INSERT INTO dog VALUES (3, 'rex', 'woof'), (4, 'fido', 'wuff')`,
		`INSERT INTO owner VALUES (1, 1, 30), (2, 99, 7)`,
		`ALTER TABLE owner ADD CONSTRAINT owner_animal_fk FOREIGN KEY (animal_id) REFERENCES animal NOT VALID`,
		`ALTER TABLE owner ADD CONSTRAINT owner_adult CHECK (age >= 18) NOT VALID`,
	)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	for _, args := range [][]string{{"verify", "drill", "latest"}, {"verify", "drill", "--same-engine", "latest"}} {
		out, errOut, code := c.run(args...)
		if code != 0 || !strings.Contains(out, "drill passed") {
			t.Errorf("%s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
		}
		if !strings.Contains(out, "owner_animal_fk to animal not checked: it is NOT VALID") {
			t.Errorf("%s does not say that it left the NOT VALID key out:\n%s", strings.Join(args, " "), out)
		}
	}
}

// A role that is not a superuser restores a whole snapshot into its own
// database, as pg_restore would: objects of roles it is not a member of
// belong to it, each role counted in a notice, and a default privilege
// of such a role is skipped and named (the restore failed: "create
// SCHEMA shop: must be member of role ...", and with --no-owner on the
// default privilege).
func TestPostgresRestoreAsOwnerOfDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src, role := everyObjectDB(t)
	src.exec(t, "ALTER TABLE shop.counter OWNER TO "+role,
		"ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO "+role)
	c.ok("backup", "--db", src.dsn)

	login := role + "_login"
	src.exec(t, "CREATE ROLE "+login+" LOGIN")
	dst := pgDB(t)
	t.Cleanup(func() { src.db.Exec("DROP ROLE IF EXISTS " + login) }) // after dst is dropped
	dbName := dst.str(t, "SELECT current_database()")
	dst.exec(t, "ALTER DATABASE "+dbName+" OWNER TO "+login)
	me := src.str(t, "SELECT current_user")
	dsn := strings.Replace(dst.dsn, "postgres://"+me+"@", "postgres://"+login+"@", 1)
	for _, flags := range [][]string{nil, {"--no-owner"}} {
		dst.exec(t, "DROP SCHEMA IF EXISTS shop CASCADE", "DROP EXTENSION IF EXISTS citext", "DROP EXTENSION IF EXISTS pgcrypto", "DROP EXTENSION IF EXISTS btree_gist")
		_, errOut, code := c.run(append([]string{"restore", "latest", "--db", dsn, "--source", src.dsn}, flags...)...)
		if code != 0 {
			t.Fatalf("restore %v as the database's owner: exit %d: %s", flags, code, errOut)
		}
		if !strings.Contains(errOut, "not restored: ALTER DEFAULT PRIVILEGES FOR ROLE "+me) {
			t.Errorf("restore %v does not name the default privilege it skipped:\n%s", flags, errOut)
		}
		if flags == nil && !strings.Contains(errOut, "role "+role+" is not one the restoring role is a member of") {
			t.Errorf("restore does not say that the objects of %s belong to the restoring role:\n%s", role, errOut)
		}
		if got := dst.str(t, "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'shop.counter'::regclass"); got != login {
			t.Errorf("restore %v: shop.counter belongs to %s, want the restoring role %s", flags, got, login)
		}
		sameHashes(t, contentHashes(t, src), contentHashes(t, dst))
	}
}

// A restore of every table over them re-creates a table that a rule of
// another restored table writes to: the rule goes and comes back with
// its own table (the check refused it: "table public.logs must be
// re-created ..., but public.parent, which the restore does not bring
// back, read it").
func TestPostgresReplaceAllRuleOnAnotherTable(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE TABLE logs (id serial PRIMARY KEY, msg text)`,
		`CREATE TABLE parent (id integer PRIMARY KEY)`,
		`CREATE RULE log_ins AS ON INSERT TO parent DO ALSO INSERT INTO logs (msg) VALUES ('parent ' || NEW.id)`,
		`INSERT INTO parent VALUES (1), (2)`,
	)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	wantSchema := pgDump(t, s.dsn, "--schema-only")
	s.exec(t, `INSERT INTO parent VALUES (3)`)
	_, errOut, code := c.run("restore", "latest", "--db", s.dsn, "--replace", "--no-safety-snapshot")
	if code != 0 {
		t.Fatalf("restore --replace of every table: exit %d: %s", code, errOut)
	}
	if got := s.str(t, `SELECT string_agg(msg, ',' ORDER BY id) FROM logs`); got != "parent 1,parent 2" {
		t.Errorf("logs holds %s, want the snapshot's parent 1,parent 2", got)
	}
	if got := pgDump(t, s.dsn, "--schema-only"); got != wantSchema {
		t.Errorf("pg_dump --schema-only after the restore differs:\n%s", diffLines(wantSchema, got))
	}
}
