package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/internal/syncbuf"
)

// The mount tests mount for real (/dev/fuse and fusermount3, from
// Debian's fuse3) and read through the mount from this process and from
// cat and ls, while strata mount serves it as a separate process.

// mounted is a running strata mount.
type mounted struct {
	dir    string
	cmd    *exec.Cmd
	stderr syncbuf.Buffer
}

// needFUSE skips a test where FUSE cannot be used, and fails it under
// CI=true, which must run every test.
func needFUSE(t *testing.T) {
	t.Helper()
	msg := ""
	if _, err := os.Stat("/dev/fuse"); err != nil {
		msg = "/dev/fuse is missing"
	} else if _, err := exec.LookPath("fusermount3"); err != nil {
		msg = "fusermount3 is not on PATH (apt-get install fuse3)"
	}
	if msg == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot test strata mount: %s", msg)
	}
	t.Skipf("skipping: cannot test strata mount: %s", msg)
}

// mount runs strata mount on c's repository with args and waits until
// the views are served; the test's cleanup stops it with SIGINT and
// checks that it unmounted and exited 0.
func (c *tcli) mount(args ...string) *mounted {
	c.t.Helper()
	needFUSE(c.t)
	bin := buildStrata(c.t)
	m := &mounted{dir: filepath.Join(c.t.TempDir(), "mnt")}
	if err := os.Mkdir(m.dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	m.cmd = exec.Command(bin, append(append([]string{"mount"}, args...), m.dir)...)
	for k, v := range c.vars {
		m.cmd.Env = append(m.cmd.Env, k+"="+v)
	}
	m.cmd.Env = append(m.cmd.Env, "PATH="+os.Getenv("PATH"))
	m.cmd.Stderr = &m.stderr
	if err := m.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- m.cmd.Wait() }()
	c.t.Cleanup(func() {
		_ = m.cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				c.t.Errorf("strata mount after SIGINT: %v\n%s", err, m.stderr.String())
			}
		case <-time.After(20 * time.Second):
			_ = m.cmd.Process.Kill()
			_ = exec.Command("fusermount3", "-u", "-z", m.dir).Run()
			c.t.Errorf("strata mount did not stop within 20s of SIGINT\n%s", m.stderr.String())
		}
		if isMountPoint(c.t, m.dir) {
			_ = exec.Command("fusermount3", "-u", "-z", m.dir).Run()
			c.t.Errorf("%s is still mounted after strata mount exited", m.dir)
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(filepath.Join(m.dir, "snapshots")); err == nil {
			return m
		}
		select {
		case err := <-exited:
			exited <- err
			c.t.Fatalf("strata mount exited: %v\n%s", err, m.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the mount did not appear within 20s\n%s", m.stderr.String())
		}
	}
}

// isMountPoint reports whether dir is a mount point of this process's
// mount namespace.
func isMountPoint(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// run runs a command (cat, ls, sha256sum) in another process and returns
// its output.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// waitFor polls cond for up to a minute (a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// checkTableFolder compares a table's folder in the mount with strata
// dump: each format read whole by cat and by this process, the .tsv also
// at random offsets, and meta.json.
func checkTableFolder(t *testing.T, c *tcli, dir, id, table string, rows int64) {
	t.Helper()
	for _, format := range []string{"tsv", "csv", "jsonl"} {
		want := []byte(c.ok("dump", id, table, "--format", format))
		p := filepath.Join(dir, table+"."+format)
		if got := runTool(t, "cat", p); sha([]byte(got)) != sha(want) {
			t.Errorf("cat %s: %d bytes, strata dump --format %s gives %d (contents differ)", p, len(got), format, len(want))
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("reading %s: %d bytes (%v), want the %d of strata dump", p, len(got), err, len(want))
		}
		// Random reads, some across chunk boundaries, in a new handle.
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		for range 50 {
			off := rnd.IntN(len(want))
			n := min(1+rnd.IntN(200_000), len(want)-off)
			buf := make([]byte, n)
			if _, err := f.ReadAt(buf, int64(off)); err != nil || !bytes.Equal(buf, want[off:off+n]) {
				t.Fatalf("%s: %d bytes at %d differ from strata dump (%v)", p, n, off, err)
			}
		}
		f.Close()
		// A stored .tsv has its size at once; a converted file once it
		// was read to the end.
		waitFor(t, p+" shows its size", func() bool {
			fi, err := os.Stat(p)
			return err == nil && fi.Size() == int64(len(want))
		})
	}
	var meta struct {
		Table, Snapshot, Source string
		Rows                    int64
		Key                     []string
	}
	if err := json.Unmarshal([]byte(runTool(t, "cat", filepath.Join(dir, "meta.json"))), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Rows != rows || !strings.HasPrefix(meta.Snapshot, id) || meta.Source == "" || len(meta.Key) != 1 || meta.Key[0] != "id" {
		t.Errorf("meta.json = %+v, want %d rows, snapshot %s, key [id]", meta, rows, id)
	}
	if s := runTool(t, "cat", filepath.Join(dir, "schema.sql")); !strings.Contains(strings.ToUpper(s), "CREATE TABLE") {
		t.Errorf("schema.sql:\n%s", s)
	}
}

// TestMountTables backs up a PostgreSQL table of several thousand chunks
// (so its chunk list is pages two levels high) and a SQLite one, and
// reads them through the mount: every format equals strata dump, the
// stored .tsv has its size at once and reads at any offset.
func TestMountTables(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	pg := pgDB(t)
	pg.exec(t, `CREATE TABLE events (id bigint PRIMARY KEY, who text, note text, amount numeric)`,
		`INSERT INTO events SELECT i, 'user' || (i % 977), CASE WHEN i % 7 = 0 THEN NULL ELSE md5(i::text) || E'\ttab,comma "q"' END, i * 0.25
		 FROM generate_series(1, 120000) i`)
	c.ok("backup", "--db", pg.dsn, "--tier", "hourly", "--tag", "pg")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path, "--tier", "daily")
	sns := c.snapshots()
	pgID, liteID := sns[0].ShortID, sns[1].ShortID

	m := c.mount()
	events := filepath.Join(m.dir, "ids", pgID, "public.events", "public.events.tsv")
	if fi, err := os.Stat(events); err != nil || fi.Size() != int64(len(c.ok("dump", pgID, "public.events"))) {
		t.Errorf("%s before any read: %v (%v), want the size of strata dump", events, fi, err)
	}
	checkTableFolder(t, c, filepath.Join(m.dir, "ids", pgID, "public.events"), pgID, "public.events", 120000)
	checkTableFolder(t, c, filepath.Join(m.dir, "ids", liteID, "customers"), liteID, "customers", 3)

	// Every view reaches them.
	for _, p := range []string{"snapshots", "tiers/hourly", "tiers/daily", "tags/pg", "hosts/" + sns[0].Host} {
		if out := runTool(t, "ls", filepath.Join(m.dir, p)); !strings.Contains(out, "latest") {
			t.Errorf("ls %s:\n%s", p, out)
		}
	}
	if target, err := os.Readlink(filepath.Join(m.dir, "tiers", "hourly", "latest")); err != nil ||
		runTool(t, "ls", filepath.Join(m.dir, "tiers", "hourly", target)) != "public.events\nschema.json\nschema.pgdump\n" {
		t.Errorf("tiers/hourly/latest -> %q (%v)", target, err)
	}
	if target, _ := os.Readlink(filepath.Join(m.dir, "ids", "latest")); target != liteID {
		t.Errorf("ids/latest -> %q, want %s", target, liteID)
	}
	if t.Failed() {
		t.Logf("strata mount said:\n%s", m.stderr.String())
	}
}

// TestMountFollowsTheRepository mounts, then backs up, forgets and
// prunes while the mount serves: a new snapshot appears and latest moves
// to it, a forgotten one disappears, prune is not kept waiting, and a
// read of a file whose data prune removed fails with EIO and a message,
// not with other bytes.
func TestMountFollowsTheRepository(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(src, 0o700); err != nil {
		t.Fatal(err)
	}
	old := randomBytes(3, 3<<20)
	if err := os.WriteFile(filepath.Join(src, "big.bin"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", src, "--time", "2025-06-02 03:00:00")
	first := c.snapshots()[0]

	m := c.mount("--refresh", "200ms")
	view := filepath.Join(m.dir, "snapshots")
	if out := runTool(t, "ls", view); !strings.Contains(out, "2025-06-02T") {
		t.Fatalf("ls snapshots:\n%s", out)
	}
	// The first snapshot's file is not read before prune: the mount
	// would serve it from its cache of chunks (verified bytes) after.
	if got := runTool(t, "ls", "-l", filepath.Join(view, "latest", src)); !strings.Contains(got, " 3145728 ") {
		t.Fatalf("ls -l: %s", got)
	}

	// A new snapshot appears, under its name and its ID, and latest
	// moves to it.
	fresh := randomBytes(5, 2<<20)
	writeFile(t, filepath.Join(src, "big.bin"), fresh)
	c.ok("backup", src, "--time", "2025-06-02 04:00:00")
	second := c.snapshots()[1]
	waitFor(t, "the new snapshot in the mount", func() bool {
		target, err := os.Readlink(filepath.Join(view, "latest"))
		return err == nil && target == "2025-06-02T04-00-00Z"
	})
	// A listing of the view shows it too (the kernel keeps listings).
	waitFor(t, "the new snapshot in ls of the view", func() bool {
		return strings.Contains(runTool(t, "ls", view), "2025-06-02T04-00-00Z")
	})
	freshPath := filepath.Join(m.dir, "ids", second.ShortID, src, "big.bin")
	// Reads at any offset of a file (its chunks' lengths learned as they
	// load), from the end backwards, before anything read it (ids/ links
	// to the folder under snapshots/: one inode, whose pages the kernel
	// keeps).
	ff, err := os.Open(filepath.Join(view, "2025-06-02T04-00-00Z", src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for off := len(fresh) - 70_000; off > 0; off -= 333_333 {
		buf := make([]byte, 70_000)
		if _, err := ff.ReadAt(buf, int64(off)); err != nil || !bytes.Equal(buf, fresh[off:off+len(buf)]) {
			t.Errorf("%s: 70000 bytes at %d differ (%v)", freshPath, off, err)
		}
	}
	ff.Close()
	if got := runTool(t, "cat", freshPath); !bytes.Equal([]byte(got), fresh) {
		t.Errorf("the new snapshot's file differs from what was backed up")
	}
	// A stream backup shows its stream.
	stream := randomBytes(7, 300_000)
	streamID := c.backupStdin(stream, "app.sql")
	waitFor(t, "the stream's snapshot in the mount", func() bool {
		got, err := os.ReadFile(filepath.Join(m.dir, "ids", streamID[:8], "app.sql"))
		return err == nil && bytes.Equal(got, stream)
	})

	// Open the first snapshot's file before its data goes.
	f, err := os.Open(filepath.Join(m.dir, "ids", first.ShortID, src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.ok("forget", first.ID)
	c.ok("prune", "--retry-lock", "30s")
	waitFor(t, "the forgotten snapshot gone from the mount", func() bool {
		_, err := os.Stat(filepath.Join(view, "2025-06-02T03-00-00Z"))
		return errors.Is(err, os.ErrNotExist)
	})
	waitFor(t, "the forgotten snapshot gone from ls of the view", func() bool {
		return !strings.Contains(runTool(t, "ls", view), "2025-06-02T03-00-00Z")
	})
	buf := make([]byte, 1<<20)
	n, err := f.ReadAt(buf, 1<<20)
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("reading a pruned file: %d bytes, %v; want EIO", n, err)
	}
	// The message reaches this process through a pipe, after the read
	// failed: wait for it.
	named := func(log string) bool {
		return strings.Contains(log, first.ShortID) && strings.Contains(log, "big.bin") && strings.Contains(log, "prune")
	}
	for deadline := time.Now().Add(time.Minute); !named(m.stderr.String()) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if log := m.stderr.String(); !named(log) {
		t.Errorf("the mount's message does not name the snapshot and file:\n%s", log)
	}
	if got := runTool(t, "cat", filepath.Join(view, "2025-06-02T04-00-00Z", src, "big.bin")); !bytes.Equal([]byte(got), fresh) {
		t.Errorf("the kept snapshot's file differs after prune")
	}
}

// TestMountChangeLog backs up a PostgreSQL table hour after hour, so that
// later hours store it as base pages and a change log (docs/design.md,
// "Table change logs"), and reads every hour's table through the mount:
// its stored .tsv, found by descending the pages with the log's patches
// applied, and the .csv and .jsonl converted from it, each equal to
// strata dump, whole and at random offsets.
func TestMountChangeLog(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	pg := pgDB(t)
	src := logDB{dsn: pg.dsn, db: pg.db}
	fillLogDB(t, src)
	c.ok("backup", "--db", src.dsn)
	for _, stmts := range changeLogHours {
		for _, q := range stmts {
			if _, err := src.db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		c.ok("backup", "--db", src.dsn)
	}
	m := c.mount()
	logs := 0
	for _, sn := range c.snapshots() {
		if strings.Contains(c.ok("cat", "tree", sn.Tree), `"log":`) {
			logs++
		}
		rows := strings.Count(c.ok("dump", sn.ShortID, "public.c"), "\n")
		checkTableFolder(t, c, filepath.Join(m.dir, "ids", sn.ShortID, "public.c"), sn.ShortID, "public.c", int64(rows))
	}
	if logs < 3 {
		t.Errorf("%d snapshots have a table with a change log, want at least 3", logs)
	}
	if t.Failed() {
		t.Logf("strata mount said:\n%s", m.stderr.String())
	}
}
