package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// latest~N names the Nth snapshot before latest, among the snapshots
// latest chooses from: the repository's for ls, a database's for dump,
// restore and diff.
func TestLatestTilde(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dir := t.TempDir()
	appPath, otherPath := filepath.Join(dir, "app.db"), filepath.Join(dir, "other.db")
	app, err := sql.Open("sqlite", "file:"+appPath)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	execAll(t, app, `CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)`, `INSERT INTO customers VALUES (1, 'a')`)
	c.ok("backup", "--db", "sqlite://"+appPath, "--time", "2025-06-02 01:00:00")
	execAll(t, app, `INSERT INTO customers VALUES (2, 'b')`)
	c.ok("backup", "--db", "sqlite://"+appPath, "--time", "2025-06-02 02:00:00")
	execAll(t, app, `INSERT INTO customers VALUES (3, 'c')`)
	c.ok("backup", "--db", "sqlite://"+appPath, "--time", "2025-06-02 03:00:00")
	other, err := sql.Open("sqlite", "file:"+otherPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	execAll(t, other, `CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)`)
	c.ok("backup", "--db", "sqlite://"+otherPath, "--time", "2025-06-02 04:00:00")
	sns := c.snapshots()
	if len(sns) != 4 {
		t.Fatalf("%d snapshots", len(sns))
	}
	app1, app2, app3 := sns[0].ID, sns[1].ID, sns[2].ID
	src := "sqlite://" + appPath

	// The repository's: latest~1 is app's newest, whatever its source.
	if got, want := c.ok("ls", "latest~1"), c.ok("ls", app3); got != want {
		t.Errorf("ls latest~1:\n%s\nwant ls %s:\n%s", got, app3, want)
	}
	if got, want := c.ok("ls", "latest^^"), c.ok("ls", app2); got != want {
		t.Errorf("ls latest^^ is not ls %s", app2)
	}

	// A database's: within --source, as latest.
	for ref, id := range map[string]string{"latest": app3, "latest~": app2, "latest~1": app2, "latest~2": app1, "latest~1~1": app1} {
		if got, want := c.ok("dump", ref, "customers", "--source", src), c.ok("dump", id, "customers"); got != want {
			t.Errorf("dump %s --source app: %q, want that of %s: %q", ref, got, id, want)
		}
	}
	var st struct {
		A, B struct{ ID string }
	}
	out := c.ok("diff", "--json", "latest~2", "latest~1", "--source", src)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.A.ID != app1 || st.B.ID != app2 {
		t.Errorf("diff latest~2 latest~1: A %s B %s, want %s %s", st.A.ID, st.B.ID, app1, app2)
	}
	// B left out is latest, in A's database.
	if out := c.ok("diff", "latest~1", "--source", src); !strings.Contains(out, sns[1].ShortID) || !strings.Contains(out, sns[2].ShortID) {
		t.Errorf("diff latest~1 --source app:\n%s", out)
	}

	target := filepath.Join(dir, "restored.db")
	c.ok("restore", "latest~1", "--source", src, "--db", "sqlite://"+target)
	c.ok("backup", "--db", "sqlite://"+target, "--time", "2025-06-02 05:00:00")
	if got, want := c.ok("dump", "latest", "customers", "--source", "sqlite://"+target), c.ok("dump", app2, "customers"); got != want {
		t.Errorf("restore latest~1 restored %q, want %q", got, want)
	}

	// Too far back, and a malformed one: errors that say so.
	if _, errOut := c.code(exitError, "dump", "latest~3", "customers", "--source", src); !strings.Contains(errOut, "latest~3") || !strings.Contains(errOut, "3 snapshots") {
		t.Errorf("dump latest~3 of 3 snapshots: %s", errOut)
	}
	if _, errOut := c.code(exitError, "ls", "latest~x"); !strings.Contains(errOut, "latest~x") {
		t.Errorf("ls latest~x: %s", errOut)
	}
}
