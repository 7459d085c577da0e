package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/repo"
	"strata/repo/repotest"
)

// TestChangeLogHours backs up a database hour after hour with inserts,
// updates and deletes (a row deleted and inserted again, the first and
// last rows changed, rows inserted before the first, a run of rows
// deleted, a table without a key emptied and refilled with duplicates),
// checks that later hours write change logs (docs/design.md, "Table
// change logs") and that every snapshot restores to the rows the source
// held at its hour.
func TestChangeLogHours(t *testing.T) {
	src, db := newDB(t,
		`CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT)`,
		`CREATE TABLE nokey (x INTEGER, y TEXT)`,
	)
	tx, _ := db.Begin()
	for i := 1; i <= 30000; i++ {
		if _, err := tx.Exec(`INSERT INTO c VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("customer %d", i*7919%100000), fmt.Sprintf("c%d@example.com", i), strings.Repeat("n", i%40)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3000; i++ {
		if _, err := tx.Exec(`INSERT INTO nokey VALUES (?, ?)`, i%50, fmt.Sprintf("v%d", i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	hours := [][]string{
		{`UPDATE c SET name = 'h1' WHERE id IN (17, 9000, 23000, 29999)`, `INSERT INTO c VALUES (30001, 'new', 'new@example.com', '')`, `DELETE FROM c WHERE id IN (5, 12000)`},
		{`INSERT INTO c VALUES (5, 'back again', 'b@example.com', 'x')`, `UPDATE c SET note = 'first' WHERE id = 1`, `UPDATE c SET note = 'last' WHERE id = 30001`, `INSERT INTO nokey VALUES (3, 'v3'), (3, 'v3')`},
		{`INSERT INTO c VALUES (0, 'before all', 'z@example.com', ''), (-5, 'even before', 'y@example.com', '')`, `UPDATE c SET name = 'h3' WHERE id % 997 = 0`},
		{`DELETE FROM c WHERE id BETWEEN 14000 AND 15500`, `DELETE FROM nokey`},
		{`INSERT INTO nokey VALUES (1, 'a'), (1, 'a'), (2, NULL)`, `DELETE FROM c WHERE id = -5`, `UPDATE c SET email = 'e' || id WHERE id BETWEEN 20000 AND 20040`},
		{`DELETE FROM c WHERE id = 0`, `UPDATE c SET name = 'h6' WHERE id = 1`},
	}
	r, _ := repotest.New(t)
	var parent *repo.Snapshot
	type hour struct {
		sn   *repo.Snapshot
		want map[string]string
	}
	var done []hour
	backup := func() {
		s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sn, err := dbexport.Backup(ctx, r, s, dbexport.BackupOptions{Source: "sqlite://" + src, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		parent = sn
		done = append(done, hour{sn, export(t, src)})
	}
	backup()
	logs := 0
	for i, stmts := range hours {
		exec(t, db, stmts...)
		backup()
		tr, err := r.LoadTree(ctx, parent.Tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tr.Nodes {
			if n.Log != nil {
				logs++
			}
		}
		if i == 0 && parent.Summary.BytesAdded > done[0].sn.Summary.BytesAdded/20 {
			t.Errorf("hour 1 added %d bytes, hour 0 %d", parent.Summary.BytesAdded, done[0].sn.Summary.BytesAdded)
		}
	}
	if logs < len(hours) {
		t.Errorf("%d table nodes with change logs in %d hours, want at least one an hour", logs, len(hours))
	}
	for i, h := range done {
		dst := filepath.Join(t.TempDir(), "restored.db")
		target, err := sqlite.OpenTarget(ctx, dsn(dst))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := dbexport.Restore(ctx, r, h.sn.Tree, target, dbexport.RestoreOptions{}); err != nil {
			t.Fatalf("hour %d: %v", i, err)
		}
		target.Close()
		got := export(t, dst)
		for name, want := range h.want {
			if got[name] != want {
				t.Errorf("hour %d: table %s restored differs (%d bytes, want %d)", i, name, len(got[name]), len(want))
			}
		}
	}
}
