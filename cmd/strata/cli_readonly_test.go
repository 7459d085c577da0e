package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// readOnlyMount bind-mounts dir read-only at a new folder and returns it.
// It skips the test when mounting is not permitted (not root, or no
// CAP_SYS_ADMIN in a container), except under CI=true when the process has
// CAP_SYS_ADMIN, where the test must run.
func readOnlyMount(t *testing.T, dir string) string {
	t.Helper()
	mnt := t.TempDir()
	err := syscall.Mount(dir, mnt, "", syscall.MS_BIND, "")
	if err == nil {
		t.Cleanup(func() {
			if err := syscall.Unmount(mnt, 0); err != nil {
				t.Errorf("unmounting %s: %v", mnt, err)
			}
		})
		err = syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, "")
	}
	if err != nil {
		if os.Getenv("CI") == "true" && mayMount() {
			t.Fatalf("a read-only bind mount should be possible with CAP_SYS_ADMIN: %v", err)
		}
		t.Skipf("skipping: cannot bind-mount %s read-only (needs root with CAP_SYS_ADMIN): %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "probe"), nil, 0o600); err == nil {
		t.Fatalf("the read-only mount %s takes writes", mnt)
	}
	return mnt
}

// TestReadOnlyRepository runs the commands that only read on a repository
// mounted read-only: each works, saying once that it reads without a
// lock, and with --no-lock without saying so. Commands that write fail
// naming the read-only storage, and refuse --no-lock outright.
func TestReadOnlyRepository(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)[:300<<10]
	snap := c.backupStdin(data, "export.tsv")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)

	ro := *c
	ro.repo = readOnlyMount(t, c.repo)
	ro.vars = map[string]string{}
	for k, v := range c.vars {
		ro.vars[k] = v
	}
	ro.vars["STRATA_REPOSITORY"] = ro.repo

	target := t.TempDir()
	readers := [][]string{
		{"snapshots"},
		{"ls", snap[:8]},
		{"dump", snap[:8], "/export.tsv"},
		{"restore", snap[:8], "--target", target},
		{"stats"},
		{"check", "--read-data"},
		{"cat", "snapshot", snap[:8]},
		{"verify", "drill", "latest"},
		{"key", "list"},
		{"find", "export.tsv"},
		{"forget", "--keep-last", "1", "--dry-run"},
		{"prune", "--dry-run"},
		{"repair", "snapshots", "--dry-run"},
	}
	for _, args := range readers {
		out, errOut := ro.code(exitOK, args...)
		if testing.Verbose() {
			t.Logf("%s: %s", args[0], errOut)
		}
		if !strings.Contains(errOut, "read-only") || !strings.Contains(errOut, "reading without a lock") {
			t.Errorf("%s: no notice that it reads without a lock:\n%s", strings.Join(args, " "), errOut)
		}
		if args[0] == "dump" && out != string(data) {
			t.Errorf("dump wrote %d bytes, want %d", len(out), len(data))
		}
		if args[0] == "restore" {
			args = []string{"restore", snap[:8], "--target", t.TempDir()}
		}
		out, errOut = ro.code(exitOK, append([]string{"--no-lock"}, args...)...)
		if strings.Contains(errOut, "without a lock") {
			t.Errorf("--no-lock %s: a notice about the lock:\n%s", strings.Join(args, " "), errOut)
		}
		if args[0] == "check" && !strings.Contains(out, "no errors were found") {
			t.Errorf("check on the read-only repository:\n%s", out)
		}
	}
	if got := readFile(t, filepath.Join(target, "export.tsv")); !bytes.Equal(got, data) {
		t.Errorf("restore from the read-only repository wrote %d bytes, want %d", len(got), len(data))
	}

	// Commands that write name the read-only storage.
	ro.stdin = []byte("more\n")
	if _, errOut := ro.code(exitError, "backup", "--stdin", "--stdin-name", "x"); !strings.Contains(errOut, "read-only") {
		t.Errorf("backup on read-only storage: %s", errOut)
	}
	// --no-lock is refused by every command that writes, before it
	// touches the repository.
	for _, args := range [][]string{
		{"backup", "--stdin", "--stdin-name", "x"},
		{"forget", "--keep-last", "1"},
		{"prune"},
		{"repair", "index"},
		{"unlock"},
		{"protect", snap[:8]},
		{"key", "add"},
	} {
		_, errOut := c.code(exitError, append([]string{"--no-lock"}, args...)...)
		if !strings.Contains(errOut, "--no-lock is only for commands that only read") {
			t.Errorf("--no-lock %s: %s", strings.Join(args, " "), errOut)
		}
	}
	c.noLocksLeft()
	c.check()
}

// mayMount reports whether this process holds CAP_SYS_ADMIN (bit 21 of
// CapEff in /proc/self/status), which mount(2) needs.
func mayMount() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<21) != 0
		}
	}
	return false
}
