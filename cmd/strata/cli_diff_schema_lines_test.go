package main

import (
	"strings"
	"testing"
)

// A changed table definition shows the lines that changed (an index, a
// check constraint added), not the prefix both definitions share.
func TestDiffSchemaNamesChangedLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		engine string
		db     func(*testing.T) serverDB
		create string
		alter  []string
		want   []string
	}{
		{"mysql", mariaDB,
			"CREATE TABLE items (id int PRIMARY KEY, sku varchar(40), name varchar(200), price decimal(10,2), note text, qty int, made datetime)",
			[]string{"ALTER TABLE items ADD INDEX (sku)"},
			[]string{"added: KEY `sku` (`sku`)"}},
		{"postgres", pgDB,
			"CREATE TABLE items (id int PRIMARY KEY, sku varchar(40), name varchar(200), price numeric(10,2), note text, qty int, made timestamp)",
			[]string{"ALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0)"},
			[]string{"added: ", "qty_positive", "qty > 0"}},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			t.Parallel()
			s := tc.db(t)
			s.exec(t, tc.create)
			c := newCLI(t)
			c.ok("init")
			c.ok("backup", "--db", s.dsn, "--time", historyHour(0))
			s.exec(t, tc.alter...)
			c.ok("backup", "--db", s.dsn, "--time", historyHour(1))
			out := c.ok("diff", "latest~1", "latest")
			i := strings.Index(out, "schema changes:\n")
			if i < 0 {
				t.Fatalf("diff names no schema change:\n%s", out)
			}
			var line string
			for _, l := range strings.Split(out[i:], "\n") {
				if strings.Contains(l, tc.want[0]) {
					line = l
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("schema changes do not say %q on one line:\n%s", w, out)
				}
			}
		})
	}
}
