package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/pack"
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
	hourly := func() {
		parent = backup(t, r, src, parent)
		done = append(done, hour{parent, export(t, src)})
	}
	hourly()
	logs := 0
	for i, stmts := range hours {
		exec(t, db, stmts...)
		hourly()
		for _, n := range rootTree(t, r, parent).Nodes {
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

// TestChangeLogChainNeverRestarts backs up hour after hour into a
// repository whose delta chains are short (max_delta_depth 2): a table's
// change log is always a delta against the previous hour's log, each one
// link deeper, and where that chain is full the backup writes a new base
// instead of a log stored against the first log (which would hold every
// change since it: docs/design.md, "Table change logs"). A chain's
// limit is 1 or 2 deltas, chosen by its root's ID, so a base comes every
// third or fourth hour: twelve hours hold at least three.
func TestChangeLogChainNeverRestarts(t *testing.T) {
	src, db := newDB(t, `CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`)
	tx, _ := db.Begin()
	for i := 1; i <= 20000; i++ {
		if _, err := tx.Exec(`INSERT INTO c VALUES (?, ?, ?)`, i, fmt.Sprintf("customer %d", i*7919%100000), fmt.Sprintf("c%d@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, _ := repotest.New(t, func(c *repo.Config, _ *repo.Options) { c.MaxDeltaDepth = 2 })
	var parent *repo.Snapshot
	logs, bases := 0, 0
	for h := 0; h < 12; h++ {
		if h > 0 {
			exec(t, db, fmt.Sprintf(`UPDATE c SET name = 'hour %d' WHERE id %% 1999 = %d`, h, h))
		}
		parent = backup(t, r, src, parent)
		for _, n := range rootTree(t, r, parent).Nodes {
			if n.Kind != repo.NodeTable {
				continue
			}
			if n.Log == nil {
				bases++
				continue
			}
			logs++
			b, err := r.LoadBlob(ctx, *n.Log)
			if err != nil {
				t.Fatal(err)
			}
			lg, err := repo.DecodeLog(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.DeltaDepth(*n.Log); got != int(lg.Depth)-1 {
				t.Errorf("hour %d: the log of depth %d is %d deltas from a plain blob, want %d (its chain restarted)", h, lg.Depth, got, lg.Depth-1)
			}
		}
	}
	if logs < 3 || bases < 3 {
		t.Errorf("%d logs and %d bases in 12 hours, want logs and, where chains are full, new bases", logs, bases)
	}
}

// TestSchemaNodeIsDelta: a later hour's schema.json, which differs from
// its parent's in the row counts, is stored as a delta against the
// parent's (it cost some 2.6 KB of every hour of make bench-db, about 4%
// of the floor, stored whole).
func TestSchemaNodeIsDelta(t *testing.T) {
	src, db := newDB(t, `CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT)`)
	for i := 1; i <= 100; i++ {
		exec(t, db, fmt.Sprintf(`INSERT INTO c VALUES (%d, 'c%d')`, i, i))
	}
	r, _ := repotest.New(t)
	var parent *repo.Snapshot
	var schemas []pack.ID
	for h := 0; h < 2; h++ {
		if h > 0 {
			exec(t, db, `INSERT INTO c VALUES (101, 'new')`)
		}
		parent = backup(t, r, src, parent)
		for _, n := range rootTree(t, r, parent).Nodes {
			if n.Name == dbexport.SchemaNode {
				if len(n.Content) != 1 {
					t.Fatalf("schema.json in %d chunks", len(n.Content))
				}
				schemas = append(schemas, n.Content[0])
			}
		}
	}
	if len(schemas) != 2 || schemas[0] == schemas[1] {
		t.Fatalf("schema.json blobs %v: want two that differ", schemas)
	}
	loc, ok := r.Index().Lookup(schemas[1])
	if !ok || loc.Compression != pack.Delta || loc.Base != schemas[0] {
		t.Errorf("the second hour's schema.json is stored as %v against %s, want a delta against the first's", loc.Compression, loc.Base.Short())
	}
}
