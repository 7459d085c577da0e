package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// These tests back up a database hour after hour, so that later hours
// write table change logs (docs/design.md, "Table change logs"), and
// restore every snapshot, after check, after forget and prune of some,
// and after a copy to another repository, comparing each with the rows the
// source held at its hour.

// logDB is a database of one engine: its DSN and handle, and how to make
// an empty one to restore into.
type logDB struct {
	dsn   string
	db    *sql.DB
	fresh func(t *testing.T) logDB
	// readers: also compare diff, history and dump --key-range with
	// what full dumps say.
	readers bool
}

// changeLogHours are the hours' statements: scattered updates, inserts at
// the end and before the first row, a row deleted and inserted again, the
// first and last rows changed, a run of rows deleted, a table without a
// key emptied and refilled with duplicate rows.
var changeLogHours = [][]string{
	{`UPDATE c SET name = 'h1' WHERE id IN (17, 5000, 11999)`, `INSERT INTO c VALUES (12001, 'new', 'n')`, `DELETE FROM c WHERE id IN (5, 6000)`},
	{`INSERT INTO c VALUES (5, 'back', 'b')`, `UPDATE c SET note = 'first' WHERE id = 1`, `UPDATE c SET note = 'last' WHERE id = 12001`, `INSERT INTO nokey VALUES (3, 'v3'), (3, 'v3')`},
	{`INSERT INTO c VALUES (0, 'before', 'z')`, `UPDATE c SET name = 'h3' WHERE id % 997 = 0`},
	{`DELETE FROM c WHERE id BETWEEN 7000 AND 8500`, `DELETE FROM nokey`},
	{`INSERT INTO nokey VALUES (1, 'a'), (1, 'a'), (2, NULL)`, `UPDATE c SET note = 'x' WHERE id BETWEEN 3000 AND 3040`, `DELETE FROM c WHERE id = 0`},
}

// fillLogDB creates and fills the tables of the test.
func fillLogDB(t *testing.T, d logDB) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE c (id INTEGER PRIMARY KEY, name VARCHAR(60), note VARCHAR(60))`,
		`CREATE TABLE nokey (x INTEGER, y VARCHAR(20))`,
	} {
		if _, err := d.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for start := 1; start <= 12000; start += 1000 {
		var vals []string
		for i := start; i < start+1000; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'customer %d', 'note %s')", i, i*7919%100000, strings.Repeat("n", i%30)))
		}
		if _, err := d.db.Exec(`INSERT INTO c VALUES ` + strings.Join(vals, ",")); err != nil {
			t.Fatal(err)
		}
	}
	var vals []string
	for i := 0; i < 600; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'v%d')", i%40, i%7))
	}
	if _, err := d.db.Exec(`INSERT INTO nokey VALUES ` + strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
}

// logDBHash is a hash of both tables' rows, in key order.
func logDBHash(t *testing.T, db *sql.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{`SELECT id, name, note FROM c ORDER BY id`, `SELECT x, y, '' FROM nokey ORDER BY x, y`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n := 0
		for rows.Next() {
			var a, b, c sql.NullString
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%v|%v|%v\n", a, b, c)
			n++
		}
		rows.Close()
		fmt.Fprintf(h, "%d rows\n", n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func runChangeLogHours(t *testing.T, src logDB) {
	c := newCLI(t)
	c.ok("init")
	fillLogDB(t, src)
	var want []string
	backup := func() {
		c.ok("backup", "--db", src.dsn)
		want = append(want, logDBHash(t, src.db))
	}
	backup()
	for _, stmts := range changeLogHours {
		for _, q := range stmts {
			if _, err := src.db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		backup()
	}
	sns := c.snapshots()
	if len(sns) != len(want) {
		t.Fatalf("%d snapshots, want %d", len(sns), len(want))
	}
	restoreAll := func(c *tcli, label string, ids []string, hours []int) {
		t.Helper()
		for i, id := range ids {
			d := src.fresh(t)
			c.ok("restore", id, "--db", d.dsn)
			if got := logDBHash(t, d.db); got != want[hours[i]] {
				t.Errorf("%s: snapshot %s (hour %d) restores other rows than the source held", label, id, hours[i])
			}
		}
	}
	var ids []string
	var hours []int
	for i, sn := range sns {
		ids, hours = append(ids, sn.ID), append(hours, i)
	}
	restoreAll(c, "after the backups", ids, hours)
	logs := 0
	for _, sn := range sns {
		if strings.Contains(c.ok("cat", "tree", sn.Tree), `"log":`) {
			logs++
		}
	}
	if logs < 3 {
		t.Errorf("%d of %d snapshots have a table with a change log, want at least 3", logs, len(sns))
	}
	if src.readers {
		checkLogReaders(t, c, ids)
	}
	c.check()

	// Forget the middle hours, whose logs later ones were stored
	// against, prune, and restore the rest.
	c.ok("forget", "--prune", ids[2], ids[3])
	c.check()
	kept := []string{ids[0], ids[1], ids[4], ids[5]}
	restoreAll(c, "after forget --prune", kept, []int{0, 1, 4, 5})

	// Copy to a repository of another key and restore there.
	dst := newCLI(t)
	dst.vars["STRATA_FROM_REPOSITORY"] = c.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = c.pwFile
	dst.ok("init")
	dst.ok("copy")
	var copied []string
	for _, sn := range dst.snapshots() {
		copied = append(copied, sn.ID)
	}
	restoreAll(dst, "after copy", copied, []int{0, 1, 4, 5})
	dst.check()
	// A backup into the copy writes against the copied logs.
	if _, err := src.db.Exec(`UPDATE c SET name = 'after copy' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	dst.ok("backup", "--db", src.dsn)
	want = append(want, logDBHash(t, src.db))
	last := dst.snapshots()
	restoreAll(dst, "a backup after copy", []string{last[len(last)-1].ID}, []int{len(want) - 1})
}

// checkLogReaders compares, on snapshots with change logs, what diff,
// history and dump --key-range say with what full dumps of the snapshots
// hold.
func checkLogReaders(t *testing.T, c *tcli, ids []string) {
	t.Helper()
	rows := func(id string) map[string]string {
		out := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(c.ok("dump", id, "c", "--format", "jsonl")), "\n") {
			var r map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("dump: %q: %v", line, err)
			}
			out[string(r["id"])] = line
		}
		return out
	}
	dumps := make([]map[string]string, len(ids))
	for i, id := range ids {
		dumps[i] = rows(id)
	}
	// diff of each hour against the one before, and of the first against
	// the last: the changes the dumps differ by.
	pairs := [][2]int{{0, len(ids) - 1}}
	for i := 1; i < len(ids); i++ {
		pairs = append(pairs, [2]int{i - 1, i})
	}
	for _, p := range pairs {
		a, b := dumps[p[0]], dumps[p[1]]
		want := map[string]bool{}
		for k, v := range a {
			if w, ok := b[k]; !ok {
				want["delete "+k] = true
			} else if w != v {
				want["update "+k] = true
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				want["insert "+k] = true
			}
		}
		got := map[string]bool{}
		out := strings.TrimSpace(c.ok("diff", ids[p[0]], ids[p[1]], "--format", "jsonl", "--tables", "c"))
		for _, line := range strings.Split(out, "\n") {
			if line == "" {
				continue
			}
			var ch struct {
				Op  string                     `json:"op"`
				Key map[string]json.RawMessage `json:"key"`
			}
			if err := json.Unmarshal([]byte(line), &ch); err != nil {
				t.Fatalf("diff: %q: %v", line, err)
			}
			got[ch.Op+" "+string(ch.Key["id"])] = true
		}
		if !maps.Equal(got, want) {
			t.Errorf("diff of hours %d and %d: %d changes, the dumps differ by %d", p[0], p[1], len(got), len(want))
		}
	}
	// history of a row deleted and inserted again, and of the first row.
	for key, want := range map[string]string{"5": "present,delete,insert again", "1": "present,update", "0": "insert,delete"} {
		ops, _ := historyOps(t, c.ok("history", "c", "--key", key, "--format", "jsonl"))
		if got := strings.Join(ops, ","); got != want {
			t.Errorf("history of key %s: %s, want %s", key, got, want)
		}
	}
	// dump --key-range against the full dump filtered, including rows
	// inserted before the first row of the base.
	for _, id := range ids {
		full := c.ok("dump", id, "c", "--format", "tsv")
		for _, rng := range [][3]int64{{-10, 3}, {0, 0}, {6990, 8600}, {11990, 20000}, {4990, 5010}} {
			got := c.ok("dump", id, "c", "--format", "tsv", "--key-range", fmt.Sprintf("%d..%d", rng[0], rng[1]))
			want := filterDump(t, "tsv", full, []int{0}, []string{"id"}, func(k []int64) bool { return k[0] >= rng[0] && k[0] <= rng[1] })
			if got != want {
				t.Errorf("snapshot %s: dump --key-range %d..%d: %d bytes, want %d", id, rng[0], rng[1], len(got), len(want))
			}
		}
	}
}

func TestChangeLogSQLite(t *testing.T) {
	d := sqliteLogDB(t)
	d.readers = true
	runChangeLogHours(t, d)
}

// pgLogDB, mariaLogDB and sqliteLogDB make a new empty database of
// their engine, dropped when the test ends.
func pgLogDB(t *testing.T) logDB {
	s := pgDB(t)
	return logDB{dsn: s.dsn, db: s.db, fresh: pgLogDB}
}

func mariaLogDB(t *testing.T) logDB {
	s := mariaDB(t)
	return logDB{dsn: s.dsn, db: s.db, fresh: mariaLogDB}
}

func sqliteLogDB(t *testing.T) logDB {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return logDB{dsn: "sqlite://" + path, db: db, fresh: sqliteLogDB}
}

func TestChangeLogPostgres(t *testing.T) {
	runChangeLogHours(t, pgLogDB(t))
}

func TestChangeLogMariaDB(t *testing.T) {
	runChangeLogHours(t, mariaLogDB(t))
}
