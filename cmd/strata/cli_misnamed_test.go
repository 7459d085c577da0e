package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSwappedSnapshotFilesCLI swaps the bytes of two snapshot files (each
// stored under the other's name): check names both as stored under the
// wrong name and advises repair snapshots, which gives each its own name
// back; both snapshots then restore under their original IDs and nothing
// is forgotten.
func TestSwappedSnapshotFilesCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	first := c.backupStdin(sampleData(t), "export.tsv")
	second := c.backupStdin([]byte("the second snapshot\n"), "notes.txt")
	a, b := filepath.Join(c.repo, "snapshots", first), filepath.Join(c.repo, "snapshots", second)
	bytesA, bytesB := readFile(t, a), readFile(t, b)
	writeFile(t, a, bytesB)
	writeFile(t, b, bytesA)

	out, cmds := c.checkAdvice()
	for _, want := range []string{
		"snapshot file snapshots/" + first + " is stored under the wrong name (its content is snapshot " + second[:8],
		"snapshot file snapshots/" + second + " is stored under the wrong name (its content is snapshot " + first[:8],
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "is damaged") {
		t.Errorf("check calls an intact, misnamed snapshot file damaged:\n%s", out)
	}
	if strings.Join(cmds, "|") != "strata repair snapshots" {
		t.Errorf("check --json what_to_do %q, want repair snapshots alone", cmds)
	}

	// Readers take each file as the snapshot its content is, by its own
	// ID, saying so.
	var ids []string
	for _, sn := range c.snapshots() {
		ids = append(ids, sn.ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, sorted(first, second)) {
		t.Errorf("snapshots before the repair: %v, want %s and %s", ids, first[:8], second[:8])
	}
	dumped, errOut := c.code(0, "dump", first, "/export.tsv")
	if dumped != string(sampleData(t)) || !strings.Contains(errOut, "snapshots/"+second+" is stored under the wrong name: its content is snapshot "+first[:8]) {
		t.Errorf("dump %s before the repair: %d bytes, want %d; stderr:\n%s", first[:8], len(dumped), len(sampleData(t)), errOut)
	}

	out = c.ok("repair", "snapshots", "--forget", "--dry-run")
	if !strings.Contains(out, "would be stored under its own name (dry run)") || strings.Contains(out, "would be removed") {
		t.Errorf("repair snapshots --forget --dry-run:\n%s", out)
	}
	if string(readFile(t, a)) != string(bytesB) {
		t.Fatal("the dry run changed a snapshot file")
	}

	out = c.ok("repair", "snapshots", "--forget")
	for _, id := range []string{first, second} {
		if !strings.Contains(out, "snapshot "+id[:8]+" was stored under the wrong name") {
			t.Errorf("repair snapshots does not report %s:\n%s", id[:8], out)
		}
	}
	c.check()
	got, want := c.files("snapshots"), sorted(first, second)
	if !slices.Equal(got, want) {
		t.Fatalf("snapshots/ holds %v after the repair, want %v", got, want)
	}
	if got := c.ok("dump", first, "/export.tsv"); got != string(sampleData(t)) {
		t.Errorf("dump %s: %d bytes, want the %d backed up", first[:8], len(got), len(sampleData(t)))
	}
	if got := c.ok("dump", second, "/notes.txt"); got != "the second snapshot\n" {
		t.Errorf("dump %s: %q", second[:8], got)
	}
}

// TestMisnamedSnapshotCopyCLI stores a copy of an intact snapshot file
// under a bogus name: check names the copy (not the original), and
// repair snapshots removes it.
func TestMisnamedSnapshotCopyCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	id := c.backupStdin(sampleData(t), "export.tsv")
	bogus := strings.Repeat("ab", 32)
	if err := os.WriteFile(filepath.Join(c.repo, "snapshots", bogus), readFile(t, filepath.Join(c.repo, "snapshots", id)), 0o600); err != nil {
		t.Fatal(err)
	}

	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "snapshot file snapshots/"+bogus+" is stored under the wrong name (its content is snapshot "+id[:8]) ||
		!strings.Contains(out, "a copy of the file stored under that name") {
		t.Errorf("check output:\n%s", out)
	}
	if strings.Join(cmds, "|") != "strata repair snapshots" {
		t.Errorf("check --json what_to_do %q, want repair snapshots alone", cmds)
	}
	out = c.ok("repair", "snapshots")
	if !strings.Contains(out, "snapshot "+id[:8]+" was stored under the wrong name "+bogus[:8]+": a copy") {
		t.Errorf("repair snapshots:\n%s", out)
	}
	c.check()
	if got := c.files("snapshots"); !slices.Equal(got, []string{id}) {
		t.Errorf("snapshots/ holds %v, want only %s", got, id)
	}
	if _, err := os.Stat(filepath.Join(c.repo, "snapshots", bogus)); !os.IsNotExist(err) {
		t.Errorf("the misnamed copy is still stored: %v", err)
	}
	if got := c.ok("dump", id, "/export.tsv"); got != string(sampleData(t)) {
		t.Errorf("dump: %d bytes, want %d", len(got), len(sampleData(t)))
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestMisnamedProtectFileCLI moves a protect file under a bogus name:
// check names it as misnamed (not damaged: unprotect --damaged would drop
// the protection), and repair snapshots --forget gives it its name back
// instead of refusing over an unreadable protect file.
func TestMisnamedProtectFileCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	id := c.backupStdin(sampleData(t), "export.tsv")
	c.ok("protect", id[:8])
	prot := c.onlyFile("protect")
	bogus := filepath.Join(c.repo, "protect", strings.Repeat("cd", 32))
	if err := os.Rename(prot, bogus); err != nil {
		t.Fatal(err)
	}

	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "protect file protect/"+filepath.Base(bogus)+" is stored under the wrong name (its content is protect file "+filepath.Base(prot)[:8]) ||
		strings.Contains(out, "unprotect") {
		t.Errorf("check output:\n%s", out)
	}
	if strings.Join(cmds, "|") != "strata repair snapshots" {
		t.Errorf("check --json what_to_do %q, want repair snapshots alone", cmds)
	}
	out = c.ok("repair", "snapshots", "--forget")
	if !strings.Contains(out, "protect file "+filepath.Base(prot)[:8]+" was stored under the wrong name") {
		t.Errorf("repair snapshots:\n%s", out)
	}
	c.check()
	if got := c.files("protect"); !slices.Equal(got, []string{filepath.Base(prot)}) {
		t.Errorf("protect/ holds %v, want %s", got, filepath.Base(prot))
	}
}
