package sqlite

import (
	"context"
	"errors"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// join opens up to n more connections whose read transactions see what
// the first one sees, so that tables can be read side by side and still
// reflect one point in time (docs/design.md, "Table exports",
// "Consistency"). The first connection's read transaction is already open.
// A connection that cannot be shown to see the same state is closed
// unused: fewer connections cost speed, a different state would cost
// consistency.
func (s *Source) join(ctx context.Context, n int) {
	first := s.conns[0]
	mode, err := first.journalMode(ctx)
	if err != nil {
		return
	}
	var snap uintptr
	if mode == "wal" {
		if snap, err = first.snapshot(); err != nil && !errors.Is(err, errEmptyWAL) {
			return
		}
		if snap != 0 {
			defer sqlite3.Xsqlite3_snapshot_free(first.tls, snap)
		}
	}
	for range n {
		c, err := openConn(s.path)
		if err != nil {
			return
		}
		switch {
		case snap != 0:
			err = c.joinSnapshot(ctx, snap)
		case mode == "wal":
			err = c.joinEmptyWAL(ctx)
		default:
			err = c.joinShared(ctx)
		}
		if err != nil {
			c.close()
			return
		}
		s.conns = append(s.conns, c)
	}
}

// errEmptyWAL is sqlite3_snapshot_get's refusal on a WAL file that no
// transaction has been written to since it was created.
var errEmptyWAL = errors.New("the WAL holds no transaction")

// errMoved says a joining connection saw a later state than the first.
var errMoved = errors.New("the database changed before the connection joined")

func (c *conn) journalMode(ctx context.Context) (string, error) {
	var mode string
	err := c.query(ctx, "PRAGMA journal_mode", func(r *row) error {
		mode = r.string(0)
		return nil
	})
	return mode, err
}

// snapshot returns a handle to the WAL snapshot that c's read transaction
// sees; free it with sqlite3_snapshot_free. SQLite has none to give
// (errEmptyWAL) while no transaction has been written to the WAL file.
func (c *conn) snapshot() (uintptr, error) {
	zmain, err := libc.CString("main")
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, zmain)
	p := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	switch rc := sqlite3.Xsqlite3_snapshot_get(c.tls, c.db, zmain, p); rc {
	case sqlite3.SQLITE_OK:
		return readPtr(p), nil
	case sqlite3.SQLITE_ERROR:
		// c is in a read transaction on the main schema of a WAL
		// database, so of sqlite3_snapshot_get's preconditions only
		// the written transaction can be missing.
		return 0, errEmptyWAL
	default:
		return 0, c.error(rc)
	}
}

// joinSnapshot starts a read transaction on c that sees WAL snapshot snap:
// SQLite's own way of sharing a snapshot between connections.
func (c *conn) joinSnapshot(ctx context.Context, snap uintptr) error {
	// A connection knows that the file is in WAL mode only after it has
	// read from it (the hint in sqlite3_snapshot_open's documentation).
	if err := c.exec(ctx, "PRAGMA application_id"); err != nil {
		return err
	}
	if err := c.exec(ctx, "BEGIN"); err != nil {
		return err
	}
	zmain, err := libc.CString("main")
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, zmain)
	if rc := sqlite3.Xsqlite3_snapshot_open(c.tls, c.db, zmain, snap); rc != sqlite3.SQLITE_OK {
		return c.error(rc)
	}
	return nil
}

// joinEmptyWAL starts a read transaction on c when the first connection's
// WAL held no transaction. If c's WAL holds none either, both read the
// database file alone, and it is the same file: every commit in WAL mode
// is written to the WAL, and the WAL file is deleted and created anew
// only when the last connection closes, which the first one has not. If
// c's WAL holds a transaction, c may see a later state: errMoved.
func (c *conn) joinEmptyWAL(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	snap, err := c.snapshot()
	if errors.Is(err, errEmptyWAL) {
		return nil
	}
	if err != nil {
		return err
	}
	sqlite3.Xsqlite3_snapshot_free(c.tls, snap)
	return errMoved
}

// joinShared starts a read transaction on c in rollback-journal mode.
// There the first connection holds a SHARED lock for as long as its read
// transaction lasts, and no writer can commit before every SHARED lock is
// released, so any connection that gets a SHARED lock meanwhile reads the
// same state. A writer waiting to commit holds a PENDING lock, which
// refuses new SHARED locks until it commits, and it cannot commit before
// the first connection ends: c does not wait for it.
func (c *conn) joinShared(ctx context.Context) error {
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, 0)
	defer sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, busyTimeout)
	return c.begin(ctx)
}
