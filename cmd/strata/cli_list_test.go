package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"strata/repo"
)

func TestStats(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	first := c.backupStdin(data, "export.tsv")
	c.backupStdin(data, "export.tsv")
	n := uint64(len(data))

	stats := func(args ...string) statsJSON {
		t.Helper()
		var st statsJSON
		out := c.ok(append([]string{"stats", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("stats --json: %v\n%s", err, out)
		}
		return st
	}
	// What the repository holds on disk, locks and the reserve for a full
	// disk aside.
	var onDisk uint64
	_ = filepath.Walk(c.repo, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.Contains(p, string(filepath.Separator)+"locks"+string(filepath.Separator)) &&
			p != filepath.Join(c.repo, "reserve") {
			onDisk += uint64(fi.Size())
		}
		return nil
	})

	tests := []struct {
		name      string
		args      []string
		snapshots int
		raw       uint64
		dedup     [2]float64 // the range the ratio must fall in
	}{
		// Unique data are the content blobs alone: the ratios are exact.
		{"all snapshots", nil, 2, 2 * n, [2]float64{2.0, 2.0}},
		{"one snapshot", []string{first[:8]}, 1, n, [2]float64{1.0, 1.0}},
		{"latest", []string{"latest"}, 1, n, [2]float64{1.0, 1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := stats(tt.args...)
			if st.Snapshots != tt.snapshots || st.Files != uint64(tt.snapshots) || st.RawBytes != tt.raw {
				t.Errorf("stats = %+v, want %d snapshots, %d files, raw_bytes %d", st, tt.snapshots, tt.snapshots, tt.raw)
			}
			if st.DedupRatio < tt.dedup[0] || st.DedupRatio > tt.dedup[1] {
				t.Errorf("dedup_ratio %.3f, want %.2f..%.2f", st.DedupRatio, tt.dedup[0], tt.dedup[1])
			}
			if st.UniqueBytes != n {
				t.Errorf("unique_bytes %d, want the %d bytes of data", st.UniqueBytes, n)
			}
			if st.StoredDataBytes == 0 || st.CompressionRatio < 1.5 {
				t.Errorf("stored_data_bytes %d, compression_ratio %.2f: a text export should compress", st.StoredDataBytes, st.CompressionRatio)
			}
			if st.StoredTreeBytes == 0 || st.StoredBytes != st.StoredDataBytes+st.StoredTreeBytes {
				t.Errorf("stored_bytes %d is not data %d plus trees %d", st.StoredBytes, st.StoredDataBytes, st.StoredTreeBytes)
			}
			if want := float64(st.RawBytes) / float64(st.StoredBytes); st.TotalRatio != want {
				t.Errorf("total_ratio %.3f, want raw / stored = %.3f", st.TotalRatio, want)
			}
			if st.RepositoryBytes != onDisk {
				t.Errorf("repository_bytes %d, the files on disk hold %d", st.RepositoryBytes, onDisk)
			}
		})
	}
	out := c.ok("stats")
	for _, want := range []string{"Snapshots:          2\n", "Dedup ratio:        2.00x (raw / unique)", "Compression ratio:  ", "Total ratio:        ", fmt.Sprintf("Raw size:           %s", "3.0 MiB")} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lacks %q:\n%s", want, out)
		}
	}
	if _, errOut := c.code(exitError, "stats", "ffff"); !strings.Contains(errOut, "snapshot not found") {
		t.Errorf("stats of an unknown snapshot: %q", errOut)
	}
}

func TestLs(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	mtime := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"a.csv", "id,name\n1,x\n", 0o640},
		{"sub/b.txt", "hello\n", 0o600},
		{"sub/empty", "", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(src, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.csv", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", src)

	plain := strings.Split(strings.TrimSpace(c.ok("ls", "latest")), "\n")
	for _, want := range []string{src, src + "/a.csv", src + "/link", src + "/sub", src + "/sub/b.txt", src + "/sub/empty"} {
		found := false
		for _, l := range plain {
			found = found || l == want
		}
		if !found {
			t.Errorf("ls latest lacks %s:\n%s", want, strings.Join(plain, "\n"))
		}
	}

	type lsLine struct {
		Path, Name, Kind, Mode, Mtime string
		Size                          uint64
	}
	got := map[string]lsLine{}
	for _, l := range strings.Split(strings.TrimSpace(c.ok("ls", "--json", "latest")), "\n") {
		var e lsLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("ls --json line %q: %v", l, err)
		}
		got[e.Path] = e
	}
	if len(got) != len(plain) {
		t.Errorf("ls --json lists %d nodes, ls %d", len(got), len(plain))
	}
	for _, f := range files {
		e := got[src+"/"+f.path]
		want := lsLine{Path: src + "/" + f.path, Name: filepath.Base(f.path), Kind: "file", Mode: fmt.Sprintf("%04o", f.mode), Size: uint64(len(f.data))}
		if e.Path != want.Path || e.Name != want.Name || e.Kind != want.Kind || e.Mode != want.Mode || e.Size != want.Size {
			t.Errorf("ls --json: %+v, want %+v", e, want)
		}
		if tm, err := time.Parse(time.RFC3339Nano, e.Mtime); err != nil || !tm.Equal(mtime) {
			t.Errorf("ls --json: %s has mtime %q, want %v", f.path, e.Mtime, mtime)
		}
	}
	if e := got[src+"/link"]; e.Kind != "symlink" {
		t.Errorf("ls --json: link = %+v", e)
	}
	if e := got[src+"/sub"]; e.Kind != "dir" || e.Mode != "0750" {
		t.Errorf("ls --json: sub = %+v", e)
	}

	long := c.ok("ls", "--long", "latest")
	stamp := showTime(mtime)
	for _, f := range files {
		re := regexp.MustCompile(fmt.Sprintf(`(?m)^file +%04o +%d %s %s$`, f.mode, len(f.data), regexp.QuoteMeta(stamp), regexp.QuoteMeta(src+"/"+f.path)))
		if !re.MatchString(long) {
			t.Errorf("ls --long has no line for %s matching %s:\n%s", f.path, re, long)
		}
	}
	if short := c.ok("ls", "-l", "latest"); short != long {
		t.Errorf("ls -l differs from ls --long")
	}
}

func TestSnapshotsFilters(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	ids := []string{
		c.backupStdin([]byte("one\n"), "x", "--host", "db1", "--tag", "app", "--tier", "hourly", "--time", "2025-01-01 10:00:00"),
		c.backupStdin([]byte("two\n"), "x", "--host", "db2", "--tag", "app", "--tag", "nightly", "--tier", "daily", "--time", "2025-01-02 10:00:00"),
		c.backupStdin([]byte("three\n"), "x", "--host", "db1", "--tier", "daily", "--time", "2025-01-03 10:00:00"),
	}
	tests := []struct {
		flags []string
		want  []int // indexes into ids, oldest first
	}{
		{nil, []int{0, 1, 2}},
		{[]string{"--host", "db1"}, []int{0, 2}},
		{[]string{"--host", "db2"}, []int{1}},
		{[]string{"--tag", "app"}, []int{0, 1}},
		{[]string{"--tag", "nightly"}, []int{1}},
		{[]string{"--tier", "daily"}, []int{1, 2}},
		{[]string{"--tier", "hourly"}, []int{0}},
		{[]string{"--host", "db1", "--tier", "daily"}, []int{2}},
		{[]string{"--tag", "app", "--tier", "daily", "--host", "db2"}, []int{1}},
		{[]string{"--host", "nowhere"}, nil},
		{[]string{"--tag", "ap"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			d := c.as(t, c.pwFile)
			sns := d.snapshots(tt.flags...)
			var got []string
			for _, sn := range sns {
				got = append(got, sn.ID)
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, ids[i])
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("snapshots --json %v = %v, want %v", tt.flags, got, want)
			}
			out := d.ok(append([]string{"snapshots"}, tt.flags...)...)
			summary := fmt.Sprintf("\n%d snapshots\n", len(want))
			if len(want) == 1 {
				summary = "\n1 snapshot\n"
			}
			if !strings.HasSuffix(out, summary) {
				t.Errorf("snapshots %v:\n%s\nwant %d snapshots", tt.flags, out, len(want))
			}
			for _, id := range want {
				if !strings.Contains(out, id[:8]) {
					t.Errorf("snapshots %v does not list %s", tt.flags, id[:8])
				}
			}
		})
	}
	sns := c.snapshots("--tag", "nightly")
	if len(sns) == 1 && (sns[0].Host != "db2" || sns[0].Tier != "daily" || strings.Join(sns[0].Tags, ",") != "app,nightly" ||
		!strings.HasPrefix(sns[0].Time, "2025-01-02T10:00:00") || sns[0].Source == "" || sns[0].ShortID != sns[0].ID[:8]) {
		t.Errorf("snapshots --json = %+v", sns[0])
	}
}

// staleLock leaves an exclusive lock whose one-minute lease ran out an
// hour ago, as a process that did not unlock does. Its refresh loop is
// stopped at the end of the test.
func (c *tcli) staleLock(command string) {
	c.t.Helper()
	ctx := context.Background()
	old := c.openAPI(repo.Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }, LockLease: time.Minute})
	stale, err := old.Lock(ctx, true, command)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = stale.Unlock(ctx) })
}

func TestUnlock(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	ctx := context.Background()
	c.staleLock("stale-test")
	if n := len(c.files("locks")); n != 1 {
		t.Fatalf("%d lock files, want 1", n)
	}

	// unlock removes it without taking a lock.
	out, errOut := c.code(exitOK, "unlock")
	if out != "1 lock removed\n" || !strings.Contains(errOut, "removed exclusive lock") || !strings.Contains(errOut, "stale-test") {
		t.Errorf("unlock: stdout %q, stderr %q", out, errOut)
	}
	if n := len(c.files("locks")); n != 0 {
		t.Errorf("%d lock files after unlock, want 0", n)
	}
	if out := c.ok("unlock"); out != "0 locks removed\n" {
		t.Errorf("second unlock: %q", out)
	}

	// A live lock stays, unless --remove-all.
	live, err := c.openAPI(repo.Options{}).Lock(ctx, false, "live-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Unlock(ctx) })
	if out := c.ok("unlock"); out != "0 locks removed\n" || len(c.files("locks")) != 1 {
		t.Errorf("unlock removed a live lock: %q", out)
	}
	out, errOut = c.code(exitOK, "unlock", "--remove-all")
	if out != "1 lock removed\n" || !strings.Contains(errOut, "live-test") || len(c.files("locks")) != 0 {
		t.Errorf("unlock --remove-all: stdout %q, stderr %q, %d locks left", out, errOut, len(c.files("locks")))
	}
	if out, errOut := c.code(exitOK, "-q", "unlock"); out != "0 locks removed\n" || errOut != "" {
		t.Errorf("unlock -q: stdout %q, stderr %q", out, errOut)
	}
}

func TestStaleLockRemovedByNextCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.staleLock("stale-test")

	c.stdin = []byte("data\n")
	_, errOut := c.code(exitOK, "backup", "--stdin")
	if !strings.Contains(errOut, "notice: removed stale exclusive lock") || !strings.Contains(errOut, "lease expired") || !strings.Contains(errOut, "stale-test") {
		t.Errorf("backup with a stale lock: stderr %q, want a notice naming it", errOut)
	}
	if n := len(c.files("locks")); n != 0 {
		t.Errorf("%d lock files after the backup, want 0", n)
	}
	if _, errOut := c.code(exitOK, "snapshots"); strings.Contains(errOut, "stale") {
		t.Errorf("the next command still sees a stale lock: %q", errOut)
	}
}
