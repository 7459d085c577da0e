package main

import (
	"testing"
)

// TestMariaDBEnumErrorValue: an ENUM column holding the error value (the
// empty string, index 0, which a server outside strict mode stores for a
// value that is not a member) restores as it was, beside "" of an ENUM
// that has "" as a member, with and without --jobs. Failed before: the
// restore's strict session refused the row ("Data truncated for column
// 'e'") and left the tables restored before it.
func TestMariaDBEnumErrorValue(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t,
		"CREATE TABLE a_first (id int PRIMARY KEY)",
		"INSERT INTO a_first VALUES (1)",
		"CREATE TABLE t (id int PRIMARY KEY, e enum('x','y'), f enum('','it''s'), g enum('p','q') NOT NULL, s varchar(5))",
		"SET SESSION sql_mode = ''",
		"INSERT INTO t VALUES (1, 'z', '', 'nope', 'a'), (2, 'x', 'it''s', 'q', 'b'), (3, NULL, NULL, 'p', NULL), (4, 'bad', 'it''s', 'p', '')",
		"SET SESSION sql_mode = DEFAULT",
	)
	// More than one batch after the error values.
	src.exec(t, "INSERT INTO t SELECT seq, 'y', '', 'q', 'c' FROM seq_5_to_2500")
	const ordinals = "SELECT GROUP_CONCAT(CONCAT_WS(':', id, e+0, f+0, g+0) ORDER BY id) FROM t"
	want := src.str(t, ordinals)
	wantRows := tableHashes(t, src)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	for _, jobs := range []string{"1", "2"} {
		dst := mariaDB(t)
		c.ok("restore", "latest", "--db", dst.dsn, "--jobs", jobs)
		if got := dst.str(t, ordinals); got != want {
			t.Errorf("--jobs %s: ENUM ordinals restored\n%s\nwant\n%s", jobs, got, want)
		}
		diffMaps(t, "rows", tableHashes(t, dst), wantRows)
	}
}
