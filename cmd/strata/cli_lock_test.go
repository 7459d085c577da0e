package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"strata/repo"
)

// TestBackupWaitingBehindPrune runs `backup --retry-lock 5m` as a separate
// process while the repository is locked exclusively, as by a prune that
// is starting, and stops the waiting backup (SIGSTOP) while a prune, run
// as a process too, deletes the packs of a forgotten snapshot holding the
// very data the backup stores. Resumed, the backup takes its lock after
// the prune: it must store the data again, not trust an index loaded
// before its lock (which named the deleted packs), so that check
// --read-data is clean and the new snapshot restores.
func TestBackupWaitingBehindPrune(t *testing.T) {
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	data := randomBytes(7, 3<<20)
	// The backup behind the prune saves the forgotten snapshot's stream
	// at the same --time: its root tree is the forgotten one's, byte for
	// byte, and deleted with it.
	const at = "2026-01-01 10:00:00"
	c.backupStdin(data, "data.bin", "--time", at)
	c.backupStdin([]byte("a later, smaller export\n"), "data.bin", "--time", "2026-01-01 11:00:00")
	c.ok("forget", "--keep-last", "1")

	holder := c.openAPI(repo.Options{})
	lock, err := holder.Lock(context.Background(), true, "test: a prune starting")
	if err != nil {
		t.Fatal(err)
	}
	bin := newStrataBin(t, c)
	backup := bin.start(t, bytes.NewReader(data), "--retry-lock", "5m", "backup", "--stdin", "--stdin-name", "data.bin", "--time", at, "--json")
	backup.waitFor(t, "waiting up to 5m")
	backup.signal(t, syscall.SIGSTOP)
	if err := lock.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := bin.ok(t, "prune", "--json")
	var rep struct {
		PacksDeleted int `json:"packs_deleted"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.PacksDeleted == 0 {
		t.Fatalf("prune deleted no pack (%v): %s", err, out)
	}
	backup.signal(t, syscall.SIGCONT)
	if err := backup.cmd.Wait(); err != nil {
		t.Fatalf("backup behind the prune: %v\n%s", err, backup.stderr())
	}
	var res struct{ ID string }
	if err := json.Unmarshal([]byte(lastLine(backup.out.String())), &res); err != nil || res.ID == "" {
		t.Fatalf("backup --json printed %q: %v", backup.out.String(), err)
	}
	c.check()
	if got := c.ok("dump", res.ID, "/data.bin"); got != string(data) {
		t.Errorf("the snapshot saved behind the prune dumps %d bytes, want the %d backed up", len(got), len(data))
	}
}

// TestBackupStoppedPastItsLease stops a backup process (SIGSTOP) after it
// took its lock, loaded the index and stored a first pack, for longer than
// its lease (2 s through STRATA_LOCK_LEASE). Meanwhile another process
// removes its lock (`unlock --remove-all`) and prunes the data of a
// forgotten snapshot, which the backup then reads from its standard input.
// Resumed (SIGCONT), the backup must find its lock lost and fail with a
// clear error, writing no index and no snapshot, so that check
// --read-data is clean.
func TestBackupStoppedPastItsLease(t *testing.T) {
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	bin := newStrataBin(t, c)
	forgotten := randomBytes(8, 3<<20)
	c.backupStdin(forgotten, "old.bin")
	c.backupStdin([]byte("a later, smaller export\n"), "old.bin")
	c.ok("forget", "--keep-last", "1")
	snapshotsBefore := len(c.snapshots())
	packsBefore := len(c.packs())

	backup, stdin := bin.startPiped(t, []string{"STRATA_LOCK_LEASE=2s"}, "backup", "--stdin", "--stdin-name", "new.bin", "--json")
	if _, err := stdin.Write(randomBytes(9, 2<<20)); err != nil {
		t.Fatalf("writing to the backup: %v\n%s", err, backup.stderr())
	}
	// A new pack shows that the backup is past its lock and index.
	for start := time.Now(); len(c.packs()) == packsBefore; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("the backup stored no pack in 2 minutes:\n%s", backup.stderr())
		}
	}
	backup.signal(t, syscall.SIGSTOP)
	time.Sleep(3 * time.Second) // past the lease: the outcome does not depend on how far
	bin.ok(t, "unlock", "--remove-all")
	bin.ok(t, "prune")
	backup.signal(t, syscall.SIGCONT)
	go func() {
		// The forgotten snapshot's data, whose blobs the backup's index
		// still names; the backup may stop reading once it failed.
		_, _ = stdin.Write(forgotten)
		_ = stdin.Close()
	}()
	err := backup.cmd.Wait()
	if err == nil {
		t.Fatalf("the backup whose lock was lost succeeded:\n%s\n%s", backup.out.String(), backup.stderr())
	}
	if errOut := backup.stderr(); !strings.Contains(errOut, "repository lock lost") || !strings.Contains(errOut, "run the command again") {
		t.Errorf("the backup whose lock was lost does not say so:\n%s", errOut)
	}
	noPanic(t, backup.stderr())
	t.Logf("the backup resumed past its lease:\n%s", backup.stderr())
	if n := len(c.snapshots()); n != snapshotsBefore {
		t.Errorf("%d snapshots after the failed backup, want %d", n, snapshotsBefore)
	}
	c.check()
}

// TestLockOfSlowClockHostBlocks: the live exclusive lock of a host whose
// clock is 20 minutes behind (its 15-minute lease looks expired here)
// blocks a backup, and `unlock` does not remove it.
func TestLockOfSlowClockHostBlocks(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	behind := func() time.Time { return time.Now().Add(-20 * time.Minute) }
	lock, err := c.openAPI(repo.Options{Now: behind}).Lock(context.Background(), true, "prune on a host 20 minutes behind")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock(context.Background())
	c.stdin = []byte("data\n")
	if _, errOut := c.code(exitLocked, "backup", "--stdin"); !strings.Contains(errOut, "20 minutes behind") {
		t.Errorf("backup beside the lock does not name it:\n%s", errOut)
	}
	if out := c.ok("unlock"); !strings.Contains(out, "0 locks removed") {
		t.Errorf("unlock removed the live lock:\n%s", out)
	}
}

// TestLockLeaseSetting: STRATA_LOCK_LEASE sets the lease of the locks a
// command writes; a value that is no duration, or outside 1s to 24h, is
// refused before anything is written.
func TestLockLeaseSetting(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	for _, bad := range []string{"abc", "0s", "500ms", "25h", "-15m", "9999999h"} {
		c.vars["STRATA_LOCK_LEASE"] = bad
		if _, errOut := c.code(exitError, "snapshots"); !strings.Contains(errOut, "STRATA_LOCK_LEASE") {
			t.Errorf("STRATA_LOCK_LEASE=%s: stderr %q does not name it", bad, errOut)
		}
	}
	c.vars["STRATA_LOCK_LEASE"] = "90s"
	c.ok("snapshots")
	if _, err := c.openAPI(repo.Options{LockLease: 25 * time.Hour}).Lock(context.Background(), false, "test"); err == nil {
		t.Error("a lock with a lease of 25h was written")
	}
}

// strataBin runs the built strata binary on a tcli's repository.
type strataBin struct {
	path string
	env  []string
}

func newStrataBin(t *testing.T, c *tcli) *strataBin {
	b := &strataBin{path: buildStrata(t)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") && !strings.HasPrefix(kv, "TMPDIR=") {
			b.env = append(b.env, kv)
		}
	}
	for k, v := range c.vars {
		b.env = append(b.env, k+"="+v)
	}
	return b
}

// ok runs strata to completion; it must exit 0.
func (b *strataBin) ok(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(b.path, args...)
	cmd.Env = b.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("strata %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// strataProc is a strata process running in the background.
type strataProc struct {
	cmd   *exec.Cmd
	out   bytes.Buffer
	lines chan string // standard error, line by line

	mu     sync.Mutex
	errOut strings.Builder
}

// start starts strata with args and stdin as its standard input. A
// process still running when the test ends is killed.
func (b *strataBin) start(t *testing.T, stdin io.Reader, args ...string) *strataProc {
	t.Helper()
	p := &strataProc{cmd: exec.Command(b.path, args...), lines: make(chan string, 1024)}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stdin = b.env, &p.out, stdin
	pipe, err := p.cmd.StderrPipe()
	if err == nil {
		err = p.cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.errOut.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	return p
}

// startPiped starts strata with args, and env added to the harness's,
// and returns the writing end of its standard input.
func (b *strataBin) startPiped(t *testing.T, env []string, args ...string) (*strataProc, io.WriteCloser) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	withEnv := &strataBin{path: b.path, env: append(slices.Clone(b.env), env...)}
	p := withEnv.start(t, r, args...)
	_ = r.Close() // the child has its copy
	t.Cleanup(func() { _ = w.Close() })
	return p, w
}

// waitFor reads standard error until a line holds s; the process ending
// first fails the test.
func (p *strataProc) waitFor(t *testing.T, s string) {
	t.Helper()
	for line := range p.lines {
		if strings.Contains(line, s) {
			return
		}
	}
	_ = p.cmd.Wait()
	t.Fatalf("strata %s ended without printing %q:\n%s", strings.Join(p.cmd.Args[1:], " "), s, p.stderr())
}

func (p *strataProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func (p *strataProc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errOut.String()
}
