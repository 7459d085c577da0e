package sqlite

import (
	"context"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	_ "modernc.org/sqlite" // the driver Target uses; its init also patches the library on some platforms
	sqlite3 "modernc.org/sqlite/lib"
)

// conn is one read-only connection that a Source reads through SQLite's C
// API (modernc.org/sqlite/lib, the library the database/sql driver wraps).
//
// The driver opens every connection with SQLITE_OPEN_FULLMUTEX, so each
// sqlite3_column_* call locks and unlocks the connection's mutex; at a
// type, a value and a length call per field, that was more than half of
// an export's CPU time. A conn is opened with SQLITE_OPEN_NOMUTEX instead
// and so must be used by one goroutine at a time (Source hands each conn
// to one query at a time). It also hands each value over as SQLite stores
// it: no conversion to time.Time, no copy before it is escaped.
type conn struct {
	tls *libc.TLS
	db  uintptr // sqlite3*
}

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// busyTimeout is how long (ms) a connection waits for a lock: a writer
// holds one for a moment at a time.
const busyTimeout = 10000

// openConn opens the database file path read-only. The path is passed as
// a file name, not a URI, so every character in it is taken literally.
func openConn(path string) (*conn, error) {
	c := &conn{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	pdb := c.tls.Alloc(ptrSize)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPtr(pdb)
	c.tls.Free(ptrSize)
	libc.Xfree(c.tls, name)
	if rc != sqlite3.SQLITE_OK {
		err := c.error(rc)
		c.close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, busyTimeout)
	return c, nil
}

// close ends any transaction and closes the connection.
func (c *conn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// begin starts a read transaction. Its snapshot is taken by the first
// read, not by BEGIN, so begin reads the catalog.
func (c *conn) begin(ctx context.Context) error {
	if err := c.exec(ctx, "BEGIN"); err != nil {
		return err
	}
	return c.exec(ctx, "SELECT count(*) FROM sqlite_master")
}

// error describes the failed call that returned rc.
func (c *conn) error(rc int32) error {
	if c.db == 0 {
		return fmt.Errorf("%s (sqlite code %d)", libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc)), rc)
	}
	return fmt.Errorf("%s (sqlite code %d)", libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)), sqlite3.Xsqlite3_extended_errcode(c.tls, c.db))
}

// exec runs one statement and discards its rows.
func (c *conn) exec(ctx context.Context, sql string) error {
	return c.query(ctx, sql, func(*row) error { return nil })
}

// query runs one statement and calls fn for each result row; the row's
// values are valid only during the call. A cancelled ctx interrupts the
// statement, even while SQLite sorts before the first row.
func (c *conn) query(ctx context.Context, sql string, fn func(*row) error) error {
	zsql, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, zsql)
	pstmt := c.tls.Alloc(ptrSize)
	rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, zsql, -1, pstmt, 0)
	stmt := readPtr(pstmt)
	c.tls.Free(ptrSize)
	if rc != sqlite3.SQLITE_OK {
		return c.error(rc)
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, stmt)
	// sqlite3_interrupt may be called from any goroutine; it gets a TLS
	// of its own because c.tls is in use by the running statement.
	// The query waits for an interrupt that has started, so that the
	// connection is never closed under it.
	db := c.db
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		tls := libc.NewTLS()
		sqlite3.Xsqlite3_interrupt(tls, db)
		tls.Close()
	})
	defer func() {
		if !stop() {
			<-interrupted
		}
	}()
	r := &row{tls: c.tls, stmt: stmt, n: int(sqlite3.Xsqlite3_column_count(c.tls, stmt))}
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, stmt); rc {
		case sqlite3.SQLITE_ROW:
			if err := fn(r); err != nil {
				return err
			}
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			if err := ctx.Err(); err != nil {
				return err
			}
			return c.error(rc)
		}
	}
}

// readPtr reads the pointer SQLite stored at p, an out-parameter in the
// library's (non-Go) memory.
func readPtr(p uintptr) uintptr {
	return *(*uintptr)(unsafe.Pointer(unsafe.SliceData(libc.GoBytes(p, ptrSize))))
}

// row is the current result row of a query.
type row struct {
	tls  *libc.TLS
	stmt uintptr // sqlite3_stmt*
	n    int     // columns
}

// kind is the storage class of column i's value: sqlite3.SQLITE_INTEGER,
// SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL.
func (r *row) kind(i int) int32 { return sqlite3.Xsqlite3_column_type(r.tls, r.stmt, int32(i)) }

func (r *row) null(i int) bool { return r.kind(i) == sqlite3.SQLITE_NULL }

func (r *row) int64(i int) int64 { return sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, int32(i)) }

// text returns column i as UTF-8 text in SQLite's memory, valid until
// the next call on the row.
func (r *row) text(i int) []byte {
	p := sqlite3.Xsqlite3_column_text(r.tls, r.stmt, int32(i))
	n := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, int32(i))
	if p == 0 || n == 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// value is column i's value, read through the value's own accessors:
// one sqlite3_column_value call per field instead of a sqlite3_column_*
// call per type, length and content, each of which looks the column up
// and enters and leaves the connection's (absent) mutex again. SQLite
// documents the value of sqlite3_column_value as unprotected, safe to
// read only where no other thread uses the connection, which a conn
// guarantees (see conn). It is valid until the next call on the row.
func (r *row) value(i int) value {
	return value{r.tls, sqlite3.Xsqlite3_column_value(r.tls, r.stmt, int32(i))}
}

// value is one sqlite3_value of the current row.
type value struct {
	tls *libc.TLS
	v   uintptr // sqlite3_value*
}

// kind is the value's storage class, as row.kind.
func (v value) kind() int32 { return sqlite3.Xsqlite3_value_type(v.tls, v.v) }

func (v value) int64() int64 { return sqlite3.Xsqlite3_value_int64(v.tls, v.v) }

func (v value) float64() float64 { return sqlite3.Xsqlite3_value_double(v.tls, v.v) }

// text is the value as UTF-8 text in SQLite's memory.
func (v value) text() []byte {
	p := sqlite3.Xsqlite3_value_text(v.tls, v.v)
	n := sqlite3.Xsqlite3_value_bytes(v.tls, v.v)
	if p == 0 || n == 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// blob is the value's bytes in SQLite's memory.
func (v value) blob() []byte {
	p := sqlite3.Xsqlite3_value_blob(v.tls, v.v)
	n := sqlite3.Xsqlite3_value_bytes(v.tls, v.v)
	if p == 0 || n == 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// string returns a copy of column i as text.
func (r *row) string(i int) string { return string(r.text(i)) }
