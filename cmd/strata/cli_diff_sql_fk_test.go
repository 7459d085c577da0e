package main

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests apply diff --format sql where foreign keys act (a parent's
// delete cascades, sets NULL, or an update cascades) and where rows swap
// a unique value: the order of deletes, updates and inserts alone loses
// rows B keeps or fails on a constraint.

// fkDiffSchema is the schema of the foreign key tests, per engine: the
// text type and the engine's trailing table options.
func fkDiffSchema(text, opts string) []string {
	return []string{
		`CREATE TABLE customers (id int PRIMARY KEY, email ` + text + ` NOT NULL UNIQUE)` + opts,
		// Moved to another customer, then the old one deleted: the cascade
		// must not reach them.
		`CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, note ` + text + `,
			FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE ON UPDATE CASCADE)` + opts,
		// Unchanged, below orders that a cascade would remove.
		`CREATE TABLE items (id int PRIMARY KEY, order_id int NOT NULL, sku ` + text + `,
			FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE)` + opts,
		`CREATE TABLE notes (id int PRIMARY KEY, customer_id int, body ` + text + `,
			FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL)` + opts,
		// By a unique column that passes from a deleted row to a new one.
		`CREATE TABLE mail (id int PRIMARY KEY, email ` + text + ` NOT NULL,
			FOREIGN KEY (email) REFERENCES customers(email) ON DELETE CASCADE ON UPDATE CASCADE)` + opts,
		`CREATE TABLE staff (id int PRIMARY KEY, boss int, FOREIGN KEY (boss) REFERENCES staff(id) ON DELETE SET NULL)` + opts,
	}
}

// fkDiffChanges are the changes between A and B; seq is a table of 1..N
// rows named i, as the engine writes one.
var fkDiffChanges = []string{
	`UPDATE orders SET customer_id = 5 WHERE customer_id = 20`,
	`DELETE FROM customers WHERE id = 20`,
	`UPDATE notes SET customer_id = 31 WHERE customer_id = 30`,
	`DELETE FROM customers WHERE id = 30`,
	`UPDATE customers SET email = 'moving' WHERE id = 40`,
	`INSERT INTO customers VALUES (1000, 'c40')`,
	`UPDATE mail SET email = 'c40' WHERE email = 'moving'`,
	`DELETE FROM customers WHERE id = 40`,
	`INSERT INTO staff VALUES (502, NULL)`,
	`INSERT INTO staff VALUES (501, 502)`,
	`UPDATE staff SET boss = 501 WHERE id = 3`,
}

var fkDiffTables = []string{"customers", "orders", "notes", "mail", "staff"}

// fkDiffRows fills the tables from a table seq(i) of 1..800.
var fkDiffRows = []string{
	`INSERT INTO customers SELECT i, CONCAT('c', i) FROM seq WHERE i <= 200`,
	`INSERT INTO orders SELECT i, MOD(i, 200) + 1, CONCAT('order ', i) FROM seq WHERE i <= 400`,
	`INSERT INTO items SELECT i, MOD(i, 400) + 1, CONCAT('sku', i) FROM seq`,
	`INSERT INTO notes SELECT i, i, 'note' FROM seq WHERE i <= 200`,
	`INSERT INTO mail SELECT i, CONCAT('c', i) FROM seq WHERE i <= 200`,
	`INSERT INTO staff SELECT i, NULL FROM seq WHERE i <= 50`,
}

// swapDiffSchema and swapDiffChanges: rows that swap and rotate values
// of a unique column, one of them referenced by another table.
func swapDiffSchema(text, opts string) []string {
	return []string{
		`CREATE TABLE users (id int PRIMARY KEY, login ` + text + ` NOT NULL UNIQUE, n int)` + opts,
		`CREATE TABLE logins (id int PRIMARY KEY, user_id int NOT NULL, FOREIGN KEY (user_id) REFERENCES users(id))` + opts,
		`INSERT INTO users SELECT i, CONCAT('u', i), i FROM seq WHERE i <= 100`,
		`INSERT INTO logins SELECT i, MOD(i, 100) + 1 FROM seq WHERE i <= 300`,
	}
}

var swapDiffChanges = []string{
	`UPDATE users SET login = 'tmp' WHERE id = 1`,
	`UPDATE users SET login = 'u1', n = 0 WHERE id = 2`,
	`UPDATE users SET login = 'u2' WHERE id = 1`,
	`UPDATE users SET login = 'tmp' WHERE id = 3`,
	`UPDATE users SET login = 'u3' WHERE id = 5`,
	`UPDATE users SET login = 'u5' WHERE id = 4`,
	`UPDATE users SET login = 'u4' WHERE id = 3`,
	`UPDATE users SET n = -1 WHERE id = 50`,
}

// seqTable creates seq(i) holding 1..800.
func seqTable(t *testing.T, db serverDB, opts string) {
	db.exec(t, `CREATE TABLE seq (i int PRIMARY KEY)`+opts)
	var vals []string
	for i := 1; i <= 800; i++ {
		vals = append(vals, "("+strconv.Itoa(i)+")")
	}
	db.exec(t, `INSERT INTO seq VALUES `+strings.Join(vals, ","))
}

func sqliteDiffSource(t *testing.T) serverDB {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	s := serverDB{dsn: "sqlite://" + path, db: db}
	seqTable(t, s, "")
	return s
}

func sqliteDiffTarget(t *testing.T) (string, func(string)) {
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
}

func pgDiffTarget(t *testing.T) (string, func(string)) {
	db := pgDB(t)
	return db.dsn, func(script string) {
		runClient(t, script, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.dsn)
	}
}

func mariaDiffTarget(t *testing.T) (string, func(string)) {
	db := mariaDB(t)
	u, err := url.Parse(db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db.dsn, func(script string) {
		runClient(t, script, "mariadb", "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), strings.TrimPrefix(u.Path, "/"))
	}
}

// sqliteConcat rewrites CONCAT(a, b) as SQLite's a || b.
func sqliteConcat(stmts []string) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		s = strings.ReplaceAll(s, "CONCAT('c', i)", "'c' || i")
		s = strings.ReplaceAll(s, "CONCAT('u', i)", "'u' || i")
		s = strings.ReplaceAll(s, "CONCAT('order ', i)", "'order ' || i")
		s = strings.ReplaceAll(s, "CONCAT('sku', i)", "'sku' || i")
		out[i] = strings.ReplaceAll(s, "MOD(i, ", "(i % ")
	}
	return out
}

func TestDiffSQLCascadesSQLite(t *testing.T) {
	t.Parallel()
	src := sqliteDiffSource(t)
	src.exec(t, fkDiffSchema("text", "")...)
	src.exec(t, sqliteConcat(fkDiffRows)...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: fkDiffTables, changes: fkDiffChanges, keep: []string{"items"}, target: sqliteDiffTarget})
}

func TestDiffSQLCascadesPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	seqTable(t, src, "")
	src.exec(t, fkDiffSchema("text", "")...)
	src.exec(t, fkDiffRows...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: qualify(fkDiffTables), changes: fkDiffChanges, keep: qualify([]string{"items"}), target: pgDiffTarget})
}

func TestDiffSQLCascadesMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	seqTable(t, src, " ENGINE=InnoDB")
	src.exec(t, fkDiffSchema("varchar(40)", " ENGINE=InnoDB")...)
	src.exec(t, fkDiffRows...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: fkDiffTables, changes: fkDiffChanges, keep: []string{"items"}, target: mariaDiffTarget})
}

func TestDiffSQLUniqueSwapSQLite(t *testing.T) {
	t.Parallel()
	src := sqliteDiffSource(t)
	src.exec(t, sqliteConcat(swapDiffSchema("text", ""))...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"users"}, changes: swapDiffChanges, keep: []string{"logins"}, target: sqliteDiffTarget})
}

func TestDiffSQLUniqueSwapPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	seqTable(t, src, "")
	src.exec(t, swapDiffSchema("text", "")...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"public.users"}, changes: swapDiffChanges, keep: []string{"public.logins"}, target: pgDiffTarget})
}

func TestDiffSQLUniqueSwapMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	seqTable(t, src, " ENGINE=InnoDB")
	src.exec(t, swapDiffSchema("varchar(40)", " ENGINE=InnoDB")...)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"users"}, changes: swapDiffChanges, keep: []string{"logins"}, target: mariaDiffTarget})
}

func qualify(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "public." + n
	}
	return out
}

// filterDiffSchema: rows of p swap a unique email, which the script
// writes as a delete and an insert; c, left out of the diff by a filter,
// references p with ON DELETE CASCADE, and must keep its rows.
var filterDiffSchema = []string{
	`CREATE TABLE p (id int PRIMARY KEY, email varchar(20) NOT NULL UNIQUE)`,
	`CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p(id) ON DELETE CASCADE)`,
	`CREATE TABLE n (id int PRIMARY KEY, pid int REFERENCES p(id) ON DELETE SET NULL)`,
	`INSERT INTO p VALUES (1, 'a'), (2, 'b')`,
	`INSERT INTO c VALUES (10, 1), (20, 2)`,
	`INSERT INTO n VALUES (10, 1), (20, 2)`,
}

var filterDiffChanges = []string{
	`UPDATE p SET email = 'tmp' WHERE id = 1`,
	`UPDATE p SET email = 'a' WHERE id = 2`,
	`UPDATE p SET email = 'b' WHERE id = 1`,
}

// runFilterDiff applies the diff of p alone, picked by --tables and
// by --exclude-tables, to a restore of A; prefix is the schema the
// engine names tables with.
func runFilterDiff(t *testing.T, source func(t *testing.T) serverDB, prefix string, target func(t *testing.T) (string, func(string))) {
	p, c, n := prefix+"p", prefix+"c", prefix+"n"
	for _, args := range [][]string{{"--tables", p}, {"--exclude-tables", c + "," + n}} {
		src := source(t)
		src.exec(t, filterDiffSchema...)
		runSQLDiff(t, sqlDiffCase{src: src, tables: []string{p}, changes: filterDiffChanges,
			keep: []string{c, n}, args: args, target: target})
	}
}

func TestDiffSQLFilterKeepsChildrenPostgres(t *testing.T) {
	t.Parallel()
	runFilterDiff(t, pgDB, "public.", pgDiffTarget)
}

func TestDiffSQLFilterKeepsChildrenSQLite(t *testing.T) {
	t.Parallel()
	runFilterDiff(t, sqliteDiffSource, "", sqliteDiffTarget)
}

func TestDiffSQLFilterKeepsChildrenMariaDB(t *testing.T) {
	t.Parallel()
	runFilterDiff(t, mariaDB, "", mariaDiffTarget)
}

// seqDiffChanges move a table's counter past its last row (the row
// inserted then deleted) and, where the engine has them, a sequence no
// table owns; after the diff both must stand where B's do.
var seqDiffChanges = []string{
	`INSERT INTO s (v) VALUES ('x'), ('y'), ('z')`,
	`DELETE FROM s WHERE v = 'z'`,
	`DELETE FROM s WHERE v = 'a'`,
}

func TestDiffSQLSequencesPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t, `CREATE TABLE s (id serial PRIMARY KEY, v text)`,
		`CREATE TABLE i (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text)`,
		`CREATE SEQUENCE free`, `INSERT INTO s (v) VALUES ('a'), ('b')`, `INSERT INTO i (v) VALUES ('a')`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"public.s", "public.i"}, target: pgDiffTarget,
		changes: append([]string{`SELECT nextval('free')`, `INSERT INTO i (v) VALUES ('b'), ('c')`}, seqDiffChanges...)})
}

func TestDiffSQLSequencesSQLite(t *testing.T) {
	t.Parallel()
	src := sqliteDiffSource(t)
	src.exec(t, `CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT, v text)`, `INSERT INTO s (v) VALUES ('a'), ('b')`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"s"}, changes: seqDiffChanges, target: sqliteDiffTarget})
}

func TestDiffSQLSequencesMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t, `CREATE TABLE s (id int AUTO_INCREMENT PRIMARY KEY, v text) ENGINE=InnoDB`,
		`CREATE SEQUENCE free`, `INSERT INTO s (v) VALUES ('a'), ('b')`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"s"}, target: mariaDiffTarget,
		changes: append([]string{`SELECT NEXTVAL(free)`}, seqDiffChanges...)})
}

// A psql whose client encoding is not UTF-8 (PGCLIENTENCODING, or a
// LATIN1 locale) still reads the script's text as the UTF-8 it is.
func TestDiffSQLClientEncodingPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t, `CREATE TABLE names (id int PRIMARY KEY, name text)`, `INSERT INTO names VALUES (1, 'Ada')`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"public.names"},
		changes: []string{`INSERT INTO names VALUES (2, 'Éva')`, `UPDATE names SET name = 'Zoë' WHERE id = 1`},
		target: func(t *testing.T) (string, func(string)) {
			db := pgDB(t)
			return db.dsn, func(script string) {
				runClientEnv(t, []string{"PGCLIENTENCODING=LATIN1"}, script, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.dsn)
			}
		}})
}

// genDiffChanges insert, update and delete rows of tables with generated
// columns, one keyed and one without a key; the server computes those
// columns, and the script must not write them.
var genDiffChanges = []string{
	`INSERT INTO g (id, a) VALUES (3, 30)`,
	`UPDATE g SET a = 11 WHERE id = 1`,
	`DELETE FROM g WHERE id = 2`,
	`INSERT INTO gl (a) VALUES (30)`,
	`DELETE FROM gl WHERE a = 20`,
}

func TestDiffSQLGeneratedColumnsPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t, `CREATE TABLE g (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED)`,
		`CREATE TABLE gl (a int, b int GENERATED ALWAYS AS (a + 1) STORED)`,
		`INSERT INTO g (id, a) VALUES (1, 10), (2, 20)`, `INSERT INTO gl (a) VALUES (10), (20)`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"public.g", "public.gl"}, changes: genDiffChanges, target: pgDiffTarget})
}

func TestDiffSQLGeneratedColumnsMariaDB(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t, `CREATE TABLE g (id int PRIMARY KEY, a int, b int AS (a * 2) VIRTUAL, c int AS (a + 1) STORED) ENGINE=InnoDB`,
		`CREATE TABLE gl (a int, b int AS (a + 1) STORED) ENGINE=InnoDB`,
		`INSERT INTO g (id, a) VALUES (1, 10), (2, 20)`, `INSERT INTO gl (a) VALUES (10), (20)`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"g", "gl"}, changes: genDiffChanges, target: mariaDiffTarget})
}

// A table without a key is deleted from by every column, and json,
// xml and the geometric types have no equality operator (box's compares
// areas): the script compares their text.
func TestDiffSQLKeylessNoEqualityPostgres(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t, `CREATE TABLE ev (j json, p point, x xml, b box, n int)`,
		`INSERT INTO ev VALUES ('{"a":  1}', '(1,2)', '<a>1</a>', '(1,1),(0,0)', 1),
			('{"a":  2}', '(3,4.5)', '<a>2</a>', '(2,2),(0,0)', 2), ('[1, 2]', NULL, NULL, '(1,4),(0,0)', 3)`)
	runSQLDiff(t, sqlDiffCase{src: src, tables: []string{"public.ev"}, target: pgDiffTarget,
		changes: []string{`DELETE FROM ev WHERE n = 2`, `DELETE FROM ev WHERE n = 3`, `INSERT INTO ev VALUES ('{}', '(0,0)', '<b/>', '(2,2),(0,0)', 4)`}})
}
