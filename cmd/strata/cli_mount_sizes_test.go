package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A converted file (.csv, .jsonl, a SQLite table's .tsv) read for the
// first time by other processes: cp, wc -c, a shell pipe, and tar and
// stat, which trust the size stat gives. Each must get every byte strata
// dump writes, each in a fresh mount, so no earlier read has taught the
// mount the size. With --measure-max 0 the size stays unknown (0) until
// a reader reaches the end; the readers still get every byte.
func TestMountConvertedSizes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+eventsDB(t))
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
	t.Parallel()
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

// eventsDB is a SQLite database of one table, events, of 40,000 rows
// (about 2 MB).
func eventsDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, `CREATE TABLE events (id INTEGER PRIMARY KEY, who TEXT, note TEXT)`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 40000)
		 INSERT INTO events SELECT i, 'user' || (i % 977), 'note, "quoted" ' || hex(randomblob(8)) FROM s`)
	return path
}

// A converted file of a table stored in more than --measure-max bytes
// says 0 bytes at its first look, and the mount measures it in the
// background: its exact size shows without any reader reading it, and
// then tar (which copies as many bytes as stat says) and cp from other
// processes get every byte of strata dump. The same table unchanged in a
// later snapshot shows its exact size at its first look (measured once).
// Before the measurer, the size stayed 0 until a reader reached the end.
func TestMountConvertedMeasuredInBackground(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	db := eventsDB(t)
	c.ok("backup", "--db", "sqlite://"+db)
	c.ok("backup", "--db", "sqlite://"+db)
	snaps := c.snapshots()
	first, second := snaps[0].ShortID, snaps[1].ShortID
	m := c.mount("--measure-max", "4KiB")
	for _, format := range []string{"tsv", "csv", "jsonl"} {
		want := c.ok("dump", first, "events", "--format", format)
		p := filepath.Join(m.dir, "ids", first, "events", "events."+format)
		size := func(p string) int64 {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		// Nothing reads the file: only stat looks at it.
		for deadline := time.Now().Add(2 * time.Minute); size(p) != int64(len(want)); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stat %s: %d bytes after 2 minutes, strata dump gives %d", p, size(p), len(want))
			}
		}
		dir := t.TempDir()
		tarball := filepath.Join(dir, "t.tar")
		runTool(t, "tar", "-cf", tarball, "-C", filepath.Dir(p), filepath.Base(p))
		if got := runTool(t, "tar", "-xOf", tarball); got != want {
			t.Errorf("tar of %s: %d bytes, strata dump gives %d", p, len(got), len(want))
		}
		runTool(t, "cp", p, filepath.Join(dir, "copy"))
		if got, err := os.ReadFile(filepath.Join(dir, "copy")); err != nil || string(got) != want {
			t.Errorf("cp of %s: %d bytes (%v), strata dump gives %d", p, len(got), err, len(want))
		}
		p2 := filepath.Join(m.dir, "ids", second, "events", "events."+format)
		if got := size(p2); got != int64(len(want)) {
			t.Errorf("stat %s, the same table in a later snapshot: %d bytes at its first look, want %d", p2, got, len(want))
		}
	}
}
