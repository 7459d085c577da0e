package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/dbexport"
)

// Source is one consistent read snapshot of a PostgreSQL database: a
// REPEATABLE READ READ ONLY transaction on each of its connections, all
// sharing the snapshot that the first one exported. It implements
// dbexport.Source. Schema and CopyOut may be called from several
// goroutines; each call takes a free connection. Close it after every
// call has returned.
type Source struct {
	dsn      dbexport.DSN
	opts     Options
	snapshot string
	conns    []*pgx.Conn // conns[0] exported the snapshot
	free     chan *pgx.Conn

	mu     sync.Mutex
	locked map[string]bool // quoted table names locked in the snapshot
	types  *typeInfo       // loaded on first need, for ORDER BY

	server      string // server_version
	toolChecked bool   // dumpTool has looked for pg_dump
	pgDump      *tool  // nil: no schema archive
	noDump      string // why not, when pgDump is nil
}

var _ dbexport.Source = (*Source)(nil)

// lockRetries bounds how often Open starts over when a table it listed is
// dropped before it could be locked.
const lockRetries = 5

// Open connects to d, starts the snapshot and, with opts.Jobs > 1, opens
// the worker connections that import it (as pg_dump -j does).
//
// Before the snapshot is taken, the tables of the selected schemas are
// locked in ACCESS SHARE mode, as pg_dump does: the lock keeps ALTER
// TABLE, TRUNCATE and DROP, which are not MVCC-safe, from emptying a table
// under the snapshot. The transaction's snapshot is taken by its first
// query, which comes after the LOCK, so a rewrite that committed while
// strata waited for the lock is seen.
func Open(ctx context.Context, d dbexport.DSN, opts Options) (*Source, error) {
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	main, err := connect(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	s := &Source{dsn: d, opts: opts, conns: []*pgx.Conn{main}, locked: map[string]bool{},
		server: main.PgConn().ParameterStatus("server_version")}
	if missing, err := missingSchemas(ctx, main, opts.Schemas); err != nil || len(missing) > 0 {
		s.Close()
		if err != nil {
			return nil, fmt.Errorf("postgres: look up schemas in %s: %w", d.String(), err)
		}
		return nil, fmt.Errorf("postgres: %s has no schema named %s (check --schema)", d.String(), strings.Join(missing, ", "))
	}
	if err := s.begin(ctx, main); err != nil {
		s.Close()
		return nil, err
	}
	for i := 1; i < opts.Jobs; i++ {
		c, err := connect(ctx, d, opts)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.conns = append(s.conns, c)
		_, err = c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT "+quoteLiteral(s.snapshot))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("postgres: import snapshot %s on worker connection %d to %s: %w", s.snapshot, i, d.String(), err)
		}
	}
	s.free = make(chan *pgx.Conn, len(s.conns))
	for _, c := range s.conns {
		s.free <- c
	}
	return s, nil
}

// begin starts the exporting transaction on main: list, lock, snapshot.
func (s *Source) begin(ctx context.Context, main *pgx.Conn) error {
	for attempt := 1; ; attempt++ {
		names, err := listTableNames(ctx, main, s.opts.Schemas)
		if err != nil {
			return fmt.Errorf("postgres: list tables of %s: %w", s.dsn.String(), err)
		}
		if _, err := main.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return fmt.Errorf("postgres: begin snapshot on %s: %w", s.dsn.String(), err)
		}
		err = lockTables(ctx, main, names)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" && attempt < lockRetries {
			// A table was dropped between the list and the lock.
			if _, err := main.Exec(ctx, "ROLLBACK"); err != nil {
				return fmt.Errorf("postgres: roll back on %s: %w", s.dsn.String(), err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("postgres: lock tables of %s: %w", s.dsn.String(), err)
		}
		for _, n := range names {
			s.locked[n] = true
		}
		if err := main.QueryRow(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&s.snapshot); err != nil {
			return fmt.Errorf("postgres: export snapshot on %s: %w", s.dsn.String(), err)
		}
		return nil
	}
}

// lockTables locks names (quoted, qualified) in ACCESS SHARE mode, the
// mode that only blocks what would change a table's storage under the
// snapshot.
func lockTables(ctx context.Context, c *pgx.Conn, names []string) error {
	const batch = 500
	for len(names) > 0 {
		n := min(batch, len(names))
		if _, err := c.Exec(ctx, "LOCK TABLE "+strings.Join(names[:n], ", ")+" IN ACCESS SHARE MODE"); err != nil {
			return err
		}
		names = names[n:]
	}
	return nil
}

// lockNew locks the tables that Schema found but Open did not (created
// between Open's list and its snapshot).
func (s *Source) lockNew(ctx context.Context, c *pgx.Conn, names []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var todo []string
	for _, n := range names {
		if !s.locked[n] {
			todo = append(todo, n)
		}
	}
	if err := lockTables(ctx, c, todo); err != nil {
		return err
	}
	for _, n := range todo {
		s.locked[n] = true
	}
	return nil
}

// Snapshot returns the ID of the exported snapshot (pg_export_snapshot),
// for logs.
func (s *Source) Snapshot() string { return s.snapshot }

// acquire takes a free snapshot connection.
func (s *Source) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case c := <-s.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Source) release(c *pgx.Conn) { s.free <- c }

// Close ends the snapshot: every connection is closed, which rolls its
// read-only transaction back.
func (s *Source) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for i := len(s.conns) - 1; i >= 0; i-- {
		if err := s.conns[i].Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.conns = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("postgres: close snapshot on %s: %w", s.dsn.String(), err)
	}
	return nil
}
