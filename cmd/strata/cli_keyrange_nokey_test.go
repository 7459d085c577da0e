package main

import (
	"strings"
	"testing"
)

// --key-range selects rows by primary key: dump refuses a table without
// one, naming it, and diff says it did not compare such a table rather
// than counting it unchanged.
func TestKeyRangeTableWithoutPrimaryKey(t *testing.T) {
	t.Parallel()
	pg := pgDB(t)
	pg.exec(t, `CREATE TABLE log (n int, msg text)`, `INSERT INTO log VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
		`CREATE TABLE orders (id int PRIMARY KEY, v text)`, `INSERT INTO orders VALUES (1, 'a'), (2, 'b')`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", pg.dsn, "--time", historyHour(0))
	pg.exec(t, `UPDATE log SET msg = 'B' WHERE n = 2`, `UPDATE orders SET v = 'B' WHERE id = 2`)
	c.ok("backup", "--db", pg.dsn, "--time", historyHour(1))

	out, errOut := c.code(1, "dump", "latest", "public.log", "--key-range", "1..2")
	if out != "" || !strings.Contains(errOut, "table public.log has no primary key") {
		t.Errorf("dump --key-range of a table without a primary key: stdout %q, stderr %q", out, errOut)
	}
	st := c.diffStat("latest~1", "latest", "--key-range", "1..3")
	for _, tb := range st.Tables {
		want := map[string]string{"public.log": "not compared", "public.orders": "changed"}[tb.Table]
		if tb.Status != want {
			t.Errorf("diff --key-range --json: table %s status %q, want %q", tb.Table, tb.Status, want)
		}
	}
	if out := c.ok("diff", "latest~1", "latest", "--key-range", "1..3"); !strings.Contains(out, "1 table not compared (no primary key for --key-range): public.log") || strings.Contains(out, "unchanged") {
		t.Errorf("diff --key-range --stat:\n%s", out)
	}
	if _, errOut := c.code(0, "diff", "latest~1", "latest", "--key-range", "1..3", "--format", "jsonl"); !strings.Contains(errOut, "table public.log: not compared") {
		t.Errorf("diff --key-range --format jsonl says nothing of public.log on stderr: %q", errOut)
	}
}
