package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFind finds files by base name and tables by name across snapshots.
func TestFind(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"exports/a.csv": "1\n", "notes.txt": "n"})
	c.ok("backup", src)
	writeTree(t, src, map[string]string{"exports/b.CSV": "2\n"})
	c.ok("backup", src)
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)

	var res []findSnapshotJSON
	if err := json.Unmarshal([]byte(c.ok("find", "--json", "*.csv")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || len(res[0].Matches) != 1 || len(res[1].Matches) != 1 || res[0].Matches[0].Path != src+"/exports/a.csv" {
		t.Errorf("find *.csv = %+v, want a.csv in both files snapshots", res)
	}
	if err := json.Unmarshal([]byte(c.ok("find", "--json", "-i", "*.csv")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || len(res[0].Matches) != 2 {
		t.Errorf("find -i *.csv = %+v, want a.csv and b.CSV in the newest files snapshot", res)
	}
	if err := json.Unmarshal([]byte(c.ok("find", "--json", "customers")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Matches) != 1 || res[0].Matches[0].Kind != "table" || res[0].Matches[0].Path != "/customers" {
		t.Errorf("find customers = %+v, want the table", res)
	}
	out, errOut := c.code(exitOK, "find", "notes.txt")
	if strings.Count(out, src+"/notes.txt") != 2 || !strings.Contains(errOut, "2 matches in 3 snapshots") {
		t.Errorf("find notes.txt:\n%s\n%s", out, errOut)
	}
	if out := c.ok("find", "--json", "nothing-like-this"); strings.TrimSpace(out) != "[]" {
		t.Errorf("find with no match printed %q, want []", out)
	}
	c.code(exitError, "find")
}

// TestFindPostgresTableBareName finds a PostgreSQL table by the name
// restore --tables and dump accept, without its schema, as well as by
// schema.table; a longer name that starts alike does not match.
func TestFindPostgresTableBareName(t *testing.T) {
	t.Parallel()
	db := pgDB(t)
	db.exec(t, "CREATE TABLE orders (id int PRIMARY KEY)", "CREATE TABLE orders2 (id int PRIMARY KEY)")
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", db.dsn)
	for _, pattern := range []string{"orders", "public.orders", "ORDERS"} {
		var res []findSnapshotJSON
		if err := json.Unmarshal([]byte(c.ok("find", "--json", "-i", pattern)), &res); err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || len(res[0].Matches) != 1 || res[0].Matches[0].Path != "/public.orders" {
			t.Errorf("find %s = %+v, want the table public.orders only", pattern, res)
		}
	}
}
