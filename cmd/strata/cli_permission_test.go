package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUnreadableFilesAreNotCalledDamaged makes one index file, one
// snapshot file and one pack unreadable by the user strata runs as (permission
// denied): that is the storage refusing to answer, not damage. check must
// name the file and the refusal and stop, never call it damaged and
// advise `repair index`, `repair packs` or `repair snapshots --forget`
// (which removes a snapshot whose bytes are intact), and readers must not skip the index
// file as damaged either.
func TestUnreadableFilesAreNotCalledDamaged(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("first export\n"), "a.tsv")
	c.backupStdin([]byte("second export\n"), "a.tsv")

	repoDir, run := asRepoUser(t, c)
	first := func(folder string) string {
		t.Helper()
		es, err := os.ReadDir(filepath.Join(repoDir, folder))
		if err != nil || len(es) == 0 {
			t.Fatalf("%s: %v (%d files)", folder, err, len(es))
		}
		return folder + "/" + es[0].Name()
	}
	if out, code := run("check"); code != 0 {
		t.Fatalf("check before any change: exit %d\n%s", code, out)
	}

	for _, tt := range []struct {
		file string
		cmds [][]string
	}{
		{first("index"), [][]string{{"check"}, {"ls", "latest"}}},
		{first("snapshots"), [][]string{{"check"}, {"ls", "latest"}}},
		{firstPack(t, repoDir), [][]string{{"check"}, {"check", "--read-data"}}},
	} {
		t.Run(strings.SplitN(tt.file, "/", 2)[0], func(t *testing.T) {
			if err := os.Chmod(filepath.Join(repoDir, tt.file), 0); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = os.Chmod(filepath.Join(repoDir, tt.file), 0o600) }()
			if strings.HasPrefix(tt.file, "data/") {
				tt.cmds = append(tt.cmds, []string{"repair", "packs", filepath.Base(tt.file)})
			}
			for _, args := range tt.cmds {
				out, code := run(args...)
				if code != exitError || !strings.Contains(out, tt.file) || !strings.Contains(out, "permission denied") {
					t.Errorf("strata %q with %s unreadable: exit %d, want %d naming the file and the refusal:\n%s", args, tt.file, code, exitError, out)
				}
				if strings.Contains(out, "damaged") || (args[0] != "repair" && strings.Contains(out, "repair")) {
					t.Errorf("strata %q calls the unreadable %s damaged or advises a repair:\n%s", args, tt.file, out)
				}
			}
		})
	}
	if out, code := run("check"); code != 0 {
		t.Fatalf("check after the modes are restored: exit %d\n%s", code, out)
	}
}

// firstPack is the path of a pack in the repository at dir, as
// "data/xx/ID".
func firstPack(t *testing.T, dir string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no pack in %s: %v", dir, err)
	}
	rel, err := filepath.Rel(dir, matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// asRepoUser copies c's repository to a folder of its own and returns it
// with a function that runs the strata binary on it as a user whom file
// modes bind: the test's user, or nobody (owning the copy) when the test
// runs as root, whom modes do not stop.
func asRepoUser(t *testing.T, c *tcli) (repoDir string, run func(args ...string) (string, int)) {
	t.Helper()
	// A folder the other user can reach, holding the repository, the
	// password file and the binary.
	dir, err := os.MkdirTemp("", "strata-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	repoDir = filepath.Join(dir, "repo")
	if out, err := exec.Command("cp", "-a", c.repo, repoDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	pw := filepath.Join(dir, "pw")
	writeFile0600(t, pw, "secret-pw\n")
	bin := filepath.Join(dir, "strata")
	if out, err := exec.Command("cp", buildStrata(t), bin).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		// root reads every file whatever its mode: run strata as nobody.
		const nobody = 65534
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, nobody, nobody)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	run = func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-r", repoDir, "-p", pw}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("strata %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
	return repoDir, run
}

// TestFailedPruneClaimsNothing: a prune that fails after its plan (here
// the storage refuses to delete packs) must not print the plan's figures
// as done ("2 deleted", "freed: 3 MiB"): nothing may have been deleted.
func TestFailedPruneClaimsNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	c.backupStdin(randomBytes(11, 3<<20), "data.bin")
	c.backupStdin([]byte("a later, smaller export\n"), "data.bin")
	c.ok("forget", "--keep-last", "1")
	repoDir, run := asRepoUser(t, c)

	packs, err := filepath.Glob(filepath.Join(repoDir, "data", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range packs {
		if err := os.Chmod(d, 0o500); err != nil {
			t.Fatal(err)
		}
	}
	out, code := run("prune")
	if code != exitError || !strings.Contains(out, "permission denied") {
		t.Fatalf("prune with undeletable packs: exit %d, want %d and the refusal:\n%s", code, exitError, out)
	}
	for _, claim := range []string{"deleted", "freed", "repacked"} {
		if strings.Contains(out, claim) {
			t.Errorf("the failed prune claims %q:\n%s", claim, out)
		}
	}

	for _, d := range packs {
		if err := os.Chmod(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if out, code := run("prune"); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("prune again: exit %d\n%s", code, out)
	}
	if out, code := run("check", "--read-data"); code != 0 {
		t.Errorf("check after prune: exit %d\n%s", code, out)
	}
}
