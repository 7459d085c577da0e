package s3test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"syscall"
	"time"

	"strata/internal/syncbuf"
)

// Process is one server process started for the tests.
type Process struct {
	Name string // what it is, as in "minio" or "filer"
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan error // its exit, put back by whoever takes it
}

// StartProcess starts cmd, named name in errors, collecting what it
// writes. The process dies with the test binary, even when that is killed.
func StartProcess(name string, cmd *exec.Cmd) (*Process, error) {
	out := &syncbuf.Buffer{Limit: 1 << 20}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// Output returns what the process has written (its first MiB).
func (p *Process) Output() string {
	return p.out.String()
}

// exited returns an error saying how the process ended, or nil while it
// runs.
func (p *Process) exited() error {
	select {
	case err := <-p.done:
		p.done <- err // for Stop
		return fmt.Errorf("the %s exited: %v", p.Name, err)
	default:
		return nil
	}
}

// Stop asks the process to end and waits for it, killing it after ten
// seconds.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// WaitUntil calls ready every 100 ms until it says so, failing when one of
// procs exits or after timeout; what names what it waits for.
func WaitUntil(what string, timeout time.Duration, ready func() bool, procs ...*Process) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, p := range procs {
			if err := p.exited(); err != nil {
				return fmt.Errorf("waiting for %s: %w", what, err)
			}
		}
		if ready() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: not ready within %v", what, timeout)
}

// Get returns the body of url and whether it answered 200.
func Get(url string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b, err == nil && resp.StatusCode == http.StatusOK
}
