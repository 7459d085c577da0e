package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/internal/syncbuf"
	"strata/service/state"
)

// This file holds the harness of the tests that run strata daemon as a
// process: a strata.yaml, the daemon, its log and its state folder.

// daemonEnv is a strata.yaml beside a repository the test's CLI made.
type daemonEnv struct {
	c        *tcli
	dir      string // holds strata.yaml, state/ and what hooks write
	config   string
	stateDir string
	// env is added to the daemon's environment.
	env []string
	// repoKeys are further keys of the repository section (indented
	// lines, such as "  lock_wait: 2s\n").
	repoKeys string
	// db is the SQLite database of the source "app" (newAppDaemonEnv).
	db string
}

// newDaemonEnv initialises a repository and writes strata.yaml: the
// repository section, state_dir, then body (sources, jobs, hooks).
func newDaemonEnv(t *testing.T, body string) *daemonEnv {
	t.Helper()
	c := newCLI(t)
	c.ok("init")
	dir := t.TempDir()
	e := &daemonEnv{c: c, dir: dir, config: filepath.Join(dir, "strata.yaml"), stateDir: filepath.Join(dir, "state")}
	e.writeConfig(body)
	return e
}

// newAppDaemonEnv is newDaemonEnv with the source "app", a new SQLite
// database (sqliteApp, at e.db), followed by rest (writeAppConfig).
func newAppDaemonEnv(t *testing.T, rest string) *daemonEnv {
	t.Helper()
	db, _ := sqliteApp(t)
	e := newDaemonEnv(t, "")
	e.db = db
	e.writeAppConfig(rest)
	return e
}

// withDashboardToken puts a dashboard token in the daemon's environment
// and returns it.
func (e *daemonEnv) withDashboardToken() string {
	const token = "0123456789abcdef0123456789abcdef-test"
	e.env = append(e.env, "STRATA_DASHBOARD_TOKEN="+token)
	return token
}

func (e *daemonEnv) writeConfig(body string) {
	e.c.t.Helper()
	yaml := "version: 1\nstate_dir: " + e.stateDir + "\nrepository:\n  url: " + e.c.repo + "\n  password_file: " + e.c.pwFile + "\n" + e.repoKeys + body
	if err := os.WriteFile(e.config, []byte(yaml), 0o600); err != nil {
		e.c.t.Fatal(err)
	}
}

// writeAppConfig writes strata.yaml with one source, "app", the SQLite
// database e.db, followed by rest (jobs and the other sections).
func (e *daemonEnv) writeAppConfig(rest string) {
	e.c.t.Helper()
	e.writeConfig("sources:\n  - name: app\n    type: sqlite\n    dsn: sqlite://" + e.db + "\n" + rest)
}

// daemonProc is a running strata daemon.
type daemonProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	log    *syncbuf.Buffer
	exited chan error
}

// startDaemon starts strata daemon --config on e's config. No STRATA_*
// variable is set: everything comes from strata.yaml.
func (e *daemonEnv) startDaemon(args ...string) *daemonProc {
	t := e.c.t
	t.Helper()
	bin := buildStrata(t)
	cmd := exec.Command(bin, append([]string{"daemon", "--config", e.config}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(append(env, "TMPDIR="+t.TempDir()), e.env...)
	p := &daemonProc{t: t, cmd: cmd, log: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// stop sends SIGTERM and waits for the daemon to exit 0.
func (p *daemonProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("daemon exited with %v after SIGTERM, want 0\n%s", err, p.log.String())
		}
	case <-time.After(60 * time.Second):
		p.t.Fatalf("daemon still running 60 s after SIGTERM\n%s", p.log.String())
	}
}

// waitFor polls cond every 100 ms for up to a minute (a loaded machine),
// failing with what with the daemon's log.
func (p *daemonProc) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case err := <-p.exited:
			p.t.Fatalf("daemon exited (%v) while waiting for %s\n%s", err, what, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s after a minute\n%s", what, p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runs returns the state folder's records of job, newest first.
func (e *daemonEnv) runs(job string) []state.Run {
	e.c.t.Helper()
	s, err := state.Open(e.stateDir, 0)
	if err != nil {
		e.c.t.Fatal(err)
	}
	runs, err := s.Runs(job, 0)
	if err != nil {
		e.c.t.Fatal(err)
	}
	return runs
}

// ended returns the runs of job that ended with result.
func (e *daemonEnv) ended(job string, result state.Result) []state.Run {
	var out []state.Run
	for _, r := range e.runs(job) {
		if r.Result == result {
			out = append(out, r)
		}
	}
	return out
}
