package procgroup

import (
	"context"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
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
