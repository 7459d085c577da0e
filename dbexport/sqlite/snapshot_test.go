package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestJoinEmptyWAL: when the first connection began on an empty WAL, a
// connection joins only if no transaction was written since; one commit
// in between must keep it out.
func TestJoinEmptyWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.Close() // the last connection checkpoints and deletes the WAL

	first, err := openConn(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	if err := first.begin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := first.snapshot(); !errors.Is(err, errEmptyWAL) {
		t.Fatalf("snapshot of an empty WAL: %v, want errEmptyWAL", err)
	}
	join := func() error {
		c, err := openConn(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		return c.joinEmptyWAL(ctx)
	}
	if err := join(); err != nil {
		t.Fatalf("joining with nothing written in between: %v", err)
	}

	w, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if err := join(); !errors.Is(err, errMoved) {
		t.Fatalf("joining after a commit: %v, want errMoved", err)
	}
}
