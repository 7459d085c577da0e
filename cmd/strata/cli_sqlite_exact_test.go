package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// exactValues holds a value of every storage class, chosen where SQLite
// and COPY text are easy to confuse.
var exactValues = []any{
	nil,
	int64(0), int64(1), int64(-1), int64(3), int64(math.MinInt64), int64(math.MaxInt64),
	0.5, 3.0, math.Copysign(0, -1), 1e308, -1e308, math.Inf(1), math.Inf(-1),
	5e-324, 2.2250738585072014e-308 / 4, 0.1, 123456.0, 1e15,
	"", "3", "-0", "007", "3.0", "1e+308", "1e308", "Infinity", "-Infinity", "NaN",
	`\N`, "a\tb\nc\rd", `\x00`, `\x`, " 42", "héllo", `back\slash`,
	[]byte{}, []byte{0}, []byte{0xff, '\n', '\t', '\\'}, []byte("123"), []byte(`\x41`),
}

// exactTables is one table per kind of column; every value of
// exactValues is stored in each (where STRICT allows it).
var exactTables = []struct{ name, ddl string }{
	{"untyped", `CREATE TABLE untyped (k INTEGER PRIMARY KEY, v)`},
	{"strict_any", `CREATE TABLE strict_any (k INTEGER PRIMARY KEY, v ANY) STRICT`},
	{"numeric", `CREATE TABLE numeric (k INTEGER PRIMARY KEY, v NUMERIC)`},
	{"integer", `CREATE TABLE integer (k INTEGER PRIMARY KEY, v INTEGER)`},
	{"real", `CREATE TABLE real (k INTEGER PRIMARY KEY, v REAL)`},
	{"text", `CREATE TABLE text (k INTEGER PRIMARY KEY, v TEXT)`},
	{"blob", `CREATE TABLE blob (k INTEGER PRIMARY KEY, v BLOB)`},
	{"without_rowid", `CREATE TABLE without_rowid (k INTEGER PRIMARY KEY, v) WITHOUT ROWID`},
	{"no_alias", `CREATE TABLE no_alias (k INT, v)`},
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// cells reads q's rows as "typeof|value" strings, floats by their bits.
func cells(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			switch v := v.(type) {
			case nil:
				parts = append(parts, "null")
			case int64:
				parts = append(parts, fmt.Sprintf("integer %d", v))
			case float64:
				parts = append(parts, fmt.Sprintf("real %g %016x", v, math.Float64bits(v)))
			case string:
				parts = append(parts, fmt.Sprintf("text %q", v))
			case []byte:
				parts = append(parts, fmt.Sprintf("blob %x", v))
			default:
				parts = append(parts, fmt.Sprintf("%T %v", v, v))
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLiteExactRoundTrip: every value of every storage class, in every
// kind of column, comes back from a backup and restore through the CLI
// with the same typeof() and the same value, bit for bit.
func TestSQLiteExactRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "src.db")
	db := openSQLite(t, src)
	for _, tab := range exactTables {
		execAll(t, db, tab.ddl)
		k := 0
		for _, v := range exactValues {
			k++
			if _, err := db.Exec(fmt.Sprintf("INSERT INTO %s (k, v) VALUES (?, ?)", tab.name), k, v); err != nil {
				t.Fatalf("%s: insert %#v: %v", tab.name, v, err)
			}
		}
	}
	// Values stored from SQL literals, not bound parameters.
	execAll(t, db, `INSERT INTO untyped (k, v) VALUES (1000, 1e308), (1001, '1e308'), (1002, x''), (1003, 9223372036854775807), (1004, -9223372036854775808), (1005, 9.0), (1006, CAST('12' AS BLOB))`)

	query := func(name string) string {
		if name == "no_alias" {
			return "SELECT rowid, typeof(k), k, typeof(v), v FROM no_alias ORDER BY rowid"
		}
		return fmt.Sprintf("SELECT k, typeof(v), v FROM %s ORDER BY k", name)
	}
	want := map[string][]string{}
	for _, tab := range exactTables {
		want[tab.name] = cells(t, db, query(tab.name))
	}
	first := c.ok("backup", "--db", "sqlite://"+src)
	// The same rows give the same bytes: a second backup adds nothing.
	if again := c.ok("backup", "--db", "sqlite://"+src); !strings.Contains(again, "Tables: 0 new, 0 changed, 9 unmodified") || !strings.Contains(again, "Added to the repository: 0 B") {
		t.Errorf("a backup of the unchanged file:\n%s\n(the first:\n%s)", again, first)
	}
	out := filepath.Join(t.TempDir(), "out.db")
	c.ok("restore", "latest", "--db", "sqlite://"+out)
	rdb := openSQLite(t, out)
	for _, tab := range exactTables {
		got := cells(t, rdb, query(tab.name))
		if !reflect.DeepEqual(got, want[tab.name]) {
			for i := range max(len(got), len(want[tab.name])) {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want[tab.name]) {
					w = want[tab.name][i]
				}
				if g != w {
					t.Errorf("%s row %d: restored %s, was %s", tab.name, i, g, w)
				}
			}
		}
	}
	// The restored file exports to the same bytes, table by table.
	if drill := c.ok("verify", "drill", "latest", "--same-engine"); !strings.Contains(drill, "drill passed") {
		t.Errorf("same-engine drill:\n%s", drill)
	}
	c.check()
}

// TestSQLiteRowIDKept: a rowid table without an INTEGER PRIMARY KEY keeps
// the rowids of its rows, gaps and all; so does one keyed by a TEXT
// primary key.
func TestSQLiteRowIDKept(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "src.db")
	db := openSQLite(t, src)
	execAll(t, db,
		`CREATE TABLE log (msg TEXT)`,
		`CREATE TABLE named (code TEXT PRIMARY KEY, n INT)`,
		`CREATE TABLE shadowed (rowid TEXT, n INT)`,
		// SQLite's exception: this key is not the rowid.
		`CREATE TABLE quirk (x INTEGER PRIMARY KEY DESC, y TEXT)`,
		`INSERT INTO quirk (rowid, x, y) VALUES (100, 1, 'a'), (50, 2, 'b')`,
		`INSERT INTO log (rowid, msg) VALUES (5, 'a'), (6, 'b'), (70, 'b'), (9000000000, 'c')`,
		`INSERT INTO named (rowid, code, n) VALUES (42, 'x', 1), (7, 'y', 2)`,
		`INSERT INTO shadowed (_rowid_, rowid, n) VALUES (11, 'r', 1), (3, 's', 2)`,
	)
	queries := []string{
		`SELECT rowid, msg FROM log ORDER BY rowid`,
		`SELECT rowid, code, n FROM named ORDER BY rowid`,
		`SELECT _rowid_, rowid, n FROM shadowed ORDER BY _rowid_`,
		`SELECT rowid, x, y FROM quirk ORDER BY rowid`,
	}
	var want [][]string
	for _, q := range queries {
		want = append(want, cells(t, db, q))
	}
	c.ok("backup", "--db", "sqlite://"+src)
	out := filepath.Join(t.TempDir(), "out.db")
	c.ok("restore", "latest", "--db", "sqlite://"+out)
	rdb := openSQLite(t, out)
	for i, q := range queries {
		if got := cells(t, rdb, q); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("%s:\nrestored %q\nwas      %q", q, got, want[i])
		}
	}
	// The rowid is a column of the dump, as the rows are keyed by it.
	if csv := c.ok("dump", "latest", "log", "--format", "csv"); !strings.HasPrefix(csv, "rowid,msg\n5,a\n6,b\n70,b\n9000000000,c\n") {
		t.Errorf("csv dump of log:\n%s", csv)
	}
	c.check()
}

// TestSQLiteSchemaRestored: user_version, application_id, the page
// size, auto_vacuum and WAL mode (into a new file), indexes,
// triggers (on tables and on views), views, a virtual table and the
// AUTOINCREMENT position come back, and work.
func TestSQLiteSchemaRestored(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "src.db")
	db := openSQLite(t, src)
	execAll(t, db,
		`PRAGMA page_size = 8192`,
		`PRAGMA auto_vacuum = INCREMENTAL`,
		`PRAGMA journal_mode = WAL`,
		`PRAGMA user_version = 42`,
		`PRAGMA application_id = 1398035009`,
		`CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price REAL)`,
		`CREATE TABLE audit (id INTEGER PRIMARY KEY, item_id INT, what TEXT)`,
		`CREATE UNIQUE INDEX item_name ON item(name)`,
		`CREATE INDEX item_price ON item(price) WHERE price > 0`,
		`CREATE TRIGGER item_added AFTER INSERT ON item BEGIN INSERT INTO audit (item_id, what) VALUES (new.id, 'added'); END`,
		`CREATE VIEW cheap AS SELECT id, name FROM item WHERE price < 10`,
		`CREATE VIEW cheap_names AS SELECT name FROM cheap`,
		`CREATE TRIGGER cheap_insert INSTEAD OF INSERT ON cheap BEGIN INSERT INTO item (name, price) VALUES (new.name, 1); END`,
		`CREATE VIRTUAL TABLE notes USING fts5(body)`,
		`INSERT INTO item (name, price) VALUES ('a', 1), ('b', 20), ('c', 5)`,
		`DELETE FROM item WHERE name = 'c'`, // the sequence stays at 3
		`INSERT INTO notes (rowid, body) VALUES (10, 'hello strata'), (20, 'goodbye')`,
	)
	schemaQ := `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`
	queries := []string{
		schemaQ,
		`PRAGMA user_version`,
		`PRAGMA application_id`,
		`PRAGMA page_size`,
		`PRAGMA auto_vacuum`,
		`PRAGMA journal_mode`,
		`SELECT name, seq FROM sqlite_sequence ORDER BY name`,
		`SELECT * FROM audit ORDER BY id`,
		`SELECT rowid, body FROM notes WHERE notes MATCH 'strata'`,
		`SELECT * FROM cheap_names ORDER BY name`,
	}
	var want [][]string
	for _, q := range queries {
		want = append(want, cells(t, db, q))
	}
	out := c.ok("backup", "--db", "sqlite://"+src)
	if strings.Contains(out, "notes_") {
		t.Errorf("backup saved the virtual table's shadow tables:\n%s", out)
	}
	target := filepath.Join(t.TempDir(), "out.db")
	c.ok("restore", "latest", "--db", "sqlite://"+target)
	rdb := openSQLite(t, target)
	for i, q := range queries {
		if got := cells(t, rdb, q); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("%s:\nrestored %q\nwas      %q", q, got, want[i])
		}
	}
	// The restored triggers and sequence work as the source's do.
	for _, d := range []*sql.DB{db, rdb} {
		execAll(t, d, `INSERT INTO cheap (name) VALUES ('d')`)
	}
	for _, q := range []string{`SELECT id, name FROM item ORDER BY id`, `SELECT * FROM audit ORDER BY id`} {
		if got, w := cells(t, rdb, q), cells(t, db, q); !reflect.DeepEqual(got, w) {
			t.Errorf("after an insert through the view, %s:\nrestored %q\nsource   %q", q, got, w)
		}
	}
	if drill := c.ok("verify", "drill", "latest", "--same-engine"); !strings.Contains(drill, "drill passed") {
		t.Errorf("same-engine drill:\n%s", drill)
	}
	c.check()
}

// TestSQLiteNotCapturedNamed: what a SQLite snapshot leaves out is named
// by the backup, recorded in the snapshot, and named again by the
// restore.
func TestSQLiteNotCapturedNamed(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "src.db")
	db := openSQLite(t, src)
	execAll(t, db,
		`CREATE TABLE t (a INT, b TEXT)`,
		`CREATE INDEX t_a ON t(a)`,
		`INSERT INTO t VALUES (1, 'x'), (2, 'y')`,
		`ANALYZE`,
	)
	_, errOut, code := c.run("backup", "--db", "sqlite://"+src)
	const what = "the statistics of ANALYZE (sqlite_stat1, sqlite_stat4) are not saved"
	if code != 0 || !strings.Contains(errOut, what) {
		t.Fatalf("backup: exit %d, stderr:\n%s", code, errOut)
	}
	schema := c.ok("dump", "latest", "/schema.json")
	if !strings.Contains(schema, `"not_captured"`) || !strings.Contains(schema, what) {
		t.Errorf("schema.json records no not_captured:\n%s", schema)
	}
	_, errOut, code = c.run("restore", "latest", "--db", "sqlite://"+filepath.Join(t.TempDir(), "out.db"))
	if code != 0 || !strings.Contains(errOut, "not recreated: "+what) {
		t.Errorf("restore: exit %d, stderr:\n%s", code, errOut)
	}
	c.check()
}

// TestSQLiteTypedDumps: a dump of typed rows writes plain COPY text (tsv,
// without the TEXT tag) and typed JSON (numbers stay numbers in a column
// without a type).
func TestSQLiteTypedDumps(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "src.db")
	db := openSQLite(t, src)
	execAll(t, db,
		`CREATE TABLE t (k INTEGER PRIMARY KEY, v)`,
		`INSERT INTO t VALUES (1, 3), (2, '3'), (3, 2.5), (4, x'00ff'), (5, NULL), (6, 'a b')`,
	)
	c.ok("backup", "--db", "sqlite://"+src)
	if got, want := c.ok("dump", "latest", "t", "--format", "tsv"), "1\t3\n2\t3\n3\t2.5\n4\t\\\\x00ff\n5\t\\N\n6\ta b\n"; got != want {
		t.Errorf("tsv:\n%q\nwant\n%q", got, want)
	}
	want := `{"k":1,"v":3}
{"k":2,"v":"3"}
{"k":3,"v":2.5}
{"k":4,"v":"\\x00ff"}
{"k":5,"v":null}
{"k":6,"v":"a b"}
`
	if got := c.ok("dump", "latest", "t", "--format", "jsonl"); got != want {
		t.Errorf("jsonl:\n%s\nwant\n%s", got, want)
	}
	if got := c.ok("dump", "latest", "/t"); !bytes.Contains([]byte(got), []byte("2\t\\T3\n")) {
		t.Errorf("the stored rows do not tag the text '3':\n%q", got)
	}
}

// v1FixtureQueries read the restore of testdata/sqlite-row-encoding-1: a
// repository whose one snapshot was written, by strata as of commit
// 29272f1, in the first row encoding (no row_encoding, untyped COPY
// text), with restored.golden what that strata restored from it.
var v1FixtureQueries = []string{
	`SELECT id, typeof(name), name, typeof(price), price, typeof(qty), qty, typeof(data), data, typeof(note), note FROM item ORDER BY id`,
	`SELECT typeof(tag), tag, typeof(weight), weight FROM tags ORDER BY tag, weight`,
	`SELECT name, seq FROM sqlite_sequence`,
	`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`,
}

// TestSQLiteRowEncoding1Restores: a snapshot of the first row encoding
// restores as the strata that wrote it restored it, value for value.
func TestSQLiteRowEncoding1Restores(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	copyDir(t, filepath.Join("testdata", "sqlite-row-encoding-1", "repo"), c.repo)
	for _, d := range []string{"locks", "protect", "policy"} {
		if err := os.MkdirAll(filepath.Join(c.repo, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "sqlite-row-encoding-1", "restored.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if schema := c.ok("dump", "latest", "/schema.json"); strings.Contains(schema, "row_encoding") {
		t.Fatalf("the fixture is not of the first row encoding:\n%s", schema)
	}
	out := filepath.Join(t.TempDir(), "out.db")
	c.ok("restore", "latest", "--db", "sqlite://"+out)
	rdb := openSQLite(t, out)
	var lines []string
	for _, q := range v1FixtureQueries {
		lines = append(lines, q)
		for _, l := range cells(t, rdb, q) {
			lines = append(lines, "  "+l)
		}
	}
	if got := strings.Join(lines, "\n") + "\n"; got != string(golden) {
		t.Errorf("restored:\n%s\nwant (restored.golden):\n%s", got, golden)
	}
	c.check()
}

// TestWideIntegersIntoSQLite: integers beyond int64 from MariaDB (bigint
// unsigned, bit(64)) and PostgreSQL (numeric) come into SQLite exactly,
// as TEXT in columns declared TEXT, not as rounded REALs.
func TestWideIntegersIntoSQLite(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	m := mariaDB(t)
	m.exec(t,
		`CREATE TABLE wide (id int PRIMARY KEY, u bigint unsigned, b bit(64), s bigint)`,
		`INSERT INTO wide VALUES (1, 18446744073709551615, b'1111111111111111111111111111111111111111111111111111111111111111', -9223372036854775808), (2, 5, b'101', 7)`,
	)
	p := pgDB(t)
	p.exec(t,
		`CREATE TABLE wide (id int PRIMARY KEY, n numeric, n0 numeric(30,0))`,
		`INSERT INTO wide VALUES (1, 123456789012345678901234567890, 99999999999999999999), (2, 5, 5)`,
	)
	for _, tc := range []struct {
		dsn, table string
		want       []string
	}{
		{m.dsn, "SELECT typeof(u), u, typeof(b), b, typeof(s), s FROM wide ORDER BY id", []string{
			`text "text" | text "18446744073709551615" | text "text" | text "18446744073709551615" | text "integer" | integer -9223372036854775808`,
			`text "text" | text "5" | text "text" | text "5" | text "integer" | integer 7`,
		}},
		{p.dsn, "SELECT typeof(n), n, typeof(n0), n0 FROM wide ORDER BY id", []string{
			`text "text" | text "123456789012345678901234567890" | text "text" | text "99999999999999999999"`,
			`text "text" | text "5" | text "text" | text "5"`,
		}},
	} {
		c.ok("backup", "--db", tc.dsn)
		out := filepath.Join(t.TempDir(), "out.db")
		c.ok("restore", "latest", "--source", tc.dsn, "--db", "sqlite://"+out)
		rdb := openSQLite(t, out)
		if got := cells(t, rdb, tc.table); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s into SQLite:\n%q\nwant\n%q", tc.dsn, got, tc.want)
		}
		var decl string
		if err := rdb.QueryRow(`SELECT group_concat(type, ',') FROM pragma_table_info('wide') WHERE name IN ('u', 'b', 'n', 'n0')`).Scan(&decl); err != nil || strings.Contains(decl, "INT") {
			t.Errorf("%s: declared types %q (%v), want TEXT for the wide columns", tc.dsn, decl, err)
		}
	}
}

// TestSQLiteUTF16RoundTrip: a UTF-16 file comes back as a UTF-16 file of
// the same byte order, with the same text, byte for byte as stored
// (hex() of a text shows the file's encoding). Before the text encoding
// was recorded, the restored file was UTF-8.
func TestSQLiteUTF16RoundTrip(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"UTF-16le", "UTF-16be"} {
		t.Run(enc, func(t *testing.T) {
			c := newCLI(t)
			c.ok("init")
			src := filepath.Join(t.TempDir(), "src.db")
			db := openSQLite(t, src)
			db.SetMaxOpenConns(1) // the encoding is set on the connection that creates the file
			execAll(t, db,
				fmt.Sprintf("PRAGMA encoding = '%s'", enc),
				`CREATE TABLE notes (k INTEGER PRIMARY KEY, v, t TEXT)`,
				`INSERT INTO notes VALUES (1, 'héllo', '日本語'), (2, '😀 outside the BMP', ''), (3, x'00ff', 'a'||char(0)||'b'), (4, 42, '3.5')`,
				`CREATE VIEW shouting AS SELECT k, upper(v) AS v FROM notes`,
			)
			q := `SELECT k, typeof(v), v, hex(v), t, hex(t) FROM notes ORDER BY k`
			want := cells(t, db, q)
			c.ok("backup", "--db", "sqlite://"+src)
			out := filepath.Join(t.TempDir(), "out.db")
			c.ok("restore", "latest", "--db", "sqlite://"+out)
			rdb := openSQLite(t, out)
			if got := cells(t, rdb, "PRAGMA encoding"); !reflect.DeepEqual(got, []string{fmt.Sprintf("text %q", enc)}) {
				t.Errorf("restored file's encoding: %v, want %s", got, enc)
			}
			if got := cells(t, rdb, q); !reflect.DeepEqual(got, want) {
				t.Errorf("restored rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if drill := c.ok("verify", "drill", "latest", "--same-engine"); !strings.Contains(drill, "drill passed") {
				t.Errorf("same-engine drill:\n%s", drill)
			}
			c.check()
		})
	}
}
