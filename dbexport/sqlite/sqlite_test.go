package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/repotest"
)

var ctx = context.Background()

func dsn(path string) dbexport.DSN { return dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path} }

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func newDB(t *testing.T, stmts ...string) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, stmts...)
	return path, db
}

// backup backs up the database at src into r, the snapshot after parent
// (nil for the first), and returns the snapshot.
func backup(t *testing.T, r *repo.Repository, src string, parent *repo.Snapshot) *repo.Snapshot {
	t.Helper()
	s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sn, err := dbexport.Backup(ctx, r, s, dbexport.BackupOptions{Source: "sqlite://" + src, Parent: parent})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// rootTree returns the root tree of sn.
func rootTree(t *testing.T, r *repo.Repository, sn *repo.Snapshot) *repo.Tree {
	t.Helper()
	tr, err := r.LoadTree(ctx, sn.Tree)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// export returns every table's COPY text, keyed by table name.
func export(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := sqlite.Open(ctx, dsn(path), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s, err := src.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tab := range s.Tables {
		var b bytes.Buffer
		if _, err := src.CopyOut(ctx, tab, &b); err != nil {
			t.Fatal(err)
		}
		out[tab.Name] = b.String()
	}
	return out
}

var typesSchema = []string{
	`CREATE TABLE kinds (id INTEGER PRIMARY KEY AUTOINCREMENT, t TEXT, b BLOB, i INTEGER, r REAL, n NUMERIC, flag BOOLEAN, ts DATETIME, d DATE, j JSON)`,
	`CREATE TABLE pair (a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT DEFAULT 'x', PRIMARY KEY (a, b))`,
	`CREATE TABLE nokey (x INTEGER, y TEXT)`,
	`CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL CHECK (length(name) > 0))`,
	`CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), amount REAL CHECK (amount >= 0))`,
	`CREATE INDEX child_parent ON child(parent_id)`,
	`CREATE VIEW big AS SELECT * FROM child WHERE amount > 10`,
}

func fillTypes(t *testing.T, db *sql.DB) {
	t.Helper()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	rows := [][]any{
		{"", []byte{}, int64(0), 0.0, "0", true, "2025-06-17 14:00:00", "2025-06-17", `{"a":1}`},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{"tab\there\nnew line\\back\rcr", all, int64(math.MaxInt64), math.Inf(1), "12345678901234567890.123456789", false, "1999-12-31 23:59:59.999", "0001-01-01", `[1,"x",null]`},
		{"unicode: Grüße, 日本, 🙂", []byte("\\x41"), int64(math.MinInt64), math.Inf(-1), "-0.5", true, "2025-01-01T00:00:00Z", "2025-02-28", `{}`},
		{`\N`, []byte(`\N`), int64(-1), 1.0 / 3.0, "1e10", false, "x", "y", "not json"},
	}
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO kinds (t, b, i, r, n, flag, ts, d, j) VALUES (?,?,?,?,?,?,?,?,?)`, r...); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, db,
		`INSERT INTO pair VALUES (1, 'b', NULL), (1, 'a', 'x'), (2, '', '')`,
		`INSERT INTO nokey VALUES (2, 'b'), (1, NULL), (1, 'a'), (2, 'b')`,
		`INSERT INTO parent VALUES (1, 'one'), (2, 'two')`,
		`INSERT INTO child VALUES (1, 1, 5), (2, 2, 50), (3, NULL, 0)`,
	)
}

func TestRoundTripByteForByte(t *testing.T) {
	src, db := newDB(t, typesSchema...)
	fillTypes(t, db)
	before := export(t, src)
	if !strings.Contains(before["kinds"], `tab\there\nnew line\\back\rcr`) || !strings.Contains(before["kinds"], `\N`) {
		t.Fatalf("COPY text escapes missing:\n%s", before["kinds"])
	}

	r, _ := repotest.New(t)
	_, dst := backupAndRestore(t, r, src)
	after := export(t, dst)
	for name, want := range before {
		if after[name] != want {
			t.Errorf("table %s differs after restore:\nwant %q\ngot  %q", name, want, after[name])
		}
	}
	// Sequence position, view, index and constraints came back.
	rdb, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	exec(t, rdb, `INSERT INTO kinds (t) VALUES ('next')`)
	var id int64
	if err := rdb.QueryRow(`SELECT max(id) FROM kinds`).Scan(&id); err != nil || id != 6 {
		t.Errorf("next AUTOINCREMENT id = %d (%v), want 6", id, err)
	}
	var n int
	if err := rdb.QueryRow(`SELECT count(*) FROM big`).Scan(&n); err != nil || n != 1 {
		t.Errorf("view big: %d rows, %v", n, err)
	}
	if _, err := rdb.Exec(`INSERT INTO parent VALUES (3, '')`); err == nil {
		t.Error("CHECK constraint lost")
	}
	var idx int
	_ = rdb.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='index' AND name='child_parent'`).Scan(&idx)
	if idx != 1 {
		t.Error("index child_parent lost")
	}
}

func TestRestoreRefusesNonEmptyTables(t *testing.T) {
	src, db := newDB(t, typesSchema...)
	fillTypes(t, db)
	r, _ := repotest.New(t)
	sn := backup(t, r, src, nil)
	// Restoring into the source itself: every table holds rows.
	target, err := sqlite.OpenTarget(ctx, dsn(src))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	_, _, err = dbexport.Restore(ctx, r, sn.Tree, target, dbexport.RestoreOptions{})
	if err == nil || !strings.Contains(err.Error(), "kinds (5 rows)") {
		t.Fatalf("err = %v, want a refusal naming kinds", err)
	}
	// A dry run returns the plan and the refusal the restore would make.
	_, plan, err := dbexport.Restore(ctx, r, sn.Tree, target, dbexport.RestoreOptions{DryRun: true, Tables: []string{"pair"}})
	if !errors.Is(err, dbexport.ErrTargetNotEmpty) || len(plan) != 1 || plan[0].SnapshotRows != 3 || plan[0].TargetRows != 3 {
		t.Fatalf("dry run plan = %+v, %v", plan, err)
	}
	if _, _, err := dbexport.Restore(ctx, r, sn.Tree, target, dbexport.RestoreOptions{Replace: true}); err != nil {
		t.Fatalf("replace: %v", err)
	}
}

// TestChangedRowsBecomeDeltas backs up, changes a few scattered rows, and
// backs up again: the hour is one small change log; then changes every
// row, which makes the next backup write a new base whose changed chunks
// must be stored as small delta blobs.
func TestChangedRowsBecomeDeltas(t *testing.T) {
	src, db := newDB(t, `CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT)`)
	tx, _ := db.Begin()
	for i := 1; i <= 40000; i++ {
		if _, err := tx.Exec(`INSERT INTO c VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("customer %d", i*7919%100000), fmt.Sprintf("c%d@example.com", i), strings.Repeat("n", i%40)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, _ := repotest.New(t)
	first := backup(t, r, src, nil)
	exec(t, db, `UPDATE c SET name = 'changed' WHERE id IN (17, 9000, 23000, 39999)`, `INSERT INTO c VALUES (40001, 'new', 'new@example.com', '')`)
	second := backup(t, r, src, first)
	sum := second.Summary
	if sum.BlobsAdded == 0 || sum.BlobsAdded > 8 {
		t.Fatalf("second backup added %d blobs", sum.BlobsAdded)
	}
	if sum.BytesAdded > first.Summary.BytesAdded/20 {
		t.Errorf("second backup added %d bytes, first %d: a change log should make it far smaller", sum.BytesAdded, first.Summary.BytesAdded)
	}
	if rootTree(t, r, second).Nodes[0].Log == nil {
		t.Fatal("second backup wrote no change log")
	}
	exec(t, db, `UPDATE c SET note = note || 'x' WHERE id % 2 = 0`)
	third := backup(t, r, src, second)
	if rootTree(t, r, third).Nodes[0].Log != nil {
		t.Fatal("third backup wrote a change log for half the rows changed")
	}
	deltas := 0
	r.Index().Each(func(_ pack.ID, loc index.Location) bool {
		if loc.Compression == pack.Delta {
			deltas++
		}
		return true
	})
	if deltas < 3 {
		t.Errorf("%d delta blobs, want one per changed chunk", deltas)
	}
	// And the snapshot restores exactly.
	dst := filepath.Join(t.TempDir(), "r.db")
	target, _ := sqlite.OpenTarget(ctx, dsn(dst))
	if _, _, err := dbexport.Restore(ctx, r, third.Tree, target, dbexport.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	target.Close()
	if export(t, dst)["c"] != export(t, src)["c"] {
		t.Error("restored table differs")
	}
}

// TestConsistentWhileWriting moves money between accounts while the backup
// runs: the snapshot's balances still add up to the invariant total.
func TestConsistentWhileWriting(t *testing.T) {
	src, db := newDB(t, `CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)`, `CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)`)
	const accounts, total = 2000, 2000 * 1000
	tx, _ := db.Begin()
	for i := 1; i <= accounts; i++ {
		tx.Exec(`INSERT INTO accounts VALUES (?, 1000)`, i)
	}
	tx.Commit()
	r, _ := repotest.New(t)
	var (
		stop  atomic.Bool
		moves atomic.Int64
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			tx, err := db.Begin()
			if err != nil {
				continue
			}
			a, b := i%accounts+1, (i*7)%accounts+1
			tx.Exec(`UPDATE accounts SET balance = balance - 7 WHERE id = ?`, a)
			tx.Exec(`INSERT INTO ledger (note) VALUES (?)`, fmt.Sprintf("move %d", i))
			tx.Exec(`UPDATE accounts SET balance = balance + 7 WHERE id = ?`, b)
			if tx.Commit() == nil {
				moves.Add(1)
			}
		}
	}()
	for moves.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	var sns []*dbexport.BackupOptions
	for i := 0; i < 3; i++ {
		s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sn, err := dbexport.Backup(ctx, r, s, dbexport.BackupOptions{})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		sns = append(sns, &dbexport.BackupOptions{Parent: sn})
	}
	stop.Store(true)
	wg.Wait()
	for _, o := range sns {
		var b bytes.Buffer
		if err := dbexport.DumpTable(ctx, r, o.Parent.Tree, "accounts", dbexport.FormatTSV, &b); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			var id, bal int
			fmt.Sscanf(line, "%d\t%d", &id, &bal)
			sum += bal
		}
		if sum != total {
			t.Errorf("snapshot %s: balances sum to %d, want %d", o.Parent.ID.Short(), sum, total)
		}
	}
	t.Logf("%d transfers ran during the backups", moves.Load())
}

// backupAndRestore backs up the database at src into r and restores the
// snapshot into a new SQLite file, whose path it returns.
func backupAndRestore(t *testing.T, r *repo.Repository, src string) (*repo.Snapshot, string) {
	t.Helper()
	sn := backup(t, r, src, nil)
	dst := filepath.Join(t.TempDir(), "restored.db")
	target, err := sqlite.OpenTarget(ctx, dsn(dst))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if _, _, err := dbexport.Restore(ctx, r, sn.Tree, target, dbexport.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	return sn, dst
}

// TestRestoreCountsProgress: a restore's counters end at the snapshot's
// tables and rows, the totals a progress bar measures them against.
func TestRestoreCountsProgress(t *testing.T) {
	src, db := newDB(t, typesSchema...)
	fillTypes(t, db)
	r, _ := repotest.New(t)
	sn := backup(t, r, src, nil)
	target, err := sqlite.OpenTarget(ctx, dsn(filepath.Join(t.TempDir(), "restored.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	c := &dbexport.RestoreCounters{}
	_, plan, err := dbexport.Restore(ctx, r, sn.Tree, target, dbexport.RestoreOptions{Counters: c})
	if err != nil {
		t.Fatal(err)
	}
	var rows uint64
	for _, e := range plan {
		rows += uint64(e.SnapshotRows)
	}
	if rows == 0 || len(plan) < 2 {
		t.Fatalf("fixture: %d tables, %d rows", len(plan), rows)
	}
	if c.TotalRows.Load() != rows || c.Rows.Load() != rows || c.TotalTables.Load() != uint64(len(plan)) || c.Tables.Load() != uint64(len(plan)) || c.Bytes.Load() == 0 {
		t.Errorf("counters: tables %d of %d, rows %d of %d, %d bytes; want %d tables and %d rows",
			c.Tables.Load(), c.TotalTables.Load(), c.Rows.Load(), c.TotalRows.Load(), c.Bytes.Load(), len(plan), rows)
	}
}

// TestBackupCountsRowsForProgress: asked to, a SQLite backup counts the
// rows up front, so its progress has a total; unasked, it does not.
func TestBackupCountsRowsForProgress(t *testing.T) {
	src, db := newDB(t, typesSchema...)
	fillTypes(t, db)
	for _, count := range []bool{true, false} {
		r, _ := repotest.New(t)
		s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := &archive.Counters{}
		_, err = dbexport.Backup(ctx, r, s, dbexport.BackupOptions{Counters: c, CountRows: count})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(0)
		if count {
			want = c.Rows.Load()
		}
		if want == 0 && count || c.TotalRows.Load() != want {
			t.Errorf("CountRows %v: total rows %d, rows exported %d", count, c.TotalRows.Load(), c.Rows.Load())
		}
	}
}
