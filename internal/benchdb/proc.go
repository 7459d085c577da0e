package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// run is one finished child process: wall seconds and peak resident
// memory.
type run struct {
	Seconds float64
	RSSKiB  int64
}

// command runs a child process with env, stdin from the file in (if any)
// and stdout into out (if not nil; discarded otherwise). Its stderr is
// kept and shown when it fails.
//
// The child is started by a copy of this program (see launch): Linux
// seeds a child's peak RSS with its parent's at exec, and this process
// holds the database build, so the child's own rusage would report this
// process's peak, not the child's.
func command(env []string, in string, out io.Writer, name string, args ...string) (run, error) {
	self, err := os.Executable()
	if err != nil {
		return run{}, err
	}
	cmd := exec.Command(self, append([]string{name}, args...)...)
	cmd.Env = append(env, launchEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return run{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	report, w, err := os.Pipe()
	if err != nil {
		return run{}, err
	}
	defer report.Close()
	cmd.ExtraFiles = []*os.File{w}
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return run{}, err
	}
	var r run
	rusage, _ := io.ReadAll(report)
	err = cmd.Wait()
	r.Seconds = time.Since(start).Seconds()
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if _, err := fmt.Sscan(string(rusage), &r.RSSKiB); err != nil {
		return r, fmt.Errorf("%s %s: no peak RSS from the launcher (%q): %w", filepath.Base(name), strings.Join(args, " "), rusage, err)
	}
	return r, nil
}

// launchEnv, set in the environment, makes this program the launcher of
// one child: see launch.
const launchEnv = "BENCHDB_LAUNCH"

// launch runs os.Args[1:] with this process's stdin, stdout, stderr and
// environment (less launchEnv), writes the child's peak RSS in KiB to file
// descriptor 3 and exits with the child's status. This process is small,
// so the peak the child inherits at exec is small too.
func launch() {
	os.Unsetenv(launchEnv)
	report := os.NewFile(3, "rusage")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "benchdb launcher:", err)
		os.Exit(127)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintln(report, ru.Maxrss)
	}
	report.Close()
	os.Exit(cmd.ProcessState.ExitCode())
}

func mb(n int64) float64 { return float64(n) / 1e6 }
func kb(n int64) float64 { return float64(n) / 1e3 }
