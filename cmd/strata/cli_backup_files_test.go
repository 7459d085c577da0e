package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lsPaths lists the file paths of a snapshot below dir, relative to it.
func (c *tcli) lsPaths(snap, dir string) []string {
	c.t.Helper()
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(c.ok("ls", "--json", snap)), "\n") {
		var e struct{ Path, Kind string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			c.t.Fatal(err)
		}
		if e.Kind == "file" && strings.HasPrefix(e.Path, dir+"/") {
			paths = append(paths, strings.TrimPrefix(e.Path, dir+"/"))
		}
	}
	slices.Sort(paths)
	return paths
}

func TestBackupExcludes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"keep.csv": "1,2\n", "skip.tmp": "x", "Big.TMP": "yy", "sub/x.log": "log", "sub/Y.LOG": "log",
		"cache/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n", "cache/junk.bin": "junk",
		"notcache/CACHEDIR.TAG": "no signature", "notcache/kept.bin": "kept",
	})
	patterns := filepath.Join(t.TempDir(), "excludes")
	writeFile0600(t, patterns, "# logs, any case\n\n*.LOG\n")

	lines := jsonLines(t, c.ok("backup", "--json", "--exclude", "*.tmp", "--iexclude-file", patterns, "--exclude-caches", src))
	snap := lines[len(lines)-1].ID
	want := []string{"Big.TMP", "cache/CACHEDIR.TAG", "keep.csv", "notcache/CACHEDIR.TAG", "notcache/kept.bin"}
	if got := c.lsPaths(snap, src); !slices.Equal(got, want) {
		t.Errorf("backup with excludes saved %q, want %q", got, want)
	}
	var size uint64
	for _, p := range want {
		fi, err := os.Stat(filepath.Join(src, p))
		if err != nil {
			t.Fatal(err)
		}
		size += uint64(fi.Size())
	}
	// The scan for progress leaves out what the backup leaves out.
	if st := lines[len(lines)-2]; st.TotalBytes != size || st.TotalFiles != uint64(len(want)) {
		t.Errorf("last status %+v, want totals of %d files, %d bytes", st, len(want), size)
	}

	// --files-from: paths from a file, beside the arguments.
	list := filepath.Join(t.TempDir(), "paths")
	writeFile0600(t, list, filepath.Join(src, "keep.csv")+"\n# comment\n"+filepath.Join(src, "sub")+"\n")
	lines = jsonLines(t, c.ok("backup", "--json", "--files-from", list))
	if got := c.lsPaths(lines[len(lines)-1].ID, src); !slices.Equal(got, []string{"keep.csv", "sub/Y.LOG", "sub/x.log"}) {
		t.Errorf("backup --files-from saved %q", got)
	}

	for _, bad := range [][]string{
		{"backup", "--stdin", "--exclude", "*.tmp"},
		{"backup", "--exclude", "[", src},
		{"backup", "--files-from", filepath.Join(t.TempDir(), "missing")},
	} {
		if _, errOut := c.code(exitError, bad...); !strings.HasPrefix(errOut, "strata: ") {
			t.Errorf("%v: %s", bad, errOut)
		}
	}
}

func TestBackupDryRun(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	data := sampleData(t)
	writeTree(t, src, map[string]string{"a.tsv": string(data)})
	c.ok("backup", src)
	before := c.allFiles()
	writeTree(t, src, map[string]string{"b.txt": "new file\n"})

	out := c.ok("backup", "--dry-run", src)
	if !strings.Contains(out, "dry run: nothing was written") || !strings.Contains(out, "1 new, 0 changed, 1 unmodified") ||
		!strings.Contains(out, "Would read 9 B and add 9 B of new data in 1 blob") {
		t.Errorf("backup --dry-run:\n%s", out)
	}
	lines := jsonLines(t, c.ok("backup", "-n", "--json", src))
	var sum struct {
		DryRun  bool `json:"dry_run"`
		Summary struct {
			BytesAdded uint64 `json:"bytes_added"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lastLine(c.ok("backup", "-n", "--json", src))), &sum); err != nil || !sum.DryRun || sum.Summary.BytesAdded != 9 {
		t.Errorf("backup -n --json summary %+v (%v), lines %+v", sum, err, lines)
	}
	for name := range c.allFiles() { // locks aside
		if _, ok := before[name]; !ok {
			t.Errorf("a dry run wrote %s", name)
		}
	}
	if n := len(c.snapshots()); n != 1 {
		t.Errorf("%d snapshots after dry runs, want 1", n)
	}
	if _, errOut := c.code(exitError, "backup", "--dry-run", "--db", "sqlite:///nonexistent.db"); !strings.Contains(errOut, "--dry-run") {
		t.Errorf("backup --dry-run --db: %s", errOut)
	}
}
