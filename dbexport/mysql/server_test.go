package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"testing"
	"time"

	"strata/dbexport"
	"strata/internal/dbtest"
)

// testServer returns the DSN of the test server (STRATA_TEST_MYSQL,
// default mysql://root@127.0.0.1:3306/mysql). It fails the test in CI and
// skips it elsewhere when the server cannot be reached.
func testServer(t testing.TB) dbexport.DSN {
	t.Helper()
	addr := os.Getenv("STRATA_TEST_MYSQL")
	if addr == "" {
		addr = "mysql://root@127.0.0.1:3306/mysql"
	}
	d, err := dbexport.ParseDSN(addr)
	if err != nil {
		t.Fatalf("STRATA_TEST_MYSQL: %v", err)
	}
	db, err := openDB(d, Options{})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		msg := "MySQL/MariaDB test server unreachable at " + d.String() + ": " + err.Error() +
			" (start it, or point STRATA_TEST_MYSQL at one)"
		dbtest.Unreachable(t, msg)
	}
	return d
}

// newDatabase creates a database with a random name, dropped when the
// test ends, and returns its DSN.
func newDatabase(t testing.TB) dbexport.DSN {
	t.Helper()
	return dbtest.TempDatabase(t, testServer(t), CreateDatabase, DropDatabase)
}

// testDB opens a plain handle on d for setting up and checking tables.
func testDB(t testing.TB, d dbexport.DSN) *sql.DB {
	t.Helper()
	db, err := openDB(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func execAll(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			if len(s) > 200 {
				s = s[:200] + "..."
			}
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// exportAll opens d, reads its schema and exports every table.
func exportAll(t testing.TB, d dbexport.DSN) (*dbexport.Schema, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	src, err := Open(ctx, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sc, err := src.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{}
	for _, tab := range sc.Tables {
		var buf bytes.Buffer
		n, err := src.CopyOut(ctx, tab, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := int64(bytes.Count(buf.Bytes(), []byte{'\n'})); got != n {
			t.Errorf("table %s: CopyOut says %d rows, wrote %d lines", tab.Name, n, got)
		}
		data[tab.Name] = buf.Bytes()
	}
	return sc, data
}

// tableData returns the TableData that restores sc's tables from data.
func tableData(sc *dbexport.Schema, data map[string][]byte) []dbexport.TableData {
	var tds []dbexport.TableData
	for _, tab := range sc.Tables {
		rows := data[tab.Name]
		tds = append(tds, dbexport.TableData{Table: tab, Rows: func(_ context.Context, w io.Writer) error {
			// Odd-sized writes, so rows arrive split across calls.
			for b := rows; len(b) > 0; {
				n := min(len(b), 4093)
				if _, err := w.Write(b[:n]); err != nil {
					return err
				}
				b = b[n:]
			}
			return nil
		}})
	}
	return tds
}

// restoreInto opens d as a target and restores the tables.
func restoreInto(t testing.TB, d dbexport.DSN, sc *dbexport.Schema, data map[string][]byte, replace bool) error {
	t.Helper()
	ctx := context.Background()
	tg, err := OpenTarget(ctx, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	return tg.Restore(ctx, sc, tableData(sc, data), replace)
}
