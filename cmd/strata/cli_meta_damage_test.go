package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDamagedKeyFileCLI damages one of two key files: its password gets
// "key file ... is damaged" (exit 1), never "wrong password" (exit 12),
// which stays for a password that fits no key; the other password still
// opens the repository with a notice; check names the file and says what
// to do, and doing it leaves check clean.
func TestDamagedKeyFileCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	pw2 := filepath.Join(t.TempDir(), "pw2")
	writeFile0600(t, pw2, "second-password\n")
	c.ok("key", "add", "--new-password-file", pw2)
	first := current(t, c.keys()).Name
	second := ""
	for _, k := range c.keys() {
		if k.Name != first {
			second = k.Name
		}
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	writeFile0600(t, wrong, "not-a-password\n")
	c.as(t, wrong).code(exitWrongPass, "snapshots")

	flipKeyData(t, filepath.Join(c.repo, "keys", second))
	_, errOut := c.as(t, pw2).code(exitError, "snapshots")
	if !strings.Contains(errOut, "key file keys/"+second+" is damaged") || strings.Contains(errOut, "wrong password") {
		t.Errorf("the damaged key's password: stderr %q, want it to name keys/%s as damaged", errOut, second)
	}
	// Now a password that fits no intact key may be the damaged key's:
	// the damage is what is reported.
	if _, errOut := c.as(t, wrong).code(exitError, "snapshots"); !strings.Contains(errOut, "keys/"+second+" is damaged") {
		t.Errorf("a wrong password beside a damaged key: stderr %q, want the damage named", errOut)
	}

	_, errOut, code := c.run("snapshots")
	if code != 0 || !strings.Contains(errOut, "keys/"+second+" is damaged") {
		t.Errorf("the intact key: exit %d, stderr %q; want success with a notice naming the damaged key", code, errOut)
	}
	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "key file keys/"+second+" is damaged") {
		t.Errorf("check does not name the damaged key file:\n%s", out)
	}
	want := "strata key remove " + second[:8]
	if !slices.Equal(cmds, []string{want}) {
		t.Fatalf("check advises %q, want %q", cmds, want)
	}
	if list := c.ok("key", "list"); !strings.Contains(list, second[:8]) || !strings.Contains(list, "damaged") {
		t.Errorf("key list does not show the damaged key:\n%s", list)
	}
	c.ok(strings.Fields(want)[1:]...)
	c.check()
	c.as(t, wrong).code(exitWrongPass, "snapshots")
}

// TestKeyFileDamagedOutsideItsSeal: a key file damaged outside its sealed
// master key (here its creation time) still opens with its password, with a
// notice, so damage to what is informational locks nobody out.
// (The year of "created" becomes another digit: still valid JSON.)
func TestKeyFileDamagedOutsideItsSeal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path := c.onlyFile("keys")
	b := readFile(t, path)
	i := strings.Index(string(b), `"created": "`) + len(`"created": "`)
	b[i] ^= 0x01
	writeFile(t, path, b)
	_, errOut := c.code(exitOK, "snapshots")
	if !strings.Contains(errOut, "key file keys/"+filepath.Base(path)+" is damaged") {
		t.Errorf("no notice of the damage: %q", errOut)
	}
}

// TestDamagedOnlyKeyFileCLI damages the only key file: the password that
// opened it gets exit 1 naming the file.
func TestDamagedOnlyKeyFileCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	name := c.files("keys")[0]
	truncateHalf(t, filepath.Join(c.repo, "keys", name))
	_, errOut := c.code(exitError, "snapshots")
	if !strings.Contains(errOut, "key file keys/"+name+" is damaged") || !strings.Contains(errOut, "no key file is intact") {
		t.Errorf("stderr %q, want it to name keys/%s as damaged", errOut, name)
	}
}

// TestDamagedPolicyAndProtectFilesCLI: check names a damaged policy file
// and a damaged protect file, and the commands it advises remove them.
func TestDamagedPolicyAndProtectFilesCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	snap := c.backupStdin([]byte("rows\n"), "a.tsv")
	c.ok("policy", "set", "--keep-last", "3")
	c.ok("protect", snap[:8])
	policy := c.onlyFile("policy")
	protect := c.onlyFile("protect")
	flipByte(t, policy, 50)
	flipByte(t, protect, 50)

	out, cmds := c.checkAdvice()
	for _, want := range []string{"policy file policy/" + filepath.Base(policy), "protect file protect/" + filepath.Base(protect)} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not name %s:\n%s", want, out)
		}
	}
	if want := []string{"strata policy reset", "strata unprotect --damaged"}; !slices.Equal(cmds, want) {
		t.Fatalf("check advises %q, want %q", cmds, want)
	}
	for _, cmd := range cmds {
		c.ok(strings.Fields(cmd)[1:]...)
	}
	c.check()
	if got := c.files("protect"); len(got) != 0 {
		t.Errorf("protect files left: %v", got)
	}
}

// TestRepairSnapshotsRemovesDamagedSnapshotFile: a damaged snapshot file
// is removed by the command check advises, not by hand; the other
// snapshot stays and restores.
func TestRepairSnapshotsRemovesDamagedSnapshotFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	bad := c.backupStdin([]byte("first\n"), "a.tsv")
	good := c.backupStdin([]byte("second\n"), "b.tsv")
	flipByte(t, filepath.Join(c.repo, "snapshots", bad), 40)

	// The damaged file stops neither the listing nor "latest".
	out, errOut := c.code(exitOK, "snapshots")
	if !strings.Contains(out, good[:8]) || !strings.Contains(errOut, "skipping damaged snapshot file snapshots/"+bad) {
		t.Errorf("snapshots beside a damaged snapshot file:\n%s\n%s", out, errOut)
	}
	if got := c.ok("dump", "latest", "/b.tsv"); got != "second\n" {
		t.Errorf("dump latest beside a damaged snapshot file: %q", got)
	}

	out, cmds := c.checkAdvice()
	if !strings.Contains(out, "snapshots/"+bad) {
		t.Errorf("check does not name the damaged snapshot file:\n%s", out)
	}
	if want := []string{"strata repair snapshots --forget"}; !slices.Equal(cmds, want) {
		t.Fatalf("check advises %q, want %q", cmds, want)
	}
	dry := c.ok("repair", "snapshots", "--forget", "--dry-run")
	if !strings.Contains(dry, "would be removed") || !slices.Contains(c.files("snapshots"), bad) {
		t.Errorf("dry run: %s; files %v", dry, c.files("snapshots"))
	}
	out = c.ok(strings.Fields(cmds[0])[1:]...)
	if !strings.Contains(out, bad[:8]) || !strings.Contains(out, "damaged file removed") {
		t.Errorf("repair snapshots --forget printed:\n%s", out)
	}
	if got := c.files("snapshots"); !slices.Equal(got, []string{good}) {
		t.Errorf("snapshot files after the repair: %v, want only %s", got, good)
	}
	c.check()
	if got := c.ok("dump", good[:8], "/b.tsv"); got != "second\n" {
		t.Errorf("the intact snapshot dumps %q", got)
	}
}

// TestRepairSnapshotsKeepsProtectedDamagedFile: a protected snapshot file
// that is damaged is kept by repair snapshots --forget, which says how to
// go on; unprotect finds it by its name, and the next run removes it.
func TestRepairSnapshotsKeepsProtectedDamagedFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	bad := c.backupStdin([]byte("first\n"), "a.tsv")
	c.ok("protect", bad[:8])
	flipByte(t, filepath.Join(c.repo, "snapshots", bad), 40)

	out := c.ok("repair", "snapshots", "--forget")
	if !strings.Contains(out, "kept: it is protected") {
		t.Errorf("repair snapshots --forget of a protected damaged file:\n%s", out)
	}
	// check says what to do, in order, and doing it works.
	_, cmds := c.checkAdvice()
	if want := []string{"strata unprotect " + bad[:8], "strata repair snapshots --forget"}; !slices.Equal(cmds, want) {
		t.Fatalf("check advises %q, want %q", cmds, want)
	}
	for _, cmd := range cmds {
		c.ok(strings.Fields(cmd)[1:]...)
	}
	if got := c.files("snapshots"); len(got) != 0 {
		t.Errorf("snapshot files left: %v", got)
	}
	c.check()
}

// TestNoKeyFileCLI: a repository whose key files are all gone says so
// (exit 1), rather than blaming the password (exit 12).
func TestNoKeyFileCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	if err := os.Remove(c.onlyFile("keys")); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitError, "snapshots")
	if !strings.Contains(errOut, "has no key file (keys/ is empty)") || strings.Contains(errOut, "wrong password") {
		t.Errorf("stderr %q, want it to say that keys/ is empty", errOut)
	}
}
