package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A converted file (.csv, .jsonl, a SQLite table's .tsv) read for the
// first time by other processes: cp, wc -c, a shell pipe, and tar and
// stat, which trust the size stat gives. Each must get every byte strata
// dump writes, each in a fresh mount, so no earlier read has taught the
// mount the size. With --measure-max 0 the size stays unknown (0) until
// a reader reaches the end; the readers still get every byte.
func TestMountConvertedSizes(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, `CREATE TABLE events (id INTEGER PRIMARY KEY, who TEXT, note TEXT)`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 40000)
		 INSERT INTO events SELECT i, 'user' || (i % 977), 'note, "quoted" ' || hex(randomblob(8)) FROM s`)
	c.ok("backup", "--db", "sqlite://"+path)
	id := c.snapshots()[0].ShortID
	tools := map[string]func(p, dir string) string{
		"cp": func(p, dir string) string {
			dst := filepath.Join(dir, "copy")
			runTool(t, "cp", p, dst)
			b, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"wc -c": func(p, _ string) string { return strings.TrimSpace(runTool(t, "wc", "-c", p)) },
		"cat | wc -c": func(p, _ string) string {
			return strings.TrimSpace(runTool(t, "sh", "-c", `cat "$1" | wc -c`, "sh", p))
		},
		"stat -c %s": func(p, _ string) string { return strings.TrimSpace(runTool(t, "stat", "-c", "%s", p)) },
		"tar": func(p, dir string) string {
			tarball := filepath.Join(dir, "t.tar")
			runTool(t, "tar", "-cf", tarball, "-C", filepath.Dir(p), filepath.Base(p))
			return runTool(t, "tar", "-xOf", tarball)
		},
	}
	want := map[string]string{}
	for _, format := range []string{"tsv", "csv", "jsonl"} {
		want[format] = c.ok("dump", id, "events", "--format", format)
	}
	for name, tool := range tools {
		t.Run(name, func(t *testing.T) {
			// A mount per tool: each file is first met by the tool.
			m := c.mount()
			for _, format := range []string{"tsv", "csv", "jsonl"} {
				want := want[format]
				p := filepath.Join(m.dir, "ids", id, "events", "events."+format)
				got := tool(p, t.TempDir())
				switch name {
				case "cp", "tar":
					if got != want {
						t.Errorf("%s of %s: %d bytes, strata dump gives %d", name, p, len(got), len(want))
					}
				case "wc -c":
					if got != fmt.Sprintf("%d %s", len(want), p) {
						t.Errorf("wc -c %s: %q, want %d", p, got, len(want))
					}
				default:
					if got != fmt.Sprint(len(want)) {
						t.Errorf("%s %s: %q, want %d", name, p, got, len(want))
					}
				}
			}
		})
	}
}

func TestMountConvertedUnmeasured(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	id := c.snapshots()[0].ShortID
	m := c.mount("--measure-max", "0")
	for _, format := range []string{"tsv", "csv", "jsonl"} {
		want := c.ok("dump", id, "customers", "--format", format)
		p := filepath.Join(m.dir, "ids", id, "customers", "customers."+format)
		if got := strings.TrimSpace(runTool(t, "stat", "-c", "%s", p)); got != "0" {
			t.Errorf("stat %s before a read, not measured: %s bytes, want 0", p, got)
		}
		dst := filepath.Join(t.TempDir(), "copy")
		runTool(t, "cp", p, dst)
		if got, err := os.ReadFile(dst); err != nil || string(got) != want {
			t.Errorf("cp of %s, whose size says 0: %d bytes (%v), strata dump gives %d", p, len(got), err, len(want))
		}
		waitFor(t, p+" shows its size once read", func() bool {
			fi, err := os.Stat(p)
			return err == nil && fi.Size() == int64(len(want))
		})
	}
}
