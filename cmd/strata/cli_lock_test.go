package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

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
	backup := bin.start(t, data, "--retry-lock", "5m", "backup", "--stdin", "--stdin-name", "data.bin", "--time", at, "--json")
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

// start starts strata with args and stdin on its standard input. A
// process still running when the test ends is killed.
func (b *strataBin) start(t *testing.T, stdin []byte, args ...string) *strataProc {
	t.Helper()
	p := &strataProc{cmd: exec.Command(b.path, args...), lines: make(chan string, 1024)}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stdin = b.env, &p.out, bytes.NewReader(stdin)
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
