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
