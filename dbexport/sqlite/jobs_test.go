package sqlite_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/repo/repotest"
)

// newDBMode is newDB with the journal mode given.
func newDBMode(t *testing.T, mode string, stmts ...string) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode("+mode+")&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, stmts...)
	return path, db
}

// TestJobsShareOneSnapshot backs up on several connections while every
// transaction adds a ledger row and counts it in accounts: the two tables
// are read on different connections, and the counts must still match.
func TestJobsShareOneSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	for _, mode := range []string{"wal", "delete"} {
		t.Run(mode, func(t *testing.T) {
			src, db := newDBMode(t, mode, `CREATE TABLE accounts (id INTEGER PRIMARY KEY, moves INTEGER NOT NULL)`, `CREATE TABLE ledger (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, note TEXT)`)
			// One connection without fsync: the writer commits often
			// enough for a mismatch between the connections to show.
			db.SetMaxOpenConns(1)
			exec(t, db, `PRAGMA synchronous = OFF`)
			const accounts = 500
			tx, _ := db.Begin()
			for i := 1; i <= accounts; i++ {
				tx.Exec(`INSERT INTO accounts VALUES (?, 0)`, i)
			}
			for i := 1; i <= 20000; i++ {
				tx.Exec(`INSERT INTO ledger (account, note) VALUES (?, ?)`, i%accounts+1, strings.Repeat("x", i%50))
			}
			tx.Exec(`UPDATE accounts SET moves = (SELECT count(*) FROM ledger WHERE account = accounts.id)`)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			r, _ := repotest.New(t)
			var (
				stop  atomic.Bool
				moves atomic.Int64
				wg    sync.WaitGroup
			)
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					tx, err := db.Begin()
					if err != nil {
						continue
					}
					a := i%accounts + 1
					tx.Exec(`INSERT INTO ledger (account, note) VALUES (?, ?)`, a, fmt.Sprintf("move %d", i))
					tx.Exec(`UPDATE accounts SET moves = moves + 1 WHERE id = ?`, a)
					if tx.Commit() == nil {
						moves.Add(1)
					} else {
						tx.Rollback()
					}
				}
			})
			for moves.Load() < 20 {
				time.Sleep(time.Millisecond)
			}
			joined := 0
			for i := 0; i < 5; i++ {
				s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{Jobs: 2})
				if err != nil {
					t.Fatal(err)
				}
				joined += s.Jobs() - 1
				sn, err := dbexport.Backup(ctx, r, s, dbexport.BackupOptions{Jobs: 2})
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				var acc, led bytes.Buffer
				if err := dbexport.DumpTable(ctx, r, sn.Tree, "accounts", dbexport.FormatTSV, &acc); err != nil {
					t.Fatal(err)
				}
				if err := dbexport.DumpTable(ctx, r, sn.Tree, "ledger", dbexport.FormatTSV, &led); err != nil {
					t.Fatal(err)
				}
				sum := 0
				for _, line := range strings.Split(strings.TrimSpace(acc.String()), "\n") {
					var id, n int
					fmt.Sscanf(line, "%d\t%d", &id, &n)
					sum += n
				}
				if rows := strings.Count(led.String(), "\n"); rows != sum {
					t.Errorf("snapshot %s: %d ledger rows, accounts count %d moves", sn.ID.Short(), rows, sum)
				}
			}
			stop.Store(true)
			wg.Wait()
			// In WAL mode the writer keeps the WAL busy, so every backup can
			// share the snapshot; in rollback mode a writer waiting to
			// commit keeps new readers out, and a backup may read alone.
			if mode == "wal" && joined != 5 {
				t.Errorf("%d of 5 backups of a WAL database read on two connections", joined)
			}
			t.Logf("%d transactions ran during the backups, %d of 5 backups on two connections", moves.Load(), joined)
		})
	}
}

// TestJobsExportIdentical: a database read on several connections gives
// the same bytes as on one, whatever its journal mode, also when its WAL
// is empty.
func TestJobsExportIdentical(t *testing.T) {
	for _, mode := range []string{"wal", "empty-wal", "delete", "truncate"} {
		t.Run(mode, func(t *testing.T) {
			jm := mode
			if mode == "empty-wal" {
				jm = "wal"
			}
			src, db := newDBMode(t, jm, typesSchema...)
			fillTypes(t, db)
			if mode == "empty-wal" {
				db.Close() // the last connection deletes the WAL
			}
			want := export(t, src)
			s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{Jobs: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Jobs() != 3 {
				t.Fatalf("read on %d connections, want 3", s.Jobs())
			}
			sc, err := s.Schema(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]bytes.Buffer, len(sc.Tables))
			var wg sync.WaitGroup
			for i, tab := range sc.Tables {
				wg.Go(func() {
					if _, err := s.CopyOut(ctx, tab, &got[i]); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for i, tab := range sc.Tables {
				if got[i].String() != want[tab.Name] {
					t.Errorf("table %s read side by side:\n%q\nwant\n%q", tab.Name, got[i].String(), want[tab.Name])
				}
			}
		})
	}
}
