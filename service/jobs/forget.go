package jobs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"strata/service/config"
	"strata/service/daemon"
)

// ForgetCommand runs strata.yaml's retention: `strata forget` (with
// --prune when retention.prune is set), which reads the policy from the
// file. forget's flow has not moved into the workflow library yet, so
// the daemon runs its own binary for it: the same code as the command,
// in a process of its own that takes and releases its own lock and
// appends its own audit record.
type ForgetCommand struct {
	// Executable is the strata binary (os.Executable()).
	Executable string
	// Args are the global flags the daemon was given that the command
	// needs: --config FILE, and --repo, --password-file, --retry-lock
	// when given. They hold paths, never a secret.
	Args []string
	// Env is the command's environment (the daemon's: a password in
	// STRATA_PASSWORD reaches it there, never through its arguments).
	Env []string
}

// stopGrace is how long a cancelled forget has to finish after SIGTERM
// (it stops at its next safe point) before it is killed.
const stopGrace = 30 * time.Second

func (r *Runner) forget(ctx context.Context, cfg *config.Config, log *slog.Logger) (daemon.Outcome, error) {
	f := r.Forget
	if f == nil || f.Executable == "" {
		return daemon.Outcome{}, errors.New("job forget: this daemon has no strata binary to run forget with")
	}
	args := append(append([]string{}, f.Args...), "forget")
	if ret := cfg.Retention; ret != nil && ret.Prune {
		args = append(args, "--prune")
	}
	cmd := exec.CommandContext(ctx, f.Executable, args...)
	cmd.Env = f.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	out, err := cmd.StdoutPipe()
	if err != nil {
		return daemon.Outcome{}, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return daemon.Outcome{}, fmt.Errorf("job forget: starting %s: %w", f.Executable, err)
	}
	var last, summary, freed string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		log.Info(line)
		last = line
		switch {
		case strings.Contains(line, " snapshots, kept "):
			summary = line // "removed 2 of 4 snapshots, kept 2"
		case strings.HasPrefix(line, "freed:"):
			freed = strings.Join(strings.Fields(line), " ") // prune's
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return daemon.Outcome{}, ctx.Err()
	}
	if err != nil {
		return daemon.Outcome{}, fmt.Errorf("job forget: strata forget failed (%v): %s", err, last)
	}
	if summary == "" {
		summary = last
	}
	if freed != "" {
		summary += "; " + freed
	}
	return daemon.Outcome{Summary: "forget: " + summary}, nil
}

// ForgetFromEnviron is the ForgetCommand of this process: its binary,
// the global flags given, and its environment.
func ForgetFromEnviron(args []string) (*ForgetCommand, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the strata binary for the daemon's forget: %w", err)
	}
	return &ForgetCommand{Executable: exe, Args: args, Env: os.Environ()}, nil
}
