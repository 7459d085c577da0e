package procgroup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultGrace is how long a cancelled command has between SIGTERM and
// SIGKILL when Shell is given no grace.
const DefaultGrace = 10 * time.Second

// wrapper is the group leader's script ($1 is the command). Its HUP trap
// runs when strata dies (Pdeathsig) and kills the whole group. TERM and
// INT only interrupt its wait, which it repeats while the command runs,
// so it exits with the command's status. The command runs in the
// background so that the wrapper's traps can run while it waits; a
// background command's standard input is /dev/null, as strata gives its
// commands anyway.
const wrapper = `trap 'kill -KILL 0' HUP
trap : TERM INT
sh -c "$1" &
p=$!
while :; do
	wait "$p"
	s=$?
	kill -0 "$p" 2>/dev/null || exit "$s"
done`

// Shell returns the command that runs `sh -c command` in a process group
// of its own that dies with this process. When ctx ends before the
// command does, the whole group gets SIGTERM, and SIGKILL grace later
// (DefaultGrace when grace is 0). Set Env, Stdout, Stderr and the like on
// the result before starting it; do not replace its SysProcAttr, Cancel
// or WaitDelay.
func Shell(ctx context.Context, command string, grace time.Duration) *exec.Cmd {
	if grace <= 0 {
		grace = DefaultGrace
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", wrapper, "strata-command", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	var cancelled atomic.Bool
	cmd.Cancel = func() error {
		if !cancelled.CompareAndSwap(false, true) {
			return nil
		}
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGTERM)
		// The group outlives its leader while any member runs, and its
		// ID is not reused while one does: SIGKILL reaches exactly what
		// is left of it.
		time.AfterFunc(grace, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		return err
	}
	// A command still running (or a member holding its output open) a
	// grace after SIGTERM was killed with its group; Wait then returns.
	cmd.WaitDelay = grace + time.Second
	return cmd
}

// Run runs cmd (made by Shell) with its standard output and error
// written to out, and ends what the command leaves behind in its group
// (EndLeftovers). A process that left the group (setsid) and still holds
// the output is not waited for: Run stops reading the output and writes
// to out which process holds it. It returns the command's exit status.
func Run(cmd *exec.Cmd, out io.Writer, grace time.Duration) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	// A pipe of our own, not exec's copying: exec.Cmd.Wait would wait
	// for whatever still holds the output, which is what is ended here.
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return err
	}
	drained := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, pr)
		close(drained)
	}()
	held := <-EndLeftovers(cmd, grace, drained, pr)
	<-drained // EndLeftovers closed what was still held
	if held != nil {
		fmt.Fprintf(out, "strata: %v\n", held)
	}
	return cmd.Wait()
}

// EndLeftovers ends what a started cmd (made by Shell) leaves in its
// group once it exits: SIGTERM to the group, then SIGKILL when drained
// is closed (whoever held the command's output let it go), when only
// processes outside the group still hold it, or grace later
// (DefaultGrace when 0). A stop or a timeout that ended the command
// itself leaves its group the same grace: a SIGTERM trap may clean up.
//
// outputs are the read ends of the command's output, drained's pipes.
// When processes still hold them after the SIGKILL (killSettle at most,
// for the killed to close them), those are processes that left the
// group (setsid, a daemon the command started), which would keep their
// readers waiting, past the command's timeout and strata's stop, for as
// long as they run: EndLeftovers closes outputs, so that their readers
// return, and sends an error wrapping ErrOutputHeld that names those
// processes. The returned channel receives nil or that error after the
// SIGKILL; call cmd.Wait only after that.
//
// The command is waited for without being reaped (waitid with
// WNOWAIT): until Wait reaps it, the exited leader still holds its
// process group ID, so the signals cannot reach a group that reused it.
func EndLeftovers(cmd *exec.Cmd, grace time.Duration, drained <-chan struct{}, outputs ...*os.File) <-chan error {
	if grace <= 0 {
		grace = DefaultGrace
	}
	done := make(chan error, 1)
	go func() {
		pgid := cmd.Process.Pid
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, pgid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if !errors.Is(err, unix.EINTR) {
				if err != nil {
					done <- nil // not our child any more: nothing to end
					return
				}
				break
			}
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		escaped := waitLeftovers(pgid, grace, drained, outputs)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if !escaped {
			// The killed close the output as they die.
			waitLeftovers(pgid, killSettle, drained, outputs)
		}
		select {
		case <-drained:
			done <- nil
		default:
			done <- release(outputs)
		}
	}()
	return done
}

// Output runs cmd (made by Shell) and returns its standard output, its
// standard error going to stderr, and ends what the command leaves
// behind in its group as Run does. When a process that left the group
// still holds the output, the output is not waited for: Output returns
// that error (wrapping ErrOutputHeld) and nothing of what was read.
func Output(cmd *exec.Cmd, stderr io.Writer, grace time.Duration) ([]byte, error) {
	or, ow, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer or.Close()
	er, ew, err := os.Pipe()
	if err != nil {
		ow.Close()
		return nil, err
	}
	defer er.Close()
	cmd.Stdout, cmd.Stderr = ow, ew
	err = cmd.Start()
	ow.Close()
	ew.Close()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	errDone, drained := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = io.Copy(stderr, er)
		close(errDone)
	}()
	go func() {
		_, _ = io.Copy(&out, or)
		<-errDone
		close(drained)
	}()
	held := <-EndLeftovers(cmd, grace, drained, or, er)
	<-drained // EndLeftovers closed what was still held
	err = cmd.Wait()
	if held != nil {
		return nil, held
	}
	return out.Bytes(), err
}
