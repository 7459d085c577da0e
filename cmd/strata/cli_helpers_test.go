package main

import (
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"strata/pack"
)

// This file holds what the CLI tests share beyond the harness in
// cli_test.go: expected failures, the repository's files on disk, and
// ways to damage them.

// sqliteFile creates the SQLite database file name in a folder of its
// own and returns its path and exec, which runs statements on it and
// fails the test on the first error. The connection closes with the test.
func sqliteFile(t *testing.T, name string) (path string, exec func(stmts ...string)) {
	t.Helper()
	path = filepath.Join(t.TempDir(), name)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, func(stmts ...string) {
		t.Helper()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
}

// code runs a command that must exit with want and returns its output.
func (c *tcli) code(want int, args ...string) (stdout, stderr string) {
	c.t.Helper()
	out, errOut, got := c.run(args...)
	if got != want {
		c.t.Fatalf("strata %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, want, out, errOut)
	}
	return out, errOut
}

// backupStdin saves data as the stream /name and returns the snapshot ID.
func (c *tcli) backupStdin(data []byte, name string, flags ...string) string {
	c.t.Helper()
	c.stdin = data
	out := c.ok(append([]string{"backup", "--stdin", "--stdin-name", name, "--json"}, flags...)...)
	var res struct{ ID string }
	if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil || len(res.ID) != 64 {
		c.t.Fatalf("backup --json printed %q: %v", out, err)
	}
	return res.ID
}

// snapshots returns `snapshots --json` with the given filter flags.
func (c *tcli) snapshots(flags ...string) []snapshotJSON {
	c.t.Helper()
	out := c.ok(append([]string{"snapshots", "--json"}, flags...)...)
	var sns []snapshotJSON
	if err := json.Unmarshal([]byte(out), &sns); err != nil {
		c.t.Fatalf("snapshots --json: %v\n%s", err, out)
	}
	return sns
}

// catJSON runs `cat WHAT [ID]` and decodes its JSON output into v.
func (c *tcli) catJSON(v any, args ...string) string {
	c.t.Helper()
	out := c.ok(append([]string{"cat"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("cat %s printed no valid JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// files returns the names of the repository files in folder (keys,
// index, snapshots, locks), sorted.
func (c *tcli) files(folder string) []string {
	c.t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.repo, folder))
	if err != nil {
		c.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// noLocksLeft fails the test if the repository holds a lock file.
func (c *tcli) noLocksLeft() {
	c.t.Helper()
	if locks := c.files("locks"); len(locks) != 0 {
		c.t.Fatalf("locks left: %v", locks)
	}
}

// onlyFile returns the path of the single file in folder.
func (c *tcli) onlyFile(folder string) string {
	c.t.Helper()
	names := c.files(folder)
	if len(names) != 1 {
		c.t.Fatalf("%s holds %d files, want 1: %v", folder, len(names), names)
	}
	return filepath.Join(c.repo, folder, names[0])
}

// packs returns the pack files below data/, found by walking it.
func (c *tcli) packs() map[string]string {
	c.t.Helper()
	packs := map[string]string{} // ID -> path
	err := filepath.Walk(filepath.Join(c.repo, "data"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
			packs[fi.Name()] = p
		}
		return nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return packs
}

// blobInPack is where a blob was found by dataBlob.
type blobInPack struct {
	Pack   string // pack ID
	Path   string // pack file
	Offset int64
	Length int64
}

// dataBlob finds the pack holding the first content blob of the stream
// /name in snapshot ref, through `cat snapshot`, `cat tree` and `cat
// pack-header`.
func (c *tcli) dataBlob(ref, name string) blobInPack {
	c.t.Helper()
	var sn struct{ Tree string }
	c.catJSON(&sn, "snapshot", ref)
	var tree struct {
		Nodes []struct {
			Name    string
			Content []string
		}
	}
	c.catJSON(&tree, "tree", sn.Tree)
	var blob string
	for _, n := range tree.Nodes {
		if n.Name == name && len(n.Content) > 0 {
			blob = n.Content[0]
		}
	}
	if blob == "" {
		c.t.Fatalf("snapshot %s has no content for %s: %+v", ref, name, tree)
	}
	for id, path := range c.packs() {
		var blobs []pack.Blob
		c.catJSON(&blobs, "pack-header", id)
		for _, b := range blobs {
			if b.ID.String() == blob {
				return blobInPack{Pack: id, Path: path, Offset: int64(b.Offset), Length: int64(b.Length)}
			}
		}
	}
	c.t.Fatalf("no pack holds blob %s", blob)
	return blobInPack{}
}

// flipByte inverts one bit of the byte at off (negative: from the end).
// Repository files are 0600; the chmod makes sure we may write.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b := readFile(t, path)
	if off < 0 {
		off += int64(len(b))
	}
	b[off] ^= 0x01
	writeFile(t, path, b)
}

// truncateHalf cuts the file to half its size.
func truncateHalf(t *testing.T, path string) {
	t.Helper()
	b := readFile(t, path)
	writeFile(t, path, b[:len(b)/2])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the folder src to dst, keeping modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, fi.Mode().Perm()|0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clone returns a harness on a copy of c's repository, with c's password.
func (c *tcli) clone(t *testing.T) *tcli {
	t.Helper()
	d := newCLI(t)
	copyDir(t, c.repo, d.repo)
	d.pwFile = c.pwFile
	d.vars["STRATA_PASSWORD_FILE"] = c.pwFile
	return d
}

// noPanic fails t when a command's output shows a Go panic or a goroutine
// dump instead of an error message.
func noPanic(t *testing.T, outputs ...string) {
	t.Helper()
	for _, s := range outputs {
		if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
			t.Errorf("output shows a Go panic:\n%s", s)
		}
	}
}

var (
	sampleOnce sync.Once
	sample     []byte
)

// sampleData is a 1.5 MB generated export, shared read-only by the tests
// (generating it costs a second under the race detector).
func sampleData(t *testing.T) []byte {
	sampleOnce.Do(func() { sample = genData(t, 1536<<10) })
	return sample
}

// lastLine returns the last line of out: the summary of a command whose
// --json output is status lines and then a summary.
func lastLine(out string) string {
	out = strings.TrimRight(out, "\n")
	return out[strings.LastIndex(out, "\n")+1:]
}
