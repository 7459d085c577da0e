package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDiskAdvice is what a command that ran out of space tells the user.
const fullDiskAdvice = "strata forget, then strata prune"

// smallDisk mounts a tmpfs of size bytes and returns its folder. It skips
// the test when mounting is not permitted, except under CI=true with
// CAP_SYS_ADMIN, where it must work.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("CI") == "true" && mayMount() {
			t.Fatalf("mounting a tmpfs should be possible with CAP_SYS_ADMIN: %v", err)
		}
		t.Skipf("skipping: cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fill writes a file into dir until the disk has no byte left.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

// TestFullDisk fills the disk of a repository (a 32 MiB tmpfs) with
// backups until one fails, then fills it to the last byte, and follows the
// advice the failure printed: forget, then prune, must succeed and free
// space. Then check is clean, the kept snapshot restores, the reserve is
// back and a backup works again.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "32m")
	c := newCLI(t)
	c.repo = filepath.Join(disk, "repo")
	c.vars["STRATA_REPOSITORY"] = c.repo
	c.ok("init")
	if fi, err := os.Stat(filepath.Join(c.repo, "reserve")); err != nil || fi.Size() < 2<<20 {
		t.Fatalf("init kept no reserve: %v", err)
	}

	rng := rand.NewChaCha8([32]byte{1})
	chunk := func() []byte {
		b := make([]byte, 4<<20)
		_, _ = rng.Read(b)
		return b
	}
	var last []byte
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatal("20 backups of 4 MiB fit on a 32 MiB disk")
		}
		data := chunk()
		c.stdin = data
		_, errOut, code := c.run("backup", "--stdin", "--stdin-name", "export.bin")
		if code == 0 {
			last = data
			continue
		}
		if code != exitError || !strings.Contains(errOut, fullDiskAdvice) {
			t.Fatalf("backup %d on a full disk: exit %d\n%s", i, code, errOut)
		}
		break
	}
	fill(t, disk)
	if free := freeBytes(t, disk); free != 0 {
		t.Fatalf("the disk still has %d bytes free", free)
	}
	c.stdin = []byte("one more\n")
	_, errOut := c.code(exitError, "backup", "--stdin", "--stdin-name", "more.txt")
	if !strings.Contains(errOut, fullDiskAdvice) {
		t.Fatalf("a backup on the full disk does not advise %q:\n%s", fullDiskAdvice, errOut)
	}

	// The advice, exactly: forget, then prune.
	_, errOut = c.code(exitOK, "forget", "--keep-last", "1")
	if !strings.Contains(errOut, "released") {
		t.Errorf("forget on the full disk did not say it used the reserve:\n%s", errOut)
	}
	_, errOut = c.code(exitOK, "prune")
	if !strings.Contains(errOut, "space is short") {
		t.Errorf("prune after the reserve was released did not say space is short:\n%s", errOut)
	}
	if free := freeBytes(t, disk); free < 16<<20 {
		t.Errorf("forget and prune freed %d bytes, want most of the disk", free)
	}
	if fi, err := os.Stat(filepath.Join(c.repo, "reserve")); err != nil || fi.Size() < 2<<20 {
		t.Errorf("prune did not write the reserve again: %v", err)
	}
	c.check()
	if got := c.ok("dump", "latest", "/export.bin"); got != string(last) {
		t.Errorf("the kept snapshot dumps %d bytes, want the %d backed up", len(got), len(last))
	}
	c.backupStdin([]byte("after the disk was full\n"), "after.txt")
	c.check()
}

// TestFullDiskReserveSymlink: a reserve replaced by a symbolic link (by
// anyone who may write to the repository folder) must not make forget on
// a full disk truncate the file it points to: strata refuses the reserve,
// names it, and the linked file keeps its bytes.
func TestFullDiskReserveSymlink(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "16m")
	c := newCLI(t)
	c.repo = filepath.Join(disk, "repo")
	c.vars["STRATA_REPOSITORY"] = c.repo
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	victim := filepath.Join(t.TempDir(), "precious.db")
	writeFile0600(t, victim, "bytes that are not strata's\n")
	reserve := filepath.Join(c.repo, "reserve")
	if err := os.Remove(reserve); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, reserve); err != nil {
		t.Fatal(err)
	}
	fill(t, disk)

	_, errOut := c.code(exitError, "forget", "--keep-last", "1")
	if !strings.Contains(errOut, reserve) || !strings.Contains(errOut, "not a regular file") {
		t.Errorf("forget on a full disk with a symlinked reserve: stderr %q, want it to name %s as no regular file", errOut, reserve)
	}
	if got, err := os.ReadFile(victim); err != nil || string(got) != "bytes that are not strata's\n" {
		t.Fatalf("the file the reserve links to: %q, %v; want it unchanged", got, err)
	}
}
