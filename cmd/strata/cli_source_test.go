package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// twoSQLiteSources backs up two SQLite databases A and B, each with a
// table customers holding its own rows, into one repository (B last, so
// B's snapshot is the newest). It returns their DSNs and handles.
func twoSQLiteSources(t *testing.T, c *tcli) (dsnA, dsnB string, a, b *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	open := func(name, who string) (string, *sql.DB) {
		path := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		for _, s := range []string{
			`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
			`INSERT INTO customers VALUES (1, '` + who + `-1'), (2, '` + who + `-2')`,
		} {
			if _, err := db.Exec(s); err != nil {
				t.Fatal(err)
			}
		}
		return "sqlite://" + path, db
	}
	dsnA, a = open("A.db", "a")
	dsnB, b = open("B.db", "b")
	c.ok("backup", "--db", dsnA, "--time", "2025-06-17 13:00:00")
	c.ok("backup", "--db", dsnB, "--time", "2025-06-17 14:00:00")
	return dsnA, dsnB, a, b
}

// customerNames returns the names in table customers, in id order.
func customerNames(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, ",")
}

// The command the README shows, with two databases in one repository:
// `restore latest --db A` restores A's own newest snapshot, never B's.
func TestRestoreLatestTakesTheTargetsOwnSource(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, _, a, _ := twoSQLiteSources(t, c)
	if _, err := a.Exec(`UPDATE customers SET name = 'a-changed' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	c.ok("restore", "latest", "--db", dsnA, "--tables", "customers", "--replace")
	if got := customerNames(t, a); got != "a-1,a-2" {
		t.Fatalf("restore latest into A left customers = %q, want A's own rows a-1,a-2", got)
	}
	// A stream backed up last is no table source: latest is still A's
	// newest backup.
	c.backupStdin([]byte("x\n"), "notes.txt")
	c.ok("restore", "latest", "--db", dsnA, "--tables", "customers", "--replace", "--dry-run")
	// --at picks among A's snapshots too: at 14:30 the newest of A is 13:00.
	if _, err := a.Exec(`UPDATE customers SET name = 'a-changed' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	c.ok("restore", "--at", "2025-06-17 14:30", "--db", dsnA, "--tables", "customers", "--replace", "--no-safety-snapshot")
	if got := customerNames(t, a); got != "a-1,a-2" {
		t.Fatalf("restore --at into A left customers = %q, want a-1,a-2", got)
	}
	// The same file written differently is the same source.
	variant := "sqlite://" + filepath.Dir(strings.TrimPrefix(dsnA, "sqlite://")) + "/./A.db"
	out := c.ok("restore", "latest", "--db", variant, "--replace", "--dry-run", "--json")
	var plan []struct {
		Table      string `json:"table"`
		TargetRows int64  `json:"target_rows"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan) != 1 {
		t.Fatalf("dry run into %s: %v\n%s", variant, err, out)
	}
	c.check()
}

// Writing another source's snapshot into a database that has snapshots
// of its own needs --other-source, by ID and by --source alike.
func TestRestoreOtherSourceNeedsFlag(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, dsnB, a, _ := twoSQLiteSources(t, c)
	idB := c.snapshots("--source", dsnB)
	if len(idB) != 1 || !strings.HasSuffix(idB[0].Source, "/B.db") {
		t.Fatalf("snapshots --source %s: %+v", dsnB, idB)
	}
	for _, args := range [][]string{
		{"restore", idB[0].ID[:8], "--db", dsnA, "--replace"},
		{"restore", "latest", "--source", dsnB, "--db", dsnA, "--replace"},
		{"restore", "--at", "2025-06-17 15:00", "--source", dsnB, "--db", dsnA, "--replace"},
	} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "--other-source") || !strings.Contains(errOut, "B.db") || !strings.Contains(errOut, "A.db") {
			t.Errorf("strata %s: the refusal names neither the sources nor --other-source:\n%s", strings.Join(args, " "), errOut)
		}
		if got := customerNames(t, a); got != "a-1,a-2" {
			t.Fatalf("a refused restore changed A: %q", got)
		}
	}
	c.ok("restore", idB[0].ID[:8], "--db", dsnA, "--replace", "--other-source")
	if got := customerNames(t, a); got != "b-1,b-2" {
		t.Fatalf("restore --other-source left %q, want B's rows", got)
	}
	c.check()
}

// A new, empty database has no snapshots of its own: any snapshot
// restores into it without --other-source. With several sources,
// `latest` needs --source, and the refusal lists them.
func TestRestoreIntoNewDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, dsnB, _, _ := twoSQLiteSources(t, c)
	inspect := "sqlite://" + filepath.Join(t.TempDir(), "inspect.db")
	_, errOut := c.code(exitError, "restore", "latest", "--db", inspect)
	if !strings.Contains(errOut, "--source") || !strings.Contains(errOut, dsnA) || !strings.Contains(errOut, dsnB) {
		t.Errorf("restore latest into a new database with two sources: the refusal does not list them:\n%s", errOut)
	}
	c.ok("restore", "latest", "--db", inspect, "--source", dsnA)
	idB := c.snapshots("--source", dsnB)[0].ID
	inspect2 := filepath.Join(t.TempDir(), "inspect2.db")
	c.ok("restore", idB, "--db", "sqlite://"+inspect2)
	db, err := sql.Open("sqlite", "file:"+inspect2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := customerNames(t, db); got != "b-1,b-2" {
		t.Errorf("restore of B's snapshot into a new database: %q", got)
	}
	// An unknown --source is refused with the list.
	_, errOut = c.code(exitError, "restore", "latest", "--db", inspect, "--source", "sqlite:///nowhere.db")
	if !strings.Contains(errOut, "sqlite:///nowhere.db") || !strings.Contains(errOut, dsnA) {
		t.Errorf("unknown --source: %s", errOut)
	}
}

// dump and verify drill have no target: latest resolves among the only
// source, or needs --source when there are several.
func TestDumpAndDrillResolveOneSource(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, dsnB, _, _ := twoSQLiteSources(t, c)
	for _, args := range [][]string{
		{"dump", "latest", "customers"},
		{"dump", "latest", "customers", "--format", "csv"},
		{"verify", "drill", "latest"},
	} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "--source") || !strings.Contains(errOut, dsnA) || !strings.Contains(errOut, dsnB) {
			t.Errorf("strata %s with two sources: the refusal does not list them:\n%s", strings.Join(args, " "), errOut)
		}
	}
	if got := c.ok("dump", "latest", "customers", "--source", dsnA); got != "1\ta-1\n2\ta-2\n" {
		t.Errorf("dump --source A: %q", got)
	}
	if got := c.ok("dump", "latest", "customers", "--source", strings.Replace(dsnB, "/B.db", "//B.db", 1)); got != "1\tb-1\n2\tb-2\n" {
		t.Errorf("dump --source B: %q", got)
	}
	if out := c.ok("verify", "drill", "latest", "--source", dsnA); !strings.Contains(out, "drill passed") {
		t.Errorf("drill --source A:\n%s", out)
	}
	// With one source, latest needs no --source.
	c1 := newCLI(t)
	c1.ok("init")
	c1.ok("backup", "--db", dsnA)
	c1.backupStdin([]byte("x\n"), "notes.txt")
	if got := c1.ok("dump", "latest", "customers"); got != "1\ta-1\n2\ta-2\n" {
		t.Errorf("dump with one source: %q", got)
	}
	if out := c1.ok("verify", "drill", "latest"); !strings.Contains(out, "drill passed") {
		t.Errorf("drill with one source:\n%s", out)
	}
}

// A drill, a table dump or a database restore of a snapshot of files or
// a stream is a usage error (exit 1) that says what the snapshot saved.
func TestTableCommandsRefuseFileSnapshots(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	id := c.backupStdin([]byte("x\n"), "notes.txt")
	for _, args := range [][]string{
		{"verify", "drill", id[:8]},
		{"dump", id[:8], "customers", "--format", "csv"},
		{"restore", id[:8], "--db", "sqlite://" + filepath.Join(t.TempDir(), "n.db")},
	} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "holds no database tables") || !strings.Contains(errOut, "stdin:notes.txt") {
			t.Errorf("strata %s: %s", strings.Join(args, " "), errOut)
		}
	}
}

// latest passes over restore's pre-restore safety snapshots: the same
// restore typed twice must not restore the state the first one replaced.
func TestRestoreLatestTwice(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, _, a, _ := twoSQLiteSources(t, c)
	if _, err := a.Exec(`UPDATE customers SET name = 'broken' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		c.ok("restore", "latest", "--db", dsnA, "--tables", "customers", "--replace")
		if got := customerNames(t, a); got != "a-1,a-2" {
			t.Fatalf("restore %d left customers = %q, want a-1,a-2", i+1, got)
		}
	}
	if got := c.ok("dump", "latest", "customers", "--source", dsnA); got != "1\ta-1\n2\ta-2\n" {
		t.Errorf("dump latest after two restores: %q", got)
	}
	// The safety snapshot of the broken state restores by ID.
	safe := c.snapshots("--tag", "pre-restore")
	if len(safe) != 2 {
		t.Fatalf("%d pre-restore snapshots, want 2", len(safe))
	}
	c.ok("restore", safe[0].ID[:8], "--db", dsnA, "--tables", "customers", "--replace", "--no-safety-snapshot")
	if got := customerNames(t, a); got != "broken,a-2" {
		t.Errorf("restore of the first safety snapshot left %q, want broken,a-2", got)
	}
}

// Refreshing staging from production again and again: a database that
// only has pre-restore snapshots (taken by earlier restores into it) has
// no snapshots of its own, so it needs no --other-source.
func TestRestoreRefreshNeedsNoOtherSource(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, dsnB, _, _ := twoSQLiteSources(t, c)
	staging, _ := sqliteApp(t) // holds rows, never backed up
	for i := 0; i < 2; i++ {
		c.ok("restore", "latest", "--source", dsnB, "--db", "sqlite://"+staging, "--tables", "customers", "--replace")
	}
	if sns := c.snapshots("--tag", "pre-restore"); len(sns) != 2 {
		t.Fatalf("%d pre-restore snapshots, want 2", len(sns))
	}
	// With two sources, latest still asks which; the pre-restore
	// snapshots of staging are not listed as a source.
	_, errOut := c.code(exitError, "restore", "latest", "--db", "sqlite://"+staging, "--tables", "customers", "--replace")
	if !strings.Contains(errOut, dsnA) || strings.Contains(errOut, staging) {
		t.Errorf("restore latest into staging:\n%s", errOut)
	}
}

// A SQLite file is another database on each machine that has one at that
// path: of snapshots from several machines, latest takes this machine's,
// and with none from this machine --host must say which. Snapshots from
// one other machine restore as they are (a new machine after a loss).
func TestRestoreLocalDatabaseOfSeveralMachines(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, _, a, _ := twoSQLiteSources(t, c) // from this machine, at 13:00
	setName := func(name string) {
		t.Helper()
		if _, err := a.Exec(`UPDATE customers SET name = ? WHERE id = 1`, name); err != nil {
			t.Fatal(err)
		}
	}
	// The same path on two other machines, saved later.
	setName("web1")
	c.ok("backup", "--db", dsnA, "--host", "web1", "--time", "2025-06-17 15:00:00")
	setName("web2")
	c.ok("backup", "--db", dsnA, "--host", "web2", "--time", "2025-06-17 16:00:00")
	setName("broken")
	c.ok("restore", "latest", "--db", dsnA, "--tables", "customers", "--replace", "--no-safety-snapshot")
	if got := customerNames(t, a); got != "a-1,a-2" {
		t.Errorf("restore latest took %q, want this machine's a-1,a-2", got)
	}
	if got := c.ok("dump", "latest", "customers", "--source", dsnA); got != "1\ta-1\n2\ta-2\n" {
		t.Errorf("dump latest took %q, want this machine's", got)
	}
	c.ok("restore", "latest", "--db", dsnA, "--host", "web1", "--tables", "customers", "--replace", "--no-safety-snapshot")
	if got := customerNames(t, a); got != "web1,a-2" {
		t.Errorf("restore latest --host web1 took %q", got)
	}

	// A repository with snapshots of that path from web1 and web2 only.
	c2 := newCLI(t)
	c2.ok("init")
	c2.ok("backup", "--db", dsnA, "--host", "web1", "--time", "2025-06-17 15:00:00")
	setName("broken")
	c2.ok("restore", "latest", "--db", dsnA, "--tables", "customers", "--replace", "--no-safety-snapshot") // one machine: as it is
	if got := customerNames(t, a); got != "web1,a-2" {
		t.Errorf("restore latest of web1's only snapshot took %q", got)
	}
	setName("web2")
	c2.ok("backup", "--db", dsnA, "--host", "web2", "--time", "2025-06-17 16:00:00")
	_, errOut := c2.code(exitError, "restore", "latest", "--db", dsnA, "--tables", "customers", "--replace")
	if !strings.Contains(errOut, "--host") || !strings.Contains(errOut, "web1, web2") {
		t.Errorf("two other machines: the refusal does not name them and --host:\n%s", errOut)
	}
	c2.code(exitError, "verify", "drill", "latest")
	c2.ok("verify", "drill", "latest", "--host", "web2")
}
