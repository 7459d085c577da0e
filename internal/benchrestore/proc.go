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
	CPU     float64 // user + system seconds of the child
	RSSKiB  int64
}

// command runs a child process with env, stdin from the file in (if any)
// and stdout into out (if not nil; discarded otherwise). Its stderr is
// kept and shown when it fails.
func command(env []string, in string, out io.Writer, name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
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
	start := time.Now()
	err := cmd.Run()
	r := run{Seconds: time.Since(start).Seconds()}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.RSSKiB = ru.Maxrss
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return r, nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// timed runs f and returns its wall time in seconds.
func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}
