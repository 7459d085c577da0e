package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTimesOneFormat: every table shows a snapshot's time the same way,
// with its zone, and every time flag reads the same forms.
func TestTimesOneFormat(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	first := c.backupStdin([]byte("one\n"), "a.sql", "--time", "2025-06-17 10:00:00")
	// RFC 3339 for --time as for --until and --at.
	at := time.Date(2025, 6, 17, 11, 0, 0, 0, time.Local).Format(time.RFC3339)
	c.backupStdin([]byte("two\n"), "a.sql", "--time", at)

	stamp := regexp.MustCompile(`2025-06-17 10:00:00 \S+`)
	snaps := c.ok("snapshots")
	forget := c.ok("forget", "--dry-run", "--keep-last", "1")
	s, f := stamp.FindString(snaps), stamp.FindString(forget)
	if s == "" || s != f {
		t.Errorf("snapshot %s shows as %q in snapshots and %q in forget; want one time with its zone\nsnapshots:\n%s\nforget:\n%s", first[:8], s, f, snaps, forget)
	}
	if want := showTime(time.Date(2025, 6, 17, 10, 0, 0, 0, time.Local)); s != want {
		t.Errorf("snapshots shows %q, want %q", s, want)
	}

	target := t.TempDir()
	for _, when := range []string{
		time.Date(2025, 6, 17, 10, 30, 0, 0, time.Local).Format(time.RFC3339),
		"2025-06-17 10:30", "2025-06-17 10:30:00", "2025-06-17T10:30:00",
	} {
		dir := t.TempDir()
		c.ok("restore", "--at", when, "--target", dir)
		if got := string(readFile(t, filepath.Join(dir, "a.sql"))); got != "one\n" {
			t.Errorf("restore --at %q wrote %q, want the 10:00 snapshot's stream", when, got)
		}
	}
	_, errOut := c.code(exitError, "restore", "--at", "17.06.2025", "--target", target)
	if !strings.Contains(errOut, `invalid --at "17.06.2025"`) || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("a malformed --at: %s", errOut)
	}
	_, errOut = c.code(exitError, "backup", "--stdin", "--stdin-name", "x", "--time", "yesterday")
	if !strings.Contains(errOut, `invalid --time "yesterday"`) || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("a malformed --time: %s", errOut)
	}

	// A stream has no time of its own: ls --long shows the snapshot's.
	long := c.ok("ls", "--long", first)
	if strings.Contains(long, "0001-01-01") || !strings.Contains(long, s) {
		t.Errorf("ls --long of a stream shows no snapshot time %q:\n%s", s, long)
	}
}
