package main

import (
	"strings"
	"testing"
)

// TestJSONLWritesHTMLCharacters: jsonl output of dump, diff and history
// writes &, < and > as they are, as any JSON reader takes them, not as
// \u0026, \u003c and \u003e (which it wrote before).
func TestJSONLWritesHTMLCharacters(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := diffSQLite(t, 3)
	c.ok("backup", "--db", "sqlite://"+path)
	execAll(t, db, `UPDATE customers SET email = 'Tom & Jerry <tj@example.com>' WHERE id = 2`)
	c.ok("backup", "--db", "sqlite://"+path)
	for _, args := range [][]string{
		{"dump", "latest", "customers", "--format", "jsonl"},
		{"diff", "latest~1", "latest", "--format", "jsonl"},
		{"history", "customers", "--key", "2", "--format", "jsonl"},
	} {
		out := c.ok(args...)
		if !strings.Contains(out, `"Tom & Jerry <tj@example.com>"`) {
			t.Errorf("strata %s does not write the value as it is:\n%s", strings.Join(args, " "), out)
		}
	}
}
