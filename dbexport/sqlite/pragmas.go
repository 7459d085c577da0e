package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// The settings of a SQLite file a snapshot records in Schema.Pragmas
// (docs/design.md, "SQLite"), each an integer.
const (
	// Header fields: set again by every whole restore, in its
	// transaction.
	pragmaApplicationID = "application_id"
	pragmaUserVersion   = "user_version"
	// File settings: set by a whole restore into a file that holds no
	// table yet, before the first one is created (SQLite fixes them
	// then); a file with tables keeps its own.
	pragmaPageSize   = "page_size"
	pragmaAutoVacuum = "auto_vacuum" // 0 none, 1 full, 2 incremental
	pragmaWAL        = "journal_mode_wal"
)

// pragmas records the file's settings: application_id and user_version
// (where migration tools keep the schema version), page_size,
// auto_vacuum, and journal_mode_wal 1 for a file in WAL mode.
func pragmas(ctx context.Context, c *conn) (map[string]int64, error) {
	p := map[string]int64{}
	for _, name := range []string{pragmaApplicationID, pragmaUserVersion, pragmaPageSize, pragmaAutoVacuum} {
		if err := c.query(ctx, "PRAGMA "+name, func(r *row) error {
			p[name] = r.int64(0)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reading PRAGMA %s: %w", name, err)
		}
	}
	if err := c.query(ctx, "PRAGMA journal_mode", func(r *row) error {
		if r.string(0) == "wal" {
			p[pragmaWAL] = 1
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading PRAGMA journal_mode: %w", err)
	}
	return p, nil
}

// checkPragmas refuses a snapshot that records a setting this strata
// does not know, before anything is written.
func checkPragmas(p map[string]int64) error {
	for name := range p {
		switch name {
		case pragmaApplicationID, pragmaUserVersion, pragmaPageSize, pragmaAutoVacuum, pragmaWAL:
		default:
			return fmt.Errorf("the snapshot records PRAGMA %s, which this version of strata does not set: use a newer strata", name)
		}
	}
	return nil
}

// setFileSettings sets page_size and auto_vacuum on conn when the file
// holds no table yet, and says whether it did (fresh).
func setFileSettings(ctx context.Context, conn *sql.Conn, p map[string]int64) (fresh bool, err error) {
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return false, fmt.Errorf("reading the catalog: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for _, name := range []string{pragmaPageSize, pragmaAutoVacuum} {
		if v, ok := p[name]; ok {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA %s = %d", name, v)); err != nil {
				return false, fmt.Errorf("setting PRAGMA %s: %w", name, err)
			}
		}
	}
	return true, nil
}

// setHeaderFields sets application_id and user_version in the restore's
// transaction.
func setHeaderFields(ctx context.Context, tx *sql.Tx, p map[string]int64) error {
	names := make([]string, 0, len(p))
	for name := range p {
		if name == pragmaApplicationID || name == pragmaUserVersion {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA %s = %d", name, p[name])); err != nil {
			return fmt.Errorf("setting PRAGMA %s: %w", name, err)
		}
	}
	return nil
}
