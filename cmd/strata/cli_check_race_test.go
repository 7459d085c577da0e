package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/repo/crypto"
)

// TestCheckCountsCommandsEndedDuringIt: two backups run to their end
// while a check runs, after it read the audit trail and before it read
// the packs and snapshots (as a backup does during a long check
// --read-data): each saves its snapshot, writes its audit record and
// removes its lock. The first keeps its record, so check finds nothing
// wrong with its snapshot; the second's record is removed, so check
// still names its snapshot as one no audit record names (failed before:
// check named the first snapshot too, as it was in neither the trail it
// had read nor the locks it read after the walk).
func TestCheckCountsCommandsEndedDuringIt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	before := c.backupStdin([]byte("before the check\n"), "a.txt")
	var ended, unrecorded string
	var out, errOut bytes.Buffer
	e := &env{
		stdin: bytes.NewReader(nil), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return c.vars[k] },
		kdf:    crypto.CheapKDFParams(),
		checkTrailRead: func() {
			ended = c.backupStdin([]byte("during the check\n"), "b.txt")
			records := c.files("audit")
			unrecorded = c.backupStdin([]byte("during the check, record removed\n"), "c.txt")
			for _, n := range c.files("audit") {
				if !slices.Contains(records, n) {
					if err := os.Remove(filepath.Join(c.repo, "audit", n)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if locks := c.files("locks"); len(locks) != 1 {
				t.Fatalf("locks besides check's left by the backups: %v", locks)
			}
		},
	}
	code := runInProcess([]string{"check"}, e)
	if ended == "" {
		t.Fatalf("check did not call its hook once the trail was read (exit %d)\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	if code != exitCheckFailed {
		t.Fatalf("check: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitCheckFailed, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "checked 3 snapshots") {
		t.Errorf("check did not walk the snapshots saved while it ran:\n%s", out.String())
	}
	if want := "snapshot " + unrecorded[:8] + " (of "; !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "is named by no audit record") {
		t.Errorf("check does not name snapshot %s, whose record was removed, as unrecorded:\n%s", unrecorded[:8], out.String())
	}
	for _, id := range []string{before, ended} {
		if strings.Contains(out.String(), "snapshot "+id[:8]+" (of ") {
			t.Errorf("check names snapshot %s, which an audit record names:\n%s", id[:8], out.String())
		}
	}
}
