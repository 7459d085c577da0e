package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree creates the files (name -> content) below dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// regularFiles lists the regular files below dir, relative to it.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func TestRestoreIncludeExclude(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"a.csv": "a", "B.CSV": "b", "notes.txt": "n",
		"exports/c.csv": "c", "exports/old/d.csv": "d", "exports/e.txt": "e",
	})
	var res struct{ ID string }
	if err := json.Unmarshal([]byte(lastLine(c.ok("backup", "--json", src))), &res); err != nil {
		t.Fatal(err)
	}
	c.backupStdin([]byte("stream"), "stream.sql") // now latest; the test names its snapshot
	rel := strings.TrimPrefix(filepath.ToSlash(src), "/")
	tests := []struct {
		name  string
		flags []string
		want  []string // below src
	}{
		{"base name", []string{"--include", "*.csv"}, []string{"a.csv", "exports/c.csv", "exports/old/d.csv"}},
		{"any case", []string{"--iinclude", "*.csv"}, []string{"B.CSV", "a.csv", "exports/c.csv", "exports/old/d.csv"}},
		{"last parts", []string{"--include", "exports/*.csv"}, []string{"exports/c.csv"}},
		{"whole path", []string{"--include", "/" + rel + "/exports"}, []string{"exports/c.csv", "exports/e.txt", "exports/old/d.csv"}},
		{"exclude", []string{"--exclude", "*.csv", "--exclude", "old"}, []string{"B.CSV", "exports/e.txt", "notes.txt"}},
		{"include and exclude", []string{"--include", "exports", "--exclude", "old"}, []string{"exports/c.csv", "exports/e.txt"}},
		{"any depth with **", []string{"--include", "/" + rel + "/**/d.csv"}, []string{"exports/old/d.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := t.TempDir()
			c.ok(append([]string{"restore", res.ID, "--target", target}, tt.flags...)...)
			got := regularFiles(t, filepath.Join(target, src))
			if !slices.Equal(got, tt.want) {
				t.Errorf("restore %v wrote %q, want %q", tt.flags, got, tt.want)
			}
		})
	}
	_, errOut := c.code(1, "restore", res.ID, "--target", t.TempDir(), "--include", "*.xls")
	if !strings.Contains(errOut, "match nothing") || !strings.Contains(errOut, "*.xls") {
		t.Errorf("an include that matches nothing: %s", errOut)
	}
	_, errOut = c.code(1, "restore", res.ID, "--target", t.TempDir(), "--exclude", "[")
	if !strings.Contains(errOut, `pattern "["`) {
		t.Errorf("a malformed pattern: %s", errOut)
	}
}
