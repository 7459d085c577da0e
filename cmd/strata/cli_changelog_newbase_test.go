package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// These tests back up a table whose change log outgrows its bound (1/8 of
// the base's bytes, docs/design.md, "Table change logs") part way through
// the export: the backup stops the log and exports the table again as a
// new base, inside the same database snapshot. The PostgreSQL COPY used
// to be cut off there, which closed the connection holding the snapshot,
// so that backup and every later one failed with "conn closed".

// newBaseRows is the table's size: about 2.4 MB of COPY text, so that
// what is left of the export when the log stops (three quarters) is far
// more than the buffers between the server and the chunker hold.
const newBaseRows = 60000

// newBaseHash is a hash of t's rows in key order, and their count.
func newBaseHash(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d|%s\n", id, v)
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d rows %s", n, hex.EncodeToString(h.Sum(nil)))
}

func runChangeLogNewBase(t *testing.T, src logDB) {
	c := newCLI(t)
	c.ok("init")
	exec := func(stmts ...string) {
		t.Helper()
		for _, q := range stmts {
			if _, err := src.db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(80))`)
	for start := 1; start <= newBaseRows; start += 5000 {
		vals := make([]string, 0, 5000)
		for i := start; i < start+5000; i++ {
			vals = append(vals, fmt.Sprintf("(%d, '%x')", i, sha256.Sum224([]byte(fmt.Sprint(i)))))
		}
		exec(`INSERT INTO t VALUES ` + strings.Join(vals, ","))
	}
	var want []string
	backup := func(label string) {
		t.Helper()
		if _, stderr, code := c.run("backup", "--db", src.dsn); code != 0 {
			t.Fatalf("backup %s: exit %d: %s", label, code, stderr)
		}
		want = append(want, newBaseHash(t, src.db))
	}
	backup("of the new table")
	// A quarter of the rows, the first ones, rewritten: a log of about
	// twice its bound, found too large long before the export's end.
	exec(fmt.Sprintf(`UPDATE t SET v = '%s' WHERE id <= %d`, strings.Repeat("rewritten ", 7), newBaseRows/4))
	backup("after a quarter of the rows changed")
	exec(`UPDATE t SET v = 'one row' WHERE id = 50000`)
	backup("after one more row changed")

	sns := c.snapshots()
	if len(sns) != 3 {
		t.Fatalf("%d snapshots, want 3", len(sns))
	}
	trees := make([]string, len(sns))
	for i, sn := range sns {
		trees[i] = c.ok("cat", "tree", sn.Tree)
	}
	if strings.Contains(trees[1], `"log":`) || !strings.Contains(trees[2], `"log":`) {
		t.Errorf("want a new base in the second snapshot and a change log in the third:\n%s\n%s", trees[1], trees[2])
	}
	for i, sn := range sns {
		d := src.fresh(t)
		c.ok("restore", sn.ID, "--db", d.dsn)
		if got := newBaseHash(t, d.db); got != want[i] {
			t.Errorf("snapshot %s (backup %d) restores %s, the source held %s", sn.ID, i+1, got, want[i])
		}
	}
	c.check()
}

func TestChangeLogNewBasePostgres(t *testing.T) {
	runChangeLogNewBase(t, pgLogDB(t))
}

func TestChangeLogNewBaseMariaDB(t *testing.T) {
	runChangeLogNewBase(t, mariaLogDB(t))
}

func TestChangeLogNewBaseSQLite(t *testing.T) {
	runChangeLogNewBase(t, sqliteLogDB(t))
}
