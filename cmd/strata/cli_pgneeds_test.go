package main

import (
	"strings"
	"testing"
)

// A restore of some PostgreSQL tables creates, from the schema archive,
// what the tables need and the target lacks (docs/design.md, "Restore
// from the schema archive"): the schema, enum, domain, composite type,
// collation, extensions (also one only an exclusion constraint's
// operator class needs), functions of defaults, checks and triggers, the
// free sequence a default draws from; it keeps what the target has, and
// refreshes the materialized views over the tables it reloads.

// neededObjects is a schema whose table app.item needs objects that
// belong to no table.
var neededObjects = []string{
	"CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public",
	"CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public",
	"CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public",
	"CREATE SCHEMA app",
	"COMMENT ON SCHEMA app IS 'the app'",
	"CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy')",
	"CREATE DOMAIN app.score AS integer CONSTRAINT score_positive CHECK (VALUE >= 0)",
	"COMMENT ON DOMAIN app.score IS 'never negative'",
	"CREATE TYPE app.point2 AS (x integer, y integer)",
	"CREATE COLLATION app.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
	"CREATE SEQUENCE app.serials START 1000",
	"CREATE FUNCTION app.new_code() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'c-' || md5(random()::text) $$",
	"CREATE FUNCTION app.valid_code(c text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT c LIKE 'c-%' $$",
	"COMMENT ON FUNCTION app.valid_code(text) IS 'codes start with c-'",
	"CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$",
	`CREATE TABLE app.item (
		id integer PRIMARY KEY,
		email public.citext NOT NULL UNIQUE,
		name text COLLATE app.nocase,
		mood app.mood DEFAULT 'ok',
		score app.score,
		at app.point2,
		code text DEFAULT app.new_code() CONSTRAINT item_code_valid CHECK (app.valid_code(code)),
		token bytea DEFAULT public.gen_random_bytes(4),
		serial bigint DEFAULT nextval('app.serials'),
		touched timestamptz,
		during tstzrange,
		CONSTRAINT item_no_overlap EXCLUDE USING gist (id WITH =, during WITH &&))`,
	"CREATE INDEX item_name ON app.item (lower(name))",
	"CREATE TRIGGER item_touch BEFORE UPDATE ON app.item FOR EACH ROW EXECUTE FUNCTION app.touch()",
	"COMMENT ON TABLE app.item IS 'things'",
	"CREATE TABLE app.other (id integer PRIMARY KEY, mood app.mood)",
	"CREATE MATERIALIZED VIEW app.moods AS SELECT mood, count(*) AS n FROM app.item GROUP BY mood",
	"CREATE MATERIALIZED VIEW app.top_mood AS SELECT mood FROM app.moods ORDER BY n DESC, mood LIMIT 1",
	"CREATE MATERIALIZED VIEW app.unfilled AS SELECT id FROM app.item WITH NO DATA",
	"CREATE UNIQUE INDEX moods_mood ON app.moods (mood)",
	"COMMENT ON MATERIALIZED VIEW app.moods IS 'rows per mood'",
	"CREATE VIEW app.top AS SELECT mood FROM app.top_mood",
	`INSERT INTO app.item (id, email, name, mood, score, at, code) VALUES
		(1, 'A@x.org', 'Ann', 'happy', 3, '(1,2)', 'c-1'),
		(2, 'b@x.org', 'bob', 'sad', 0, NULL, 'c-2'),
		(3, 'c@x.org', NULL, 'sad', NULL, '(3,4)', 'c-3')`,
	"INSERT INTO app.other VALUES (1, 'ok')",
	"REFRESH MATERIALIZED VIEW app.moods",
	"REFRESH MATERIALIZED VIEW app.top_mood",
}

func TestPostgresPartialRestoreCreatesNeeds(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, neededObjects...)
	c.ok("backup", "--db", src.dsn)
	wantItem := pgDump(t, src.dsn, "--schema-only", "--table=app.item")
	wantHashes := contentHashes(t, src)
	serials := src.str(t, "SELECT last_value::text FROM app.serials")

	t.Run("empty target", func(t *testing.T) {
		dst := pgDB(t)
		_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "app.item")
		if code != 0 {
			t.Fatalf("restore --tables app.item into an empty database: exit %d: %s", code, errOut)
		}
		for _, want := range []string{"created, as the restored tables need them", "TYPE app.mood", "DOMAIN app.score", "EXTENSION citext", "FUNCTION app.valid_code(text)",
			// Its exclusion constraint takes an operator class of
			// btree_gist, which pg_dump does not record as a dependency.
			"EXTENSION btree_gist"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("restore does not say %q:\n%s", want, errOut)
			}
		}
		if got := pgDump(t, dst.dsn, "--schema-only", "--table=app.item"); got != wantItem {
			t.Errorf("pg_dump --schema-only --table=app.item of the target differs:\n%s", diffLines(wantItem, got))
		}
		if got := contentHashes(t, dst)["app.item"]; got != wantHashes["app.item"] {
			t.Errorf("rows of app.item: %q, want %q", got, wantHashes["app.item"])
		}
		for q, want := range map[string]string{
			"SELECT obj_description('app'::regnamespace, 'pg_namespace')":             "the app",
			"SELECT obj_description('app.score'::regtype, 'pg_type')":                 "never negative",
			"SELECT obj_description('app.valid_code(text)'::regprocedure)":            "codes start with c-",
			"SELECT last_value::text FROM app.serials":                                serials,
			"SELECT count(*)::text FROM pg_class WHERE relname IN ('other', 'moods')": "0",
		} {
			if got := dst.str(t, q); got != want {
				t.Errorf("%s: %q, want %q", q, got, want)
			}
		}
		// The restored table works: its defaults, check and trigger.
		dst.exec(t, "INSERT INTO app.item (id, email) VALUES (4, 'd@x.org')", "UPDATE app.item SET name = 'x' WHERE id = 4")
		if n := dst.int(t, "SELECT count(*) FROM app.item WHERE id = 4 AND touched IS NOT NULL AND serial = "+serials+" + 1"); n != 1 {
			t.Errorf("the defaults or trigger of the restored app.item do not work")
		}
	})

	t.Run("target has some", func(t *testing.T) {
		// What the target holds is kept as it is: the schema's comment,
		// the enum and the function; the rest is created.
		dst := pgDB(t)
		dst.exec(t, "CREATE SCHEMA app", "COMMENT ON SCHEMA app IS 'mine'",
			"CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy')",
			"CREATE FUNCTION app.valid_code(c text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT c LIKE 'c%' $$",
			"CREATE EXTENSION citext WITH SCHEMA public")
		_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "app.item")
		if code != 0 {
			t.Fatalf("restore --tables app.item into a database holding some of what it needs: exit %d: %s", code, errOut)
		}
		created, kept, _ := strings.Cut(errOut, "kept as the target has them")
		if strings.Contains(created, "TYPE app.mood") || !strings.Contains(created, "DOMAIN app.score") {
			t.Errorf("restore names the wrong objects as created:\n%s", errOut)
		}
		// What it kept is said, not silent: the function's body differs.
		for _, want := range []string{"TYPE app.mood", "FUNCTION app.valid_code(text)", "SCHEMA app", "EXTENSION citext"} {
			if !strings.Contains(kept, want) {
				t.Errorf("restore does not name %s as kept:\n%s", want, errOut)
			}
		}
		for q, want := range map[string]string{
			"SELECT obj_description('app'::regnamespace, 'pg_namespace')":                    "mine",
			"SELECT prosrc FROM pg_proc WHERE proname = 'valid_code'":                        " SELECT c LIKE 'c%' ",
			"SELECT coalesce(obj_description('app.valid_code(text)'::regprocedure), 'none')": "none",
		} {
			if got := dst.str(t, q); got != want {
				t.Errorf("%s: %q, want %q", q, got, want)
			}
		}
		if got := contentHashes(t, dst)["app.item"]; got != wantHashes["app.item"] {
			t.Errorf("rows of app.item: %q, want %q", got, wantHashes["app.item"])
		}
	})

	t.Run("reload in place refreshes materialized views", func(t *testing.T) {
		if testing.Short() {
			t.Skip("make test-long runs it")
		}
		dst := pgDB(t)
		c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
		dst.exec(t, "DELETE FROM app.item WHERE mood = 'sad'", "INSERT INTO app.item (id, email, mood, code) VALUES (9, 'z@x.org', 'ok', 'c-9')",
			"REFRESH MATERIALIZED VIEW app.moods", "REFRESH MATERIALIZED VIEW app.top_mood")
		_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--tables", "app.item", "--replace", "--no-safety-snapshot")
		if code != 0 {
			t.Fatalf("restore --tables app.item --replace: exit %d: %s", code, errOut)
		}
		got := contentHashes(t, dst)
		for _, n := range []string{"app.item", "app.moods", "app.top_mood"} {
			if got[n] != wantHashes[n] {
				t.Errorf("%s after the restore: %q, want %q", n, got[n], wantHashes[n])
			}
		}
		if n := dst.int(t, "SELECT relispopulated::int FROM pg_class WHERE oid = 'app.unfilled'::regclass"); n != 0 {
			t.Errorf("the restore filled app.unfilled, a materialized view left WITH NO DATA")
		}
	})
	t.Run("whole replace re-creates materialized views", func(t *testing.T) {
		if testing.Short() {
			t.Skip("make test-long runs it")
		}
		// The materialized views over the tables, and a view over one,
		// do not stop a replace of every table: they are re-created
		// from the archive and refreshed.
		dst := pgDB(t)
		c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
		dst.exec(t, "DELETE FROM app.item WHERE mood = 'sad'", "REFRESH MATERIALIZED VIEW app.moods", "REFRESH MATERIALIZED VIEW app.top_mood")
		_, errOut, code := c.run("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--replace", "--no-safety-snapshot")
		if code != 0 {
			t.Fatalf("restore --replace of every table: exit %d: %s", code, errOut)
		}
		want := pgDump(t, src.dsn)
		if got := pgDump(t, dst.dsn); got != want {
			t.Errorf("pg_dump of the target differs:\n%s", diffLines(want, got))
		}
		sameHashes(t, wantHashes, contentHashes(t, dst))
	})
}
