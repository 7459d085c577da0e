package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/dbexport"
)

// TestOpenNotADatabase: a file that is not a database fails with SQLite's
// message and the file's name.
func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path}, Options{Jobs: 2})
	if err == nil || !strings.Contains(err.Error(), "not a database") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want SQLite's \"not a database\" naming %s", err, path)
	}
}

// TestQueryCancelled: a cancelled context stops a query, also while SQLite
// sorts a table without a primary key before its first row.
func TestQueryCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE nokey (a INTEGER, b TEXT);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
		INSERT INTO nokey SELECT i * 7919 % 300000, 'row ' || i FROM n`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := s.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel) // most likely while SQLite sorts
	if _, err := s.CopyOut(ctx, sc.Tables[0], io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("CopyOut with a cancelled context: %v", err)
	}
	// The connection is still usable afterwards.
	var b strings.Builder
	if _, err := s.CopyOut(context.Background(), sc.Tables[0], &b); err != nil || strings.Count(b.String(), "\n") != 300000 {
		t.Fatalf("CopyOut after the cancelled one: %d rows, %v", strings.Count(b.String(), "\n"), err)
	}
}
