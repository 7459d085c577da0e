package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkAdvice runs check, which must find errors, and returns its text
// output and the commands of its --json "what_to_do".
func (c *tcli) checkAdvice() (string, []string) {
	c.t.Helper()
	out, _ := c.code(exitCheckFailed, "check")
	jsonOut, _ := c.code(exitCheckFailed, "check", "--json")
	var rep struct {
		WhatToDo []struct{ Command, Why string } `json:"what_to_do"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
		c.t.Fatalf("check --json: %v\n%s", err, jsonOut)
	}
	var cmds []string
	for _, s := range rep.WhatToDo {
		cmds = append(cmds, s.Command)
	}
	return out, cmds
}

// TestRepairIndexCLI deletes the only index file: check says to rebuild
// the index, repair index does, and the snapshot restores in full.
func TestRepairIndexCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin(sampleData(t), "export.tsv")
	if err := os.Remove(c.onlyFile("index")); err != nil {
		t.Fatal(err)
	}

	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "What to do:\n  1. strata repair index\n") || strings.Contains(out, "repair snapshots") {
		t.Errorf("check's advice:\n%s", out)
	}
	if strings.Join(cmds, "|") != "strata repair index" {
		t.Errorf("check --json what_to_do: %q", cmds)
	}

	out = c.ok("repair", "index")
	for _, want := range []string{"3 stored: 3 headers read, 0 reused", "1 new files written", "0 old files removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("repair index output lacks %q:\n%s", want, out)
		}
	}
	c.check()
	if got := c.ok("dump", "latest", "/export.tsv"); got != string(sampleData(t)) {
		t.Errorf("dump after repair: %d bytes, want the %d backed up", len(got), len(sampleData(t)))
	}
	// A second run reuses everything and supersedes the file it wrote.
	out = c.ok("repair", "index", "--read-all-packs")
	if !strings.Contains(out, "3 headers read, 0 reused") || !strings.Contains(out, "1 old files removed") {
		t.Errorf("repair index --read-all-packs:\n%s", out)
	}
	if locks := c.files("locks"); len(locks) > 0 {
		t.Errorf("repair left locks: %v", locks)
	}
}

// TestRepairSnapshotsCLI removes the pack of a snapshot's first chunk:
// check says to rebuild the index and repair the snapshots; repair
// snapshots refuses before the index is rebuilt, reports the loss in a dry
// run, keeps a protected original, and with --forget leaves a repository
// that check finds clean.
func TestRepairSnapshotsCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	snap := c.backupStdin(sampleData(t), "export.tsv")
	other := c.backupStdin([]byte("a second, intact snapshot\n"), "notes.txt")
	lost := c.dataBlob(snap, "export.tsv")
	if err := os.Remove(lost.Path); err != nil {
		t.Fatal(err)
	}

	out, cmds := c.checkAdvice()
	want := "strata repair index|strata repair snapshots --forget|strata backup"
	if strings.Join(cmds, "|") != want {
		t.Errorf("check --json what_to_do %q, want %q", cmds, want)
	}
	if !strings.Contains(out, "What to do:\n  1. strata repair index\n") || !strings.Contains(out, "  2. strata repair snapshots --forget\n") {
		t.Errorf("check's advice:\n%s", out)
	}

	_, errOut := c.code(exitError, "repair", "snapshots", "--forget")
	if !strings.Contains(errOut, "the index must be repaired first") || !strings.Contains(errOut, "strata repair index") {
		t.Errorf("repair snapshots before repair index: %s", errOut)
	}
	out = c.ok("repair", "index")
	if !strings.Contains(out, "pack "+lost.Pack[:8]+" is missing from storage") || !strings.Contains(out, "strata repair snapshots") {
		t.Errorf("repair index output:\n%s", out)
	}

	out = c.ok("repair", "snapshots", "--dry-run", "--forget")
	if !strings.Contains(out, "snapshot "+snap[:8]) || !strings.Contains(out, "/export.tsv: ") ||
		!strings.Contains(out, "chunks missing") || !strings.Contains(out, "would be repaired (dry run)") ||
		!strings.Contains(out, "original would be removed (dry run)") ||
		strings.Contains(out, "snapshot "+other[:8]) {
		t.Errorf("repair snapshots --dry-run:\n%s", out)
	}
	if n := len(c.files("snapshots")); n != 2 {
		t.Fatalf("the dry run left %d snapshots, want 2", n)
	}

	c.ok("protect", snap[:8])
	out = c.ok("repair", "snapshots", "--forget")
	if !strings.Contains(out, "original kept: it is protected") || !strings.Contains(out, "repaired as snapshot ") {
		t.Errorf("repair snapshots --forget with a protected original:\n%s", out)
	}
	c.ok("unprotect", snap[:8])
	out = c.ok("repair", "snapshots", "--forget")
	if !strings.Contains(out, "repaired before as snapshot") || !strings.Contains(out, "original removed") {
		t.Errorf("repair snapshots --forget, second run:\n%s", out)
	}

	c.check()
	sns := c.snapshots()
	if len(sns) != 2 {
		t.Fatalf("%d snapshots after repair, want the repaired one and the intact one", len(sns))
	}
	var repaired string
	for _, sn := range sns {
		if strings.Join(sn.Tags, ",") == "repaired" {
			repaired = sn.ID
		}
	}
	if repaired == "" {
		t.Fatalf("no snapshot is tagged repaired: %+v", sns)
	}
	var sn struct{ Meta map[string]string }
	c.catJSON(&sn, "snapshot", repaired)
	if sn.Meta["repaired_from"] != snap || !strings.Contains(sn.Meta["lost"], "/export.tsv") {
		t.Errorf("repaired snapshot meta: %v", sn.Meta)
	}
	got := c.ok("dump", repaired[:8], "/export.tsv")
	if len(got) >= len(sampleData(t)) || !strings.Contains(string(sampleData(t)), got) {
		t.Errorf("the repaired file has %d bytes, want fewer than %d, all from the original", len(got), len(sampleData(t)))
	}
	if got := c.ok("dump", other[:8], "/notes.txt"); got != "a second, intact snapshot\n" {
		t.Errorf("the intact snapshot dumps %q", got)
	}
}

// TestCheckSuggestsPrune: a pack no index file names, and nothing else
// wrong, is a notice; check's advice is prune.
func TestCheckSuggestsPrune(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("first\n"), "a.txt")
	d := c.clone(t)
	before := d.packs()
	d.backupStdin([]byte("second, only in the clone\n"), "b.txt")
	for id, path := range d.packs() {
		if _, ok := before[id]; ok {
			continue
		}
		dst := filepath.Join(c.repo, "data", id[:2], id)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, readFile(t, path), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := c.ok("check")
	if !strings.Contains(out, "notice: ") || !strings.Contains(out, "no errors were found\n\nWhat to do:\n  1. strata prune\n") {
		t.Errorf("check output:\n%s", out)
	}
}

// TestCheckAdviceReleasesProtectedLosses: a protected snapshot that lost
// data keeps its original through repair snapshots --forget, so check's
// advice must say to release it, and must not send the user back to
// repair index for blobs no pack holds. Following the advice, step by
// step, ends with a clean check.
func TestCheckAdviceReleasesProtectedLosses(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	snap := c.backupStdin(sampleData(t), "export.tsv")
	c.ok("protect", snap[:8])
	lost := c.dataBlob(snap, "export.tsv")
	if err := os.Remove(lost.Path); err != nil {
		t.Fatal(err)
	}
	c.ok("repair", "index")
	c.ok("repair", "snapshots", "--forget")

	_, cmds := c.checkAdvice()
	want := "strata unprotect " + snap[:8] + "|strata repair snapshots --forget|strata backup"
	if strings.Join(cmds, "|") != want {
		t.Fatalf("check's advice after repairing a protected snapshot: %q, want %q", cmds, want)
	}
	for _, cmd := range cmds[:2] {
		c.ok(strings.Fields(cmd)[1:]...)
	}
	c.check()
}
