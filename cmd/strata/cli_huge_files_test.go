package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// plantSparse stores a sparse file of size bytes at path: it costs no
// disk, but a reader that loads it whole would allocate all of it.
func plantSparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHugePlantedFilesCLI plants a 64 GiB (sparse) file in each folder of
// repository files that are read whole (snapshots, index, keys, policy,
// protect), as damage or an attacker might. Before the size caps every
// command that opened the repository tried to allocate the 64 GiB. Now no
// such file is read: commands go on with notices naming them, check
// reports each as damaged by its size, and following check's advice
// leaves a clean repository whose snapshot still dumps.
func TestHugePlantedFilesCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	snap := c.backupStdin([]byte("rows\n"), "a.tsv")
	c.ok("policy", "set", "--keep-last", "3")
	c.ok("protect", snap[:8])

	const huge = 64 << 30
	planted := map[string]string{}
	for i, folder := range []string{"snapshots", "index", "keys", "policy", "protect"} {
		name := strings.Repeat("0", 63) + string(rune('1'+i))
		plantSparse(t, filepath.Join(c.repo, folder, name), huge)
		planted[folder] = folder + "/" + name
	}

	_, errOut := c.code(exitOK, "snapshots")
	// The reserve for a full disk grows with the index files; a planted
	// one is not counted, or the reserve would fill the disk.
	if fi, err := os.Stat(filepath.Join(c.repo, "reserve")); err != nil || fi.Size() > 16<<20 {
		t.Fatalf("the reserve beside a planted index file: %v, %d bytes", err, fi.Size())
	}
	for _, folder := range []string{"snapshots", "index", "keys"} {
		if !strings.Contains(errOut, planted[folder]) {
			t.Errorf("snapshots: stderr does not name %s:\n%s", planted[folder], errOut)
		}
	}
	if got := c.ok("dump", "latest", "/a.tsv"); got != "rows\n" {
		t.Errorf("dump beside the planted files: %q", got)
	}

	out, cmds := c.checkAdvice()
	for _, folder := range []string{"snapshots", "index", "keys", "policy", "protect"} {
		if !strings.Contains(out, planted[folder]) {
			t.Errorf("check does not name %s:\n%s", planted[folder], out)
		}
	}
	if n := strings.Count(out, "68719476736 bytes, more than the"); n < 5 {
		t.Errorf("check says %d times that a file was refused by its size, want 5:\n%s", n, out)
	}
	want := []string{"strata key remove 00000000", "strata policy reset", "strata unprotect --damaged",
		"strata repair index", "strata repair snapshots --forget"}
	for _, w := range want {
		if !slices.Contains(cmds, w) {
			t.Errorf("check advises %q, want it to include %q", cmds, w)
		}
	}
	for _, cmd := range cmds {
		c.ok(strings.Fields(cmd)[1:]...)
	}
	for folder, p := range planted {
		if _, err := os.Stat(filepath.Join(c.repo, p)); !os.IsNotExist(err) {
			t.Errorf("%s: the planted %s is still there after the advised repairs (%v)", folder, p, err)
		}
	}
	c.check()
	if got := c.ok("dump", snap[:8], "/a.tsv"); got != "rows\n" {
		t.Errorf("dump after the repairs: %q", got)
	}
}

// TestHugePlantedConfigCLI: a config replaced by a 64 GiB (sparse) file
// is not read; the key file's copy stands in, with a notice, and the
// repair check advises writes it back.
func TestHugePlantedConfigCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	plantSparse(t, filepath.Join(c.repo, "config"), 64<<30)

	_, errOut := c.code(exitOK, "snapshots")
	if !strings.Contains(errOut, "config") || !strings.Contains(errOut, "larger than a config") {
		t.Errorf("snapshots: stderr does not say the config is too large:\n%s", errOut)
	}
	_, cmds := c.checkAdvice()
	if !slices.Equal(cmds, []string{"strata repair config"}) {
		t.Fatalf("check advises %q, want strata repair config", cmds)
	}
	c.ok("repair", "config")
	c.check()
}

// TestFileSizeCapNamesTheFile: a snapshot file one byte larger than any
// snapshot file may be is refused by its size, named, and does not stop
// the listing; the cap is the documented one.
func TestFileSizeCapNamesTheFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	name := strings.Repeat("0", 63) + "1"
	plantSparse(t, filepath.Join(c.repo, "snapshots", name), 16<<20+1)
	_, errOut := c.code(exitOK, "snapshots")
	if want := "snapshots/" + name + ": file is larger than its type allows: 16777217 bytes, more than the 16777216 bytes"; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q, want it to contain %q", errOut, want)
	}
}

// TestHugePackCLI grows a pack to 64 GiB (sparse: its bytes stay, zeros
// follow), as damage or an attacker might. check --read-data, which reads
// a pack whole, no longer tries to allocate it (before, it died out of
// memory): it names the pack as damaged, and repair packs, which check
// advises, salvages every blob by its own range, so nothing is lost and
// the snapshot restores.
func TestHugePackCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := genData(t, 200_000)
	snap := c.backupStdin(data, "a.bin")
	b := c.dataBlob(snap, "a.bin")
	if err := os.Truncate(b.Path, 64<<30); err != nil {
		t.Fatal(err)
	}
	out, _ := c.code(exitCheckFailed, "check", "--read-data")
	if !strings.Contains(out, b.Pack) || !strings.Contains(out, "68719476736 bytes, more than the") {
		t.Errorf("check --read-data does not name the oversized pack %s:\n%s", b.Pack[:8], out)
	}
	_, cmds := c.checkAdvice()
	if want := "strata repair packs " + b.Pack[:8]; !slices.Contains(cmds, want) {
		t.Fatalf("check advises %q, want %q", cmds, want)
	}
	c.ok("repair", "packs", b.Pack[:8])
	c.check()
	if got := c.ok("dump", snap[:8], "/a.bin"); got != string(data) {
		t.Errorf("dump after the repair: %d bytes, want the %d backed up", len(got), len(data))
	}
}

// TestConfigNotARegularFileCLI: a config replaced by a FIFO (which a
// reader would wait on forever, or the storage refuses) does not lock the
// repository: the key file's copy stands in, and repair config writes
// the file again.
func TestConfigNotARegularFileCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	config := filepath.Join(c.repo, "config")
	if err := os.Remove(config); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(config, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitOK, "snapshots")
	if !strings.Contains(errOut, "config") || !strings.Contains(errOut, "cannot be read") {
		t.Errorf("snapshots: stderr does not say the config cannot be read:\n%s", errOut)
	}
	_, cmds := c.checkAdvice()
	if !slices.Equal(cmds, []string{"strata repair config"}) {
		t.Fatalf("check advises %q, want strata repair config", cmds)
	}
	c.ok("repair", "config")
	c.check()
}
