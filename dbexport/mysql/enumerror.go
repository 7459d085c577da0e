package mysql

import (
	"fmt"
	"strings"
)

// This file restores the error value of an ENUM column: the empty string
// (index 0) that a server outside strict mode stores in place of a value
// that is not a member, which a snapshot holds as "" (docs/design.md,
// "MySQL and MariaDB", "ENUM error values"). The restore's session is
// strict, and a strict server refuses "" (and 0) for an ENUM that has no
// member "" (error 1265), as it refuses any value the column cannot hold.
// mysqldump restores it by loading every row outside strict mode, where a
// value the target truncates passes with only a warning; strata instead
// inserts each row holding the error value alone outside strict mode and
// accepts the statement only when its warnings are exactly one 1265 for
// each error value the row holds, naming that column.

// lenientSQLMode is sqlMode without strict mode.
const lenientSQLMode = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

// warnDataTruncated is MySQL's warning (and strict-mode error) 1265,
// "Data truncated for column 'c' at row n".
const warnDataTruncated = 1265

// enumMembers returns the members of an ENUM column type as
// information_schema's COLUMN_TYPE writes it (enum('a','b”c')), and
// whether it is one.
func enumMembers(columnType string) ([]string, bool) {
	t := strings.TrimSpace(columnType)
	if baseType(t) != "enum" {
		return nil, false
	}
	open, end := strings.IndexByte(t, '('), strings.LastIndexByte(t, ')')
	if open < 0 || end < open {
		return nil, false
	}
	var members []string
	s := t[open+1 : end]
	for len(s) > 0 {
		if s[0] != '\'' {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, false
		}
		members = append(members, b.String())
		s = strings.TrimPrefix(s[i+1:], ",")
	}
	return members, true
}

// hasErrorValue reports whether a column of this type stores "" only as
// the ENUM error value: an ENUM none of whose members is "".
func hasErrorValue(columnType string) bool {
	members, ok := enumMembers(columnType)
	if !ok {
		return false
	}
	for _, m := range members {
		if strings.TrimRight(m, " ") == "" {
			return false
		}
	}
	return true
}

// insertErrorValues inserts one row whose columns named in cols hold the
// ENUM error value, outside strict mode, and checks that the server
// truncated those values and nothing else.
func (l *loader) insertErrorValues(args []any, cols []string) (err error) {
	if _, err := l.tx.ExecContext(l.ctx, "SET SESSION sql_mode = '"+lenientSQLMode+"'"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := l.tx.ExecContext(l.ctx, "SET SESSION sql_mode = '"+sqlMode+"'"); rerr != nil && err == nil {
			err = rerr
		}
	}()
	// Not prepared: SHOW WARNINGS then reports this statement's warnings.
	if _, err := l.tx.ExecContext(l.ctx, l.statement(1), args...); err != nil {
		return err
	}
	rows, err := l.tx.QueryContext(l.ctx, "SHOW WARNINGS")
	if err != nil {
		return err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, c := range cols {
		want[c] = true
	}
	n := 0
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		n++
		col := warningColumn(msg)
		if code != warnDataTruncated || !want[col] {
			return fmt.Errorf("the server changed a value: %s %d: %s", level, code, msg)
		}
		delete(want, col)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(cols) {
		return fmt.Errorf("the server reported %d warnings for the %d ENUM error values of the row", n, len(cols))
	}
	return nil
}

// warningColumn returns the column a "Data truncated for column 'c' at
// row n" warning names ("" when it names none).
func warningColumn(msg string) string {
	const p = "column '"
	i := strings.Index(msg, p)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(p):]
	j := strings.LastIndex(rest, "' at row")
	if j < 0 {
		return ""
	}
	return rest[:j]
}
