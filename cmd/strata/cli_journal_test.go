package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/local"
	"strata/repo/crypto"
)

// The journal (docs/design.md, "The journal") records which snapshot,
// key, policy, protect and index files a repository holds, so that check
// names one that was deleted. Before it, nothing did: check was clean
// after any of these deletions.

// followAdvice runs every command check advises (not a backup), then
// requires a clean check.
func (c *tcli) followAdvice(cmds []string) {
	c.t.Helper()
	for _, cmd := range cmds {
		if cmd == "" || strings.HasPrefix(cmd, "strata backup") {
			continue
		}
		c.ok(strings.Fields(cmd)[1:]...)
	}
	if out, errOut, code := c.run("check"); code != 0 {
		c.t.Fatalf("check after the advised repairs: exit %d\n%s%s", code, out, errOut)
	}
}

// TestJournalDeletedSnapshotNamed: a deleted snapshot file makes check
// fail naming it; the advice says a copy of the repository is the only
// way back, and repair journal records the loss so check is clean.
func TestJournalDeletedSnapshotNamed(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	keep := c.backupStdin([]byte("kept\n"), "a.tsv")
	gone := c.backupStdin([]byte("deleted\n"), "b.tsv")
	if err := os.Remove(filepath.Join(c.repo, "snapshots", gone)); err != nil {
		t.Fatal(err)
	}
	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "snapshot file snapshots/"+gone+" is missing") {
		t.Errorf("check does not name the deleted snapshot file:\n%s", out)
	}
	if !strings.Contains(out, "repair snapshots --forget cannot bring it back") || !strings.Contains(out, "another copy of the repository") {
		t.Errorf("check's advice does not say that only a copy brings the snapshot back:\n%s", out)
	}
	if !slices.Equal(cmds, []string{"strata repair journal"}) {
		t.Fatalf("check advises %q, want repair journal", cmds)
	}
	if out := c.ok("repair", "journal"); !strings.Contains(out, "snapshot file snapshots/"+gone+" is missing: recorded as lost") {
		t.Errorf("repair journal does not say what it recorded as lost:\n%s", out)
	}
	c.followAdvice(nil)
	if got := c.ok("dump", keep[:8], "/a.tsv"); got != "kept\n" {
		t.Errorf("the other snapshot dumps %q", got)
	}
}

// TestJournalDeletedMetaFilesNamed: a deleted policy, protect or key file
// (not the one in use) is named by check, which says what it affected;
// following the advice leaves check clean.
func TestJournalDeletedMetaFilesNamed(t *testing.T) {
	t.Parallel()
	base := newCLI(t)
	base.ok("init")
	sn := base.backupStdin([]byte("rows\n"), "a.tsv")
	base.ok("policy", "set", "--keep-last", "3")
	base.ok("protect", sn[:8])
	pw2 := filepath.Join(t.TempDir(), "pw2")
	writeFile0600(t, pw2, "second-password\n")
	base.ok("key", "add", "--new-password-file", pw2)
	used := current(t, base.keys()).Name
	var other string
	for _, k := range base.keys() {
		if k.Name != used {
			other = k.Name
		}
	}
	for _, tc := range []struct {
		folder, file, want string
	}{
		{"policy", base.files("policy")[0], "policy file policy/%s is missing"},
		{"protect", base.files("protect")[0], "protect file protect/%s is missing: the journal records it, storage no longer holds it, so snapshot " + sn[:8] + " is no longer protected"},
		{"keys", other, "key file keys/%s is missing"},
	} {
		t.Run(tc.folder, func(t *testing.T) {
			c := base.clone(t)
			if err := os.Remove(filepath.Join(c.repo, tc.folder, tc.file)); err != nil {
				t.Fatal(err)
			}
			out, cmds := c.checkAdvice()
			want := strings.ReplaceAll(tc.want, "%s", tc.file)
			if !strings.Contains(out, want) {
				t.Errorf("check does not say %q:\n%s", want, out)
			}
			if !slices.Equal(cmds, []string{"strata repair journal"}) {
				t.Fatalf("check advises %q, want repair journal", cmds)
			}
			c.followAdvice(cmds)
		})
	}
}

// TestJournalSwappedKeyFiles: two key files swapped are misnamed, not
// damaged (the journal records both names): check advises repair
// snapshots, which renames them, and check is clean; both passwords
// work. Before, check advised removing both, and the second removal was
// refused as the key in use.
func TestJournalSwappedKeyFiles(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	pw2 := filepath.Join(t.TempDir(), "pw2")
	writeFile0600(t, pw2, "second-password\n")
	c.ok("key", "add", "--new-password-file", pw2)
	names := c.files("keys")
	a, b := filepath.Join(c.repo, "keys", names[0]), filepath.Join(c.repo, "keys", names[1])
	da, db := readFile(t, a), readFile(t, b)
	writeFile(t, a, db)
	writeFile(t, b, da)

	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "stored under the wrong name") || strings.Contains(out, "key remove") {
		t.Errorf("check does not call the swapped key files misnamed:\n%s", out)
	}
	if !slices.Equal(cmds, []string{"strata repair snapshots"}) {
		t.Fatalf("check advises %q, want repair snapshots", cmds)
	}
	c.followAdvice(cmds)
	if !slices.Equal(c.files("keys"), names) {
		t.Errorf("keys after the repair: %v, want %v", c.files("keys"), names)
	}
	c.as(t, pw2).ok("snapshots")
	c.ok("snapshots")
}

// TestJournalDeletedKeyInUse: the password of a deleted key file gets
// "wrong password" saying how many key files it was tried on (nothing
// readable without a master key records the key files); check with the
// other password names the deleted file.
func TestJournalDeletedKeyInUse(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	used := current(t, c.keys()).Name
	pw2 := filepath.Join(t.TempDir(), "pw2")
	writeFile0600(t, pw2, "second-password\n")
	c.ok("key", "add", "--new-password-file", pw2)
	if err := os.Remove(filepath.Join(c.repo, "keys", used)); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitWrongPass, "snapshots")
	if !strings.Contains(errOut, "the password opens none of the 1 key file in") {
		t.Errorf("wrong password does not say how many key files were tried: %q", errOut)
	}
	other := c.as(t, pw2)
	out, cmds := other.checkAdvice()
	if !strings.Contains(out, "key file keys/"+used+" is missing") {
		t.Errorf("check with the other password does not name the deleted key file:\n%s", out)
	}
	other.followAdvice(cmds)
}

// TestJournalOldRepository: a repository of format version 1 (made before
// the journal) without one still works: backups, listings and check (a
// notice, exit 0); repair journal starts the journal, after which a
// deleted snapshot is named.
func TestJournalOldRepository(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	ctx := context.Background()
	be, err := local.Create(c.repo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := repo.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Version = 1
	if _, err := repo.Init(ctx, be, "secret-pw", cfg, repo.Options{KDF: crypto.CheapKDFParams()}); err != nil {
		t.Fatal(err)
	}
	// An old strata wrote no journal.
	if err := os.RemoveAll(filepath.Join(c.repo, string(backend.JournalFile))); err != nil {
		t.Fatal(err)
	}
	first := c.backupStdin([]byte("one\n"), "a.tsv")
	c.backupStdin([]byte("two\n"), "a.tsv")
	if got := c.ok("dump", first[:8], "/a.tsv"); got != "one\n" {
		t.Errorf("dump: %q", got)
	}
	out, errOut := c.code(0, "check")
	if !strings.Contains(out+errOut, "made before strata kept a journal") {
		t.Errorf("check says nothing of the missing journal:\n%s%s", out, errOut)
	}
	c.ok("repair", "journal")
	out, errOut = c.code(0, "check")
	if strings.Contains(out+errOut, "journal") {
		t.Errorf("check after repair journal still speaks of the journal:\n%s%s", out, errOut)
	}
	if err := os.Remove(filepath.Join(c.repo, "snapshots", first)); err != nil {
		t.Fatal(err)
	}
	if out, _ := c.checkAdvice(); !strings.Contains(out, "snapshot file snapshots/"+first+" is missing") {
		t.Errorf("a deleted snapshot of the started journal is not named:\n%s", out)
	}
}
