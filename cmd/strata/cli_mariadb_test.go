package main

import (
	"strings"
	"testing"
)

// TestMariaDBNoPrimaryKeyText backs up 100,000 rows of a table without
// primary key that has TEXT and BLOB columns, on the server's default
// sort buffer ("Out of sort memory" before), and restores them. The
// notice about a missing primary key names only the tables backed up.
func TestMariaDBNoPrimaryKeyText(t *testing.T) {
	t.Parallel()
	s := mariaDB(t)
	s.exec(t,
		`CREATE TABLE notes (author varchar(40), body text, attachment blob, big longtext) ENGINE=InnoDB`,
		// Small values keep the test fast under -race: the sort key the
		// server sizes for a TEXT or BLOB column does not depend on them.
		`INSERT INTO notes SELECT concat('author ', seq % 100), concat('note ', seq % 5000),
			IF(seq % 7 = 0, NULL, unhex(hex(seq % 3000))), IF(seq % 20000 = 0, repeat('x', 100000), NULL) FROM seq_1_to_100000`,
		`CREATE TABLE scratch (x int, y text)`,
		`INSERT INTO scratch VALUES (1, 'a'), (2, 'b')`,
	)
	want := s.str(t, `SELECT concat(count(*), ' ', sum(crc32(concat_ws('|', author, body, hex(attachment), big)))) FROM notes`)
	c := newCLI(t)
	c.ok("init")
	out, errOut := c.code(0, "backup", "--db", s.dsn, "--exclude-tables", "scratch")
	if !strings.Contains(errOut, "table notes has no primary key") {
		t.Errorf("no notice about notes:\n%s%s", out, errOut)
	}
	if strings.Contains(errOut, "scratch") {
		t.Errorf("a notice names the excluded table scratch:\n%s", errOut)
	}

	dst := mariaDB(t)
	c.ok("restore", "latest", "--db", dst.dsn)
	if got := dst.str(t, `SELECT concat(count(*), ' ', sum(crc32(concat_ws('|', author, body, hex(attachment), big)))) FROM notes`); got != want {
		t.Errorf("restored notes: %s, want %s", got, want)
	}
	if n := dst.int(t, `SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'scratch'`); n != 0 {
		t.Errorf("the excluded table was restored")
	}
}
