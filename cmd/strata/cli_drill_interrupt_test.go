package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestInterruptedDrillDropsScratch: Ctrl-C during a drill on a server
// ends it with exit 130, and the scratch database it created is dropped
// all the same. The interrupt is sent once the drill says (-v) that it
// created the database; should the drill have finished by the time the
// signal lands, it exits 0, and the database must be gone just as well.
func TestInterruptedDrillDropsScratch(t *testing.T) {
	if testing.Short() {
		t.Skip("a backup and a drill of 100,000 rows under the race detector: make test-long runs it")
	}
	c := newCLI(t)
	c.ok("init")
	s := pgDB(t)
	s.exec(t, `CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL)`,
		`INSERT INTO big SELECT i, repeat(md5(i::text), 4) FROM generate_series(1, 100000) i`)
	c.ok("backup", "--db", s.dsn)

	bin := buildStrata(t)
	cmd := exec.Command(bin, "-v", "verify", "drill", "--same-engine", "latest")
	cmd.Env = append(os.Environ(), "STRATA_REPOSITORY="+c.repo, "STRATA_PASSWORD_FILE="+c.pwFile, "TMPDIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	lines := bufio.NewScanner(stderr)
	name := ""
	for name == "" && lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
		if m := createdRE.FindStringSubmatch(lines.Text()); m != nil {
			name = m[1]
		}
	}
	if name == "" {
		_ = cmd.Wait()
		t.Fatalf("the drill did not say which database it created:\n%s", seen.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	seen.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Logf("the drill had finished before the interrupt landed")
	case errors.As(err, &ee) && ee.ExitCode() == exitInterrupted:
	default:
		t.Fatalf("interrupted drill: %v, want exit %d\n%s%s", err, exitInterrupted, stdout.String(), seen.String())
	}
	if n := s.int(t, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Errorf("the interrupted drill left its scratch database %s\n%s", name, seen.String())
	}
	if !strings.Contains(seen.String(), "dropped the drill database") {
		t.Errorf("the drill did not say it dropped its database:\n%s", seen.String())
	}
}
