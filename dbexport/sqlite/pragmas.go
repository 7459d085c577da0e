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
	// pragmaTextEncoding is the file's text encoding as its header
	// stores it (2 UTF-16le, 3 UTF-16be), recorded only when it is not
	// UTF-8 (1), so that the snapshots of UTF-8 files, nearly all, stay
	// readable by a strata that does not know it; such a strata refuses
	// a snapshot of a UTF-16 file rather than restore it as UTF-8.
	pragmaTextEncoding = "text_encoding"
)

// textEncodings maps PRAGMA encoding's answers to the header's numbers.
var textEncodings = map[string]int64{"UTF-8": 1, "UTF-16le": 2, "UTF-16be": 3}

// textEncodingName is the PRAGMA encoding value of a header number.
func textEncodingName(n int64) (string, bool) {
	for name, v := range textEncodings {
		if v == n {
			return name, true
		}
	}
	return "", false
}

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
	if err := c.query(ctx, "PRAGMA encoding", func(r *row) error {
		enc := r.string(0)
		n, ok := textEncodings[enc]
		if !ok {
			return fmt.Errorf("unknown text encoding %q", enc)
		}
		if n != 1 {
			p[pragmaTextEncoding] = n
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading PRAGMA encoding: %w", err)
	}
	return p, nil
}

// checkPragmas refuses a snapshot that records a setting this strata
// does not know, before anything is written.
func checkPragmas(p map[string]int64) error {
	for name := range p {
		switch name {
		case pragmaApplicationID, pragmaUserVersion, pragmaPageSize, pragmaAutoVacuum, pragmaWAL:
		case pragmaTextEncoding:
			if _, ok := textEncodingName(p[name]); !ok {
				return fmt.Errorf("the snapshot records text encoding %d, which this version of strata does not know: use a newer strata", p[name])
			}
		default:
			return fmt.Errorf("the snapshot records PRAGMA %s, which this version of strata does not set: use a newer strata", name)
		}
	}
	return nil
}

// setFileSettings sets the text encoding, page_size and auto_vacuum on
// conn when the file holds no table yet, and says whether it did (fresh).
// The text encoding takes only in a file whose header is not written yet
// (a new or empty file); one that has it keeps its own, as its text
// reads the same in any encoding.
func setFileSettings(ctx context.Context, conn *sql.Conn, p map[string]int64) (fresh bool, err error) {
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return false, fmt.Errorf("reading the catalog: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	// The text encoding first: SQLite takes it only before the file's
	// first page is written.
	if v, ok := p[pragmaTextEncoding]; ok {
		name, _ := textEncodingName(v)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA encoding = '%s'", name)); err != nil {
			return false, fmt.Errorf("setting PRAGMA encoding: %w", err)
		}
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
