package main

import (
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests check diff --format sql on each engine the way a user
// would use it: back up A, change rows, back up B, restore A into a new
// database, apply the SQL with the engine's own client, and the tables of
// that database then export exactly as B's (strata's export is canonical,
// so equal dumps are equal rows).

// sqlDiffCase is one engine's database and how to apply SQL to another.
type sqlDiffCase struct {
	src     serverDB
	tables  []string
	changes []string
	// keep are tables the changes leave alone: after the diff they must
	// still equal A's (and B's).
	keep []string
	// args are more arguments of diff (--tables, --exclude-tables).
	args []string
	// target makes an empty database and returns its DSN and a function
	// that applies a SQL script to it.
	target func(t *testing.T) (string, func(script string))
}

func TestDiffSQLSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src := serverDB{dsn: "sqlite://" + path, db: db}
	src.exec(t,
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE, balance NUMERIC, note BLOB, score REAL)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL)`,
		`CREATE TABLE tags (name TEXT NOT NULL, v ANY, PRIMARY KEY (name)) WITHOUT ROWID`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 3000)
		 INSERT INTO customers SELECT i, 'user' || i || '@example.com', i * 1.25, NULL, i / 7.0 FROM s`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 3000)
		 INSERT INTO orders SELECT i, (i % 3000) + 1, i * 0.5 FROM s`,
		`INSERT INTO tags VALUES ('a', 1), ('b', 'text'), ('c', x'00')`,
	)
	runSQLDiff(t, sqlDiffCase{
		src:    src,
		tables: []string{"customers", "orders", "tags"},
		changes: []string{
			`INSERT INTO customers VALUES (5000, 'it''s "odd"	tab
newline \ back', NULL, x'00ff10', 9e999)`,
			`INSERT INTO orders VALUES (5000, 5000, -0.0)`,
			`UPDATE orders SET customer_id = 5000 WHERE id = 17`,
			`UPDATE customers SET email = NULL, note = 3.0, score = -9e999 WHERE id = 10`,
			`UPDATE customers SET note = 'x' || char(0) || 'y', balance = '12abc' WHERE id = 11`,
			`UPDATE customers SET note = 42 WHERE id = 2999`,
			`DELETE FROM orders WHERE customer_id = 20`,
			`DELETE FROM customers WHERE id = 20`,
			`UPDATE tags SET v = 2.5 WHERE name = 'a'`,
			`DELETE FROM tags WHERE name = 'c'`,
			`INSERT INTO tags VALUES ('d', NULL)`,
		},
		target: func(t *testing.T) (string, func(string)) {
			p := filepath.Join(t.TempDir(), "target.db")
			return "sqlite://" + p, func(script string) {
				db, err := sql.Open("sqlite", "file:"+p+"?_pragma=foreign_keys(1)")
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(script); err != nil {
					t.Fatalf("applying the diff: %v\n%s", err, script)
				}
			}
		},
	})
}

func TestDiffSQLPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t,
		`CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE, balance numeric(12,2), data bytea,
			tags text[], meta jsonb, seen timestamptz, score float8, active boolean)`,
		`CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			customer_id int NOT NULL REFERENCES customers(id) ON DELETE CASCADE, note text)`,
		`CREATE TABLE "odd ""name""" ("key" text PRIMARY KEY, "val ue" int)`,
		`CREATE TABLE log (msg text, n int)`,
		`INSERT INTO customers SELECT i, 'user' || i || '@example.com', i * 1.25, '\x0102'::bytea,
			ARRAY['a', 'b,c'], '{"k": 1}', '2025-06-17 13:00:00+00', i / 7.0, i % 2 = 0 FROM generate_series(1, 3000) i`,
		`INSERT INTO orders (customer_id, note) SELECT (i % 3000) + 1, 'order ' || i FROM generate_series(1, 3000) i`,
		`INSERT INTO "odd ""name""" VALUES ('k''1', 1), ('k2', 2)`,
		`INSERT INTO log VALUES ('dup', 1), ('dup', 1), ('dup', 1), ('one', NULL)`,
	)
	runSQLDiff(t, sqlDiffCase{
		src:    src,
		tables: []string{"public.customers", "public.orders", `public.odd "name"`, "public.log"},
		changes: []string{
			`INSERT INTO customers VALUES (5000, E'it''s "odd"\ttab\nnewline \\ back', NULL, '\x00ff'::bytea,
				ARRAY['x"y', NULL], '{"a": [1, null]}', NULL, 'Infinity', NULL)`,
			`INSERT INTO orders (customer_id, note) VALUES (5000, NULL)`,
			`UPDATE orders SET customer_id = 5000 WHERE id = 17`,
			`UPDATE customers SET email = NULL, score = 'NaN', data = NULL, tags = '{}' WHERE id = 10`,
			`DELETE FROM customers WHERE id = 20`,
			`UPDATE customers SET email = 'user20@example.com' WHERE id = 21`, // a unique value moves to another row
			`UPDATE customers SET email = 'gone' WHERE id = 30`,
			`INSERT INTO customers (id, email) VALUES (6000, 'user30@example.com')`, // and to a new row
			`UPDATE "odd ""name""" SET "val ue" = NULL WHERE "key" = 'k''1'`,
			`DELETE FROM log WHERE ctid = (SELECT ctid FROM log WHERE msg = 'dup' LIMIT 1)`,
			`INSERT INTO log VALUES ('one', NULL), ('new', 7)`,
		},
		target: func(t *testing.T) (string, func(string)) {
			db := pgDB(t)
			return db.dsn, func(script string) {
				runClient(t, script, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.dsn)
			}
		},
	})
}

func TestDiffSQLMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t,
		"CREATE TABLE customers (id int PRIMARY KEY, email varchar(100) UNIQUE, balance decimal(12,2), data blob,"+
			" score double, ratio float, flags bit(8), kind enum('a','b'), meta json, seen datetime(3)) ENGINE=InnoDB",
		"CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL,"+
			" note text, FOREIGN KEY (customer_id) REFERENCES customers(id)) ENGINE=InnoDB",
		"CREATE TABLE log (msg varchar(20), n int) ENGINE=InnoDB",
		"INSERT INTO customers SELECT seq, CONCAT('user', seq, '@example.com'), seq * 1.25, X'0102', seq / 7,"+
			" 1.1, b'101', 'a', '{\"k\": 1}', '2025-06-17 13:00:00.123' FROM seq_1_to_3000",
		"INSERT INTO orders (customer_id, note) SELECT (seq % 3000) + 1, CONCAT('order ', seq) FROM seq_1_to_3000",
		"INSERT INTO log VALUES ('dup', 1), ('dup', 1), ('one', NULL)",
	)
	runSQLDiff(t, sqlDiffCase{
		src:    src,
		tables: []string{"customers", "orders", "log"},
		changes: []string{
			"INSERT INTO customers VALUES (5000, 'it''s \"odd\"\ttab\nnewline \\\\ back é', NULL, X'00ff', 1e300, 3.4e38, b'11111111', 'b', NULL, NULL)",
			"INSERT INTO orders (customer_id, note) VALUES (5000, NULL)",
			"UPDATE orders SET customer_id = 5000 WHERE id = 17",
			"UPDATE customers SET email = NULL, ratio = 0.1, data = X'', kind = NULL WHERE id = 10",
			"DELETE FROM orders WHERE customer_id = 20",
			"DELETE FROM customers WHERE id = 20",
			"DELETE FROM log WHERE msg = 'dup' LIMIT 1",
			"INSERT INTO log VALUES ('one', NULL)",
		},
		target: func(t *testing.T) (string, func(string)) {
			db := mariaDB(t)
			u, err := url.Parse(db.dsn)
			if err != nil {
				t.Fatal(err)
			}
			return db.dsn, func(script string) {
				runClient(t, script, "mariadb", "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), strings.TrimPrefix(u.Path, "/"))
			}
		},
	})
}

// runClient feeds script to a database client on standard input.
func runClient(t *testing.T, script string, name string, args ...string) {
	t.Helper()
	runClientEnv(t, nil, script, name, args...)
}

// runClientEnv is runClient with more environment variables.
func runClientEnv(t *testing.T, env []string, script string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(append(os.Environ(), "PGOPTIONS=-c client_min_messages=warning"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s\nscript:\n%s", name, err, out, script)
	}
}

func runSQLDiff(t *testing.T, tc sqlDiffCase) {
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", tc.src.dsn, "--time", "2025-06-17 13:00:00")
	tc.src.exec(t, tc.changes...)
	c.ok("backup", "--db", tc.src.dsn, "--time", "2025-06-17 14:00:00")
	sns := c.snapshots()
	a, b := sns[0].ID, sns[1].ID

	script := c.ok(append([]string{"diff", a, b, "--format", "sql"}, tc.args...)...)
	targetDSN, apply := tc.target(t)
	c.ok("restore", a, "--db", targetDSN)
	apply(script)
	c.ok("backup", "--db", targetDSN, "--time", "2025-06-17 15:00:00")
	sns = c.snapshots()
	got := sns[2].ID
	for _, table := range tc.tables {
		want := c.ok("dump", b, table)
		if have := c.ok("dump", got, table); have != want {
			t.Errorf("table %s after applying the diff differs from B:\n%s\nB:\n%s\nscript:\n%s", table, tail(have), tail(want), script)
		}
		if before := c.ok("dump", a, table); before == want {
			t.Errorf("table %s: the changes did not change it; the test proves nothing", table)
		}
	}
	for _, table := range tc.keep {
		want := c.ok("dump", b, table)
		if have := c.ok("dump", got, table); have != want {
			t.Errorf("table %s, which the changes leave alone, differs from B after applying the diff:\n%s\nB:\n%s\nscript:\n%s", table, tail(have), tail(want), script)
		}
	}
	// And strata diff agrees: the result and B hold the same rows, and
	// their sequences stand where B's do.
	st := c.diffStat(got, b)
	for _, tb := range st.Tables {
		if tb.Added+tb.Deleted+tb.Modified != 0 {
			t.Errorf("diff of the result and B: %+v", tb)
		}
	}
	if len(st.Positions) != 0 {
		t.Errorf("the sequence positions of %v differ from B's after applying the diff:\n%s", st.Positions, script)
	}
}

// tail is the last lines of a dump, for messages.
func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 12 {
		lines = lines[len(lines)-12:]
	}
	return strings.Join(lines, "\n")
}
