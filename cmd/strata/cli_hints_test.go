package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorHintsNameWhatToType: the advice in an error is a command that
// works: dump of a file by its base name suggests the file's full path,
// and a restore onto existing files names the --overwrite flag.
func TestErrorHintsNameWhatToType(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"exports/orders.csv": "id\n1\n"})
	c.ok("backup", src)

	full := filepath.ToSlash(src) + "/exports/orders.csv"
	_, errOut := c.code(exitError, "dump", "latest", "orders.csv")
	if !strings.Contains(errOut, "strata dump latest "+full) {
		t.Errorf("dump latest orders.csv: stderr %q, want the hint strata dump latest %s", errOut, full)
	}
	if out := c.ok("dump", "latest", full); out != "id\n1\n" {
		t.Errorf("the hinted command printed %q", out)
	}

	target := t.TempDir()
	c.ok("restore", "latest", "--target", target)
	_, errOut = c.code(exitError, "restore", "latest", "--target", target)
	if !strings.Contains(errOut, "--overwrite") {
		t.Errorf("restore onto existing files: stderr %q, want it to name --overwrite", errOut)
	}
	c.ok("restore", "latest", "--target", target, "--overwrite")
}

// TestRestoreRefusesFlagsOfTheOtherKind: a files flag with --db, or a
// tables flag with --target, is refused rather than ignored (restore
// --db ... --include customers restored every table).
func TestRestoreRefusesFlagsOfTheOtherKind(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.csv": "1\n"})
	c.ok("backup", src)
	into := "sqlite://" + filepath.Join(t.TempDir(), "new.db")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "--at", "2099-01-01", "--db", into, "--source", "sqlite://" + path, "--include", "customers"}, "--include applies to a restore of files (--target); for tables: --tables"},
		{[]string{"restore", "latest", "--target", t.TempDir(), "--tables", "customers"}, "--tables applies to a restore of tables (--db)"},
		{[]string{"restore", "latest", "--target", t.TempDir(), "--db", into}, "give --target DIR (files) or --db DSN (tables), not both"},
	} {
		if _, errOut := c.code(exitError, tt.args...); !strings.Contains(errOut, tt.want) {
			t.Errorf("strata %q: stderr %q, want %q", tt.args, errOut, tt.want)
		}
	}
}
