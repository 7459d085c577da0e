package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountViewsLinkToSnapshots: every view but snapshots/ names a
// snapshot by a symlink to its folder under snapshots/, so ls -R (which
// does not follow symlinks) lists each snapshot's files once, not once
// per view; each link reads the snapshot's files, latest still links to
// the newest entry of its view, and a forgotten snapshot's links go.
func TestMountViewsLinkToSnapshots(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(src, 0o700); err != nil {
		t.Fatal(err)
	}
	content := map[string][]byte{} // snapshot name -> its file
	for i, b := range []struct{ time, tier, tag string }{
		{"2025-06-02 03:00:00", "hourly", "a"},
		{"2025-06-02 04:00:00", "hourly", "a"},
		{"2025-06-03 00:00:00", "daily", "b"},
	} {
		data := randomBytes(uint64(20+i), 50_000+i)
		if err := os.WriteFile(filepath.Join(src, "f.bin"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c.ok("backup", src, "--time", b.time, "--tier", b.tier, "--tag", b.tag)
		content[strings.NewReplacer(" ", "T", ":", "-").Replace(b.time)+"Z"] = data
	}
	sns := c.snapshots()
	m := c.mount("--refresh", "200ms")

	// ls -R in another process: each snapshot's file once.
	if n := strings.Count(runTool(t, "ls", "-R", m.dir), "\nf.bin\n"); n != len(sns) {
		t.Errorf("ls -R of the mount lists f.bin %d times, want once per snapshot (%d)", n, len(sns))
	}
	links := map[string]string{ // link -> target
		"tiers/hourly/2025-06-02T03-00-00Z":              "../../snapshots/2025-06-02T03-00-00Z",
		"tiers/hourly/2025-06-02T04-00-00Z":              "../../snapshots/2025-06-02T04-00-00Z",
		"tiers/hourly/latest":                            "2025-06-02T04-00-00Z",
		"tiers/daily/2025-06-03T00-00-00Z":               "../../snapshots/2025-06-03T00-00-00Z",
		"tags/a/2025-06-02T04-00-00Z":                    "../../snapshots/2025-06-02T04-00-00Z",
		"tags/b/latest":                                  "2025-06-03T00-00-00Z",
		"hosts/" + sns[0].Host + "/2025-06-02T03-00-00Z": "../../snapshots/2025-06-02T03-00-00Z",
		"snapshots/latest":                               "2025-06-03T00-00-00Z",
	}
	for _, sn := range sns {
		name := strings.NewReplacer(":", "-").Replace(sn.Time[:19]) + "Z"
		links["ids/"+sn.ShortID] = "../snapshots/" + name
	}
	for link, want := range links {
		p := filepath.Join(m.dir, link)
		if got, err := os.Readlink(p); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want -> %s", link, got, err, want)
			continue
		}
		resolved, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Errorf("%s: %v", link, err)
			continue
		}
		file := filepath.Join(p, src, "f.bin")
		if got := runTool(t, "cat", file); !bytes.Equal([]byte(got), content[filepath.Base(resolved)]) {
			t.Errorf("cat %s: %d bytes, not the file of snapshot %s", file, len(got), filepath.Base(resolved))
		}
	}
	// snapshots/ holds the folders themselves.
	if fi, err := os.Lstat(filepath.Join(m.dir, "snapshots", "2025-06-02T03-00-00Z")); err != nil || !fi.IsDir() {
		t.Errorf("snapshots/2025-06-02T03-00-00Z: %v (%v), want a folder", fi, err)
	}

	// Forget the first: its links go from every view.
	c.ok("forget", sns[0].ID)
	for _, link := range []string{"tiers/hourly/2025-06-02T03-00-00Z", "hosts/" + sns[0].Host + "/2025-06-02T03-00-00Z", "ids/" + sns[0].ShortID} {
		waitFor(t, link+" gone from the mount", func() bool {
			_, err := os.Lstat(filepath.Join(m.dir, link))
			return errors.Is(err, os.ErrNotExist)
		})
	}
	if t.Failed() {
		t.Logf("strata mount said:\n%s", m.stderr.String())
	}
}
