package mysql

import (
	"database/sql"
	"testing"

	"strata/dbexport"
)

// TestColumnDefaultMySQL8: information_schema.COLUMNS.COLUMN_DEFAULT as
// MySQL 8 reports it (literals bare, expressions marked DEFAULT_GENERATED
// in EXTRA, NULL for DEFAULT NULL), against MariaDB's (expressions,
// quoted strings, the text NULL). No MySQL 8 server can be installed on
// the test machines (Debian 12 ships MariaDB only), so this path is
// tested on the values MySQL's documentation gives.
func TestColumnDefaultMySQL8(t *testing.T) {
	str := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	for _, c := range []struct {
		mariaDB     bool
		def         sql.NullString
		extra, kind string
		want        string // "" for none
	}{
		{false, str("abc"), "", dbexport.KindText, "'abc'"},
		{false, str("it's"), "", dbexport.KindText, "'it''s'"},
		{false, str("3"), "", dbexport.KindInt, "3"},
		{false, str("1.50"), "", dbexport.KindNumeric, "1.50"},
		{false, str("CURRENT_TIMESTAMP"), "DEFAULT_GENERATED", dbexport.KindTimestamp, "CURRENT_TIMESTAMP"},
		{false, str("(rand() * 10)"), "DEFAULT_GENERATED", dbexport.KindFloat, "(rand() * 10)"},
		{false, str("2024-01-01 00:00:00"), "", dbexport.KindTimestamp, "'2024-01-01 00:00:00'"},
		{false, sql.NullString{}, "", dbexport.KindText, ""},
		{true, str("'abc'"), "", dbexport.KindText, "'abc'"},
		{true, str("current_timestamp()"), "", dbexport.KindTimestamp, "current_timestamp()"},
		{true, str("NULL"), "", dbexport.KindText, ""},
	} {
		s := &Source{mariaDB: c.mariaDB}
		got := s.columnDefault(c.def, c.extra, c.kind)
		g := ""
		if got != nil {
			g = *got
		}
		if g != c.want {
			t.Errorf("mariaDB %v, default %v, extra %q: %q, want %q", c.mariaDB, c.def, c.extra, g, c.want)
		}
	}
}
