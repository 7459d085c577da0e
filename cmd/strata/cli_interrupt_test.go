package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptedBackupIsIndexed: Ctrl-C stops a backup with exit 130 and
// "strata: interrupted", and the packs it uploaded are indexed, so the
// next backup of the same data stores little of it again. The backup
// reads its input from a pipe the test feeds, and is interrupted while it
// waits for more, after packs were uploaded: no timing decides the result.
func TestInterruptedBackupIsIndexed(t *testing.T) {
	c := newCLI(t)
	// 1 MiB packs keep the data small: 12 MiB fed is a dozen packs, fewer
	// than the 64 after which a backup writes an index on its own.
	c.ok("init", "--pack-size", "1")
	bin := buildStrata(t)
	// Incompressible data, so packs fill at the rate it is read.
	const fed, total = 12 << 20, 16 << 20
	data := make([]byte, total)
	rng := rand.NewChaCha8([32]byte{7})
	_, _ = rng.Read(data)

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd := exec.Command(bin, "backup", "--stdin", "--stdin-name", "db.sql")
	cmd.Env = append(os.Environ(), "STRATA_REPOSITORY="+c.repo, "STRATA_PASSWORD_FILE="+c.pwFile, "TMPDIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stderr = pr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fedAll := make(chan error, 1)
	go func() {
		_, err := pw.Write(data[:fed])
		fedAll <- err
	}()
	// Wait until the backup has read what it was fed and uploaded packs
	// of it; it then waits for more input.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("backup ended before the interrupt: %v\n%s", err, stderr.String())
		case err := <-fedAll:
			if err != nil {
				t.Fatal(err)
			}
			fedAll = nil
		case <-time.After(50 * time.Millisecond):
		}
		if fedAll == nil && len(c.packs()) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes the backup had uploaded %d packs\n%s", len(c.packs()), stderr.String())
		}
	}
	var uploaded int64
	for _, p := range c.packs() {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		uploaded += fi.Size()
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted backup: %v, want exit %d\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "strata: interrupted") || strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("stderr of the interrupted backup:\n%s", stderr.String())
	}
	if n := len(c.files("locks")); n != 0 {
		t.Errorf("the interrupted backup left %d locks", n)
	}
	if n := len(c.snapshots()); n != 0 {
		t.Fatalf("the interrupted backup saved %d snapshots", n)
	}
	// Its audit record is written all the same, with the exit code.
	if recs := c.auditRecords(); len(recs) != 2 || recs[1].Command != "backup" || recs[1].Result.ExitCode != exitInterrupted || recs[1].Result.OK {
		t.Errorf("the audit trail after the interrupt: %+v", recs)
	}
	c.check()

	// The next backup of the whole input stores what was not uploaded,
	// not what was.
	c.stdin = data
	var res struct {
		Summary struct {
			BytesAdded int64 `json:"bytes_added"`
		} `json:"summary"`
	}
	out := c.ok("backup", "--stdin", "--stdin-name", "db.sql", "--json")
	if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil {
		t.Fatalf("backup --json: %v\n%s", err, out)
	}
	if limit := total - uploaded/2; res.Summary.BytesAdded > limit {
		t.Errorf("the next backup added %d bytes of %d; %d were uploaded before the interrupt, so at most %d should be new",
			res.Summary.BytesAdded, total, uploaded, limit)
	}
	c.check()
	t.Logf("uploaded before the interrupt: %d bytes; the next backup added %d of %d", uploaded, res.Summary.BytesAdded, total)
}
