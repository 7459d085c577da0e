package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreSQLiteTargetNameTakenLiterally: a restore writes into the
// file the DSN names, whatever its name holds. SQLite reads a file: URI's
// %XX escapes and ends its name at ? or #, so "a#b.db" once went into a
// file "a", and "p%41.db" into "pA.db".
func TestRestoreSQLiteTargetNameTakenLiterally(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	for _, name := range []string{"a#b.db", "p%41.db", "q?mode=memory.db", "r%3fx.db"} {
		func() {
			dir, err := os.MkdirTemp(t.TempDir(), "target")
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, name)
			c.ok("restore", "latest", "--db", "sqlite://"+target, "--source", "sqlite://"+path)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) != 1 || names[0] != name {
				t.Errorf("restore into %s wrote the files %q", target, names)
				return
			}
			c.ok("backup", "--db", "sqlite://"+target)
			out := c.ok("dump", "latest", "customers", "--format", "csv", "--source", "sqlite://"+target)
			if !strings.Contains(out, "a@x.com") || !strings.Contains(out, "b@x.com") {
				t.Errorf("dump of the restored %s:\n%s", name, out)
			}
		}()
	}
}

// TestRestoreDryRunCreatesNoSQLiteFile: a dry run into a SQLite file
// that does not exist plans a new database and leaves no file behind (it
// used to create an empty one); into a missing folder it fails, as the
// restore would; an existing file is read, not changed.
func TestRestoreDryRunCreatesNoSQLiteFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	src := "sqlite://" + path
	c.ok("backup", "--db", src)
	dir := t.TempDir()
	target := filepath.Join(dir, "new.db")
	out := c.ok("restore", "latest", "--db", "sqlite://"+target, "--source", src, "--dry-run")
	if !strings.Contains(out, "create and load") {
		t.Errorf("dry run into a new file:\n%s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the dry run left %d files in %s", len(entries), dir)
	}
	_, errOut := c.code(exitError, "restore", "latest", "--db", "sqlite://"+filepath.Join(dir, "no", "new.db"), "--source", src, "--dry-run")
	if !strings.Contains(errOut, filepath.Join(dir, "no")) {
		t.Errorf("dry run into a missing folder: %s", errOut)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.code(exitError, "restore", "latest", "--db", src, "--dry-run")
	out = c.ok("restore", "latest", "--db", src, "--replace", "--dry-run")
	if !strings.Contains(out, "replace (drops 3 rows)") {
		t.Errorf("dry run of a replace:\n%s", out)
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
		t.Errorf("the dry run changed %s (%v)", path, err)
	}
}

// TestRestoreOwnSourceThroughSymlink: a SQLite file named through a
// symlink (or the snapshots' path being the link) is the same database:
// latest takes its own snapshots, and another database's snapshot needs
// --other-source, as through its recorded path.
func TestRestoreOwnSourceThroughSymlink(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dsnA, dsnB, a, _ := twoSQLiteSources(t, c)
	link := filepath.Join(t.TempDir(), "current.db")
	if err := os.Symlink(strings.TrimPrefix(dsnA, "sqlite://"), link); err != nil {
		t.Fatal(err)
	}
	idB := c.snapshots("--source", dsnB)[0].ID[:8]
	_, errOut := c.code(exitError, "restore", idB, "--db", "sqlite://"+link, "--tables", "customers", "--replace")
	if !strings.Contains(errOut, "--other-source") || !strings.Contains(errOut, dsnA) {
		t.Errorf("B's snapshot into A through a symlink: %s", errOut)
	}
	if got := customerNames(t, a); got != "a-1,a-2" {
		t.Fatalf("a refused restore changed A: %q", got)
	}
	if _, err := a.Exec(`UPDATE customers SET name = 'changed'`); err != nil {
		t.Fatal(err)
	}
	c.ok("restore", "latest", "--db", "sqlite://"+link, "--tables", "customers", "--replace")
	if got := customerNames(t, a); got != "a-1,a-2" {
		t.Errorf("restore latest through a symlink to A left %q, want A's rows", got)
	}
}
