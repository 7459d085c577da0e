package main

import (
	"strings"
	"testing"
)

// TestTablesPatternMatchingNothingIsRefused: a --tables pattern that
// matches no table is a typo, not a wish: backup and restore refuse it,
// naming the pattern and the tables there are, instead of quietly saving
// or restoring the others and exiting 0.
func TestTablesPatternMatchingNothingIsRefused(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	_, errOut := c.code(exitError, "backup", "--db", dsn, "--tables", "customers,ordres")
	if !strings.Contains(errOut, "ordres") || !strings.Contains(errOut, "orders") {
		t.Errorf("backup --tables customers,ordres: the refusal does not name the pattern and the tables:\n%s", errOut)
	}
	if sns := c.snapshots(); len(sns) != 0 {
		t.Fatalf("the refused backup saved %d snapshots", len(sns))
	}
	c.ok("backup", "--db", dsn, "--tables", "cust*", "--tables", "orders")
	if _, err := db.Exec(`DELETE FROM orders`); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		args := append([]string{"restore", "latest", "--db", dsn, "--tables", "customers,ordres", "--replace"}, extra...)
		_, errOut = c.code(exitError, args...)
		if !strings.Contains(errOut, "ordres") || !strings.Contains(errOut, "orders") {
			t.Errorf("restore --tables customers,ordres: the refusal does not name the pattern and the tables:\n%s", errOut)
		}
	}
	if sns := c.snapshots("--tag", "pre-restore"); len(sns) != 0 {
		t.Errorf("the refused restore took %d safety snapshots", len(sns))
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("orders holds %d rows (%v) after a refused restore", n, err)
	}
	c.ok("restore", "latest", "--db", dsn, "--tables", "orders", "--replace")
	if err := db.QueryRow(`SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 3 {
		t.Errorf("orders holds %d rows (%v) after its restore, want 3", n, err)
	}
}
