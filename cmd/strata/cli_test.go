package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"strata/internal/gendata"
	"strata/repo/crypto"
)

// cli runs strata commands in-process against one repository folder, with
// the password in STRATA_PASSWORD_FILE and cheap key derivation.
//
// A test that shares nothing with others (its own temporary folders,
// repositories, SQLite files, dbtest.TempDatabase databases, MinIO
// buckets, ports from :0) starts with t.Parallel(): make unit runs this
// package under -race, and on 2 cores the tests' waits (fsync, database
// servers, processes) overlap. Tests that set the environment, print help
// from an action, run strata without runInProcess, or whose outcome
// depends on timing (leases, interrupts, kills) stay sequential.
type tcli struct {
	t      *testing.T
	repo   string
	vars   map[string]string
	stdin  []byte
	pwFile string
}

func newCLI(t *testing.T) *tcli {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &tcli{t: t, repo: filepath.Join(dir, "repo"), pwFile: pw}
	c.vars = map[string]string{"STRATA_REPOSITORY": c.repo, "STRATA_PASSWORD_FILE": pw, "TMPDIR": t.TempDir()}
	return c
}

// run returns stdout, stderr and the exit code.
func (c *tcli) run(args ...string) (string, string, int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{
		stdin: bytes.NewReader(c.stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return c.vars[k] },
		kdf:    crypto.CheapKDFParams(),
	}
	c.stdin = nil
	code := runInProcess(args, e)
	return out.String(), errOut.String(), code
}

// inProcess serialises the parsing of the commands tests run in this
// process: urfave/cli writes to its global help flag and help command each
// time it parses arguments, so two commands parsing at once (in tests
// marked t.Parallel) are a data race the race detector reports. A strata
// process runs one command. The lock is released as the command's action
// starts (env.parsed), so the commands of parallel tests run side by side;
// a command that ends before its action (help, a usage error) holds it to
// the end.
var inProcess sync.Mutex

// runInProcess runs one strata command with e in this process.
func runInProcess(args []string, e *env) int {
	inProcess.Lock()
	var once sync.Once
	unlock := func() { once.Do(inProcess.Unlock) }
	defer unlock()
	e.parsed = unlock
	return run(context.Background(), append([]string{"strata"}, args...), e)
}

// ok runs a command that must succeed and returns its stdout.
func (c *tcli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("strata %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c *tcli) repoSize() int64 {
	var n int64
	_ = filepath.Walk(c.repo, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func (c *tcli) check() {
	c.t.Helper()
	if out := c.ok("check", "--read-data"); !strings.Contains(out, "no errors were found") {
		c.t.Fatalf("check output: %s", out)
	}
}

func genData(t *testing.T, size int64) []byte {
	var b bytes.Buffer
	if _, err := gendata.Write(&b, size); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBackupRestoreFiles(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	data := genData(t, 3<<20)
	files := map[string][]byte{
		"customers.tsv":    data,
		"sub/notes.txt":    []byte("hello\n"),
		"sub/deeper/empty": {},
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub/notes.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--tag", "first", src)
	before := c.repoSize()
	out := c.ok("backup", src)
	if !strings.Contains(out, "0 new, 0 changed, 3 unmodified") {
		t.Errorf("second backup did not reuse unchanged files:\n%s", out)
	}
	if grown := c.repoSize() - before; grown*100 > before {
		t.Errorf("backing up the same data again grew the repository by %d of %d bytes (want under 1%%)", grown, before)
	}
	target := t.TempDir()
	c.ok("restore", "latest", "--target", target)
	for name, content := range files {
		got, err := os.ReadFile(filepath.Join(target, src, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("%s differs after restore", name)
		}
	}
	if l, err := os.Readlink(filepath.Join(target, src, "link")); err != nil || l != "sub/notes.txt" {
		t.Errorf("symlink restored as %q, %v", l, err)
	}
	dump := c.ok("dump", "latest", filepath.Join(src, "customers.tsv"))
	if dump != string(data) {
		t.Error("dump differs from the file")
	}
	ls := c.ok("ls", "latest")
	if !strings.Contains(ls, filepath.Join(src, "sub/notes.txt")) {
		t.Errorf("ls misses a file:\n%s", ls)
	}
	c.check()
}

func TestBackupStdinTwiceDedups(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := genData(t, 4<<20)
	c.stdin = data
	c.ok("backup", "--stdin", "--stdin-name", "export.tsv", "--tier", "hourly", "--host", "db1", "--time", "2025-06-17 14:00:00")
	before := c.repoSize()
	c.stdin = data
	c.ok("backup", "--stdin", "--stdin-name", "export.tsv", "--tier", "daily", "--host", "db1")
	if grown := c.repoSize() - before; grown*100 > before {
		t.Errorf("the same stream again grew the repository by %d of %d bytes (want under 1%%)", grown, before)
	}
	var sns []map[string]any
	if err := json.Unmarshal([]byte(c.ok("snapshots", "--json")), &sns); err != nil {
		t.Fatal(err)
	}
	if len(sns) != 2 {
		t.Fatalf("%d snapshots, want 2", len(sns))
	}
	for _, key := range []string{"id", "time", "host", "tags", "tier", "source", "paths"} {
		if _, ok := sns[0][key]; !ok {
			t.Errorf("snapshots --json lacks %q", key)
		}
	}
	if sns[0]["tier"] != "hourly" || sns[0]["host"] != "db1" || !strings.HasPrefix(sns[0]["time"].(string), "2025-06-17T14:00:00") {
		t.Errorf("first snapshot = %v", sns[0])
	}
	if got := c.ok("dump", "latest", "/export.tsv"); got != string(data) {
		t.Error("dump of the stream differs")
	}
	c.check()
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if _, _, code := c.run("snapshots"); code != exitNoRepository {
		t.Errorf("no repository: exit %d, want %d", code, exitNoRepository)
	}
	c.ok("init")
	if _, _, code := c.run("init"); code != exitError {
		t.Errorf("init twice: exit %d, want 1", code)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	_ = os.WriteFile(wrong, []byte("nope"), 0o600)
	c.vars["STRATA_PASSWORD_FILE"] = wrong
	_, errOut, code := c.run("snapshots")
	if code != exitWrongPass || !strings.Contains(errOut, "wrong password or no key found") {
		t.Errorf("wrong password: exit %d, stderr %q", code, errOut)
	}
	c.vars["STRATA_PASSWORD_FILE"] = c.pwFile
}
