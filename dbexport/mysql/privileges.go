package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The server lists only the triggers, events and routines the account
// may see: without the TRIGGER or EVENT privilege on the database, or a
// way to read routines it did not define (SELECT on mysql.proc, global
// SELECT, or SHOW CREATE ROUTINE), they are missing from
// information_schema without a word. privilegeGaps names those gaps, so
// the backup warns instead of losing them silently (mysqldump does).

// privilegeGap is one kind of object the account may not see in full:
// the backup's warning, and what the snapshot's not_captured says.
type privilegeGap struct{ missing, warning string }

// privilegeGaps returns a gap for each kind of object the account may
// not see in full. It reads the account's own grants from
// information_schema; privileges that come through a role are not seen,
// so such an account is warned about too.
func (s *Source) privilegeGaps(ctx context.Context) ([]privilegeGap, error) {
	const me = `CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`
	global, onDB := map[string]bool{}, map[string]bool{}
	collect := func(into map[string]bool, q string, args ...any) error {
		return s.query(ctx, func(r *sql.Rows) error {
			var p string
			if err := r.Scan(&p); err != nil {
				return err
			}
			into[strings.ToUpper(p)] = true
			return nil
		}, q, args...)
	}
	if err := collect(global, `SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = `+me); err != nil {
		return nil, fmt.Errorf("read the account's privileges: %w", err)
	}
	if err := collect(onDB, `SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES
		WHERE GRANTEE = `+me+` AND ? LIKE TABLE_SCHEMA`, s.dsn.Database); err != nil {
		return nil, fmt.Errorf("read the account's privileges: %w", err)
	}
	var procSelect int
	err := s.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES
		WHERE GRANTEE = `+me+` AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc' AND PRIVILEGE_TYPE = 'SELECT'`).Scan(&procSelect)
	if err != nil {
		return nil, fmt.Errorf("read the account's privileges: %w", err)
	}
	var mysqlSelect int
	err = s.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES
		WHERE GRANTEE = `+me+` AND 'mysql' LIKE TABLE_SCHEMA AND PRIVILEGE_TYPE = 'SELECT'`).Scan(&mysqlSelect)
	if err != nil {
		return nil, fmt.Errorf("read the account's privileges: %w", err)
	}
	return gapsOf(global, onDB, procSelect > 0 || mysqlSelect > 0, s.dsn.Database), nil
}

// gapsOf turns the account's global privileges and those on the
// database into warnings; readsProc is SELECT on mysql.proc.
func gapsOf(global, onDB map[string]bool, readsProc bool, db string) []privilegeGap {
	has := func(p string) bool { return global[p] || onDB[p] }
	var out []privilegeGap
	if !has("TRIGGER") {
		out = append(out, privilegeGap{"any trigger the backup account could not see (it lacked TRIGGER)", fmt.Sprintf("the account has no TRIGGER privilege on %s that strata can see: the server hides the triggers of tables it may not alter, and the snapshot holds only those it showed (GRANT TRIGGER ON %s.* to the backup account)", db, quoteIdent(db))})
	}
	if !has("EVENT") {
		out = append(out, privilegeGap{"any event the backup account could not see (it lacked EVENT)", fmt.Sprintf("the account has no EVENT privilege on %s that strata can see: the server hides its events, and the snapshot holds only those it showed (GRANT EVENT ON %s.* to the backup account)", db, quoteIdent(db))})
	}
	if !global["SELECT"] && !readsProc && !has("SHOW CREATE ROUTINE") {
		out = append(out, privilegeGap{"any routine the backup account could not see (it could not read mysql.proc)", fmt.Sprintf("the account can read neither mysql.proc nor every routine (global SELECT, SELECT ON mysql.proc, or SHOW CREATE ROUTINE): the server hides the functions and procedures of %s it did not define and may not run, and the snapshot holds only those it showed", db)})
	}
	return out
}
