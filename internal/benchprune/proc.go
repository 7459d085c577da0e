package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// run is one finished child process: wall seconds and peak resident
// memory (getrusage of the child). Linux starts a child's peak at the
// parent's peak when it execs, so the measuring process stays small: the
// repository is built by another child (-build). With GODEBUG=gctrace=1
// in its environment, LiveMiB is the largest heap the Go runtime found
// live at the end of a collection after the first, and GCs how many ran.
// With the default key the first collection of a strata command runs
// inside key derivation, whose Argon2id block (32 or 64 MiB) is live then and
// garbage right after; with a cheap key it comes early, at a heap of a
// few MiB. RSS also holds garbage not yet collected and memory not yet
// returned.
type run struct {
	Seconds float64
	RSSKiB  int64
	LiveMiB int
	GCs     int
}

func (r run) mib() float64 { return float64(r.RSSKiB) / 1024 }

// command runs a child with env and stdout into out (discarded when nil).
// Its stderr is kept and shown when it fails.
func command(env []string, out io.Writer, name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{Seconds: time.Since(start).Seconds()}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.RSSKiB = ru.Maxrss
	}
	r.LiveMiB, r.GCs = gcTrace(stderr.String())
	return r, nil
}

// gcTrace reads the lines GODEBUG=gctrace=1 writes ("gc 3 @0.1s 2%: …,
// 70->70->5 MB, 140 MB goal, …") and returns the largest live heap (the
// third figure) after the first collection, and the number of
// collections.
func gcTrace(stderr string) (liveMiB, gcs int) {
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		_, after, ok := strings.Cut(line, " MB, ")
		if !ok {
			continue
		}
		before := line[:len(line)-len(after)-len(" MB, ")]
		heaps := strings.Split(before[strings.LastIndexByte(before, ' ')+1:], "->")
		if len(heaps) != 3 {
			continue
		}
		if live, err := strconv.Atoi(heaps[2]); err == nil {
			if gcs > 0 {
				liveMiB = max(liveMiB, live)
			}
			gcs++
		}
	}
	return liveMiB, gcs
}

// selfRSSKiB is this process's own peak resident memory: the floor under
// every child's figure.
func selfRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss
}

func mb(n int64) float64 { return float64(n) / 1e6 }
