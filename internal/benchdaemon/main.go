// Command benchdaemon measures what strata daemon costs while no job is
// due: its CPU time over a while (utime+stime of /proc/PID/stat), its
// resident memory (VmRSS, VmHWM of /proc/PID/status) and its threads. It
// makes a repository, a strata.yaml with an hourly and a daily backup
// (neither due within the measurement unless it crosses a full hour),
// starts the daemon, lets it settle, measures, and stops it with SIGTERM.
// `make bench-daemon` runs it (docs/benchmarks.md, "The daemon at rest").
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	strata := flag.String("strata", "bin/strata", "the strata binary")
	dur := flag.Duration("duration", 60*time.Second, "how long to measure")
	flag.Parse()
	bin, err := filepath.Abs(*strata)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "benchdaemon-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pw := filepath.Join(dir, "pw")
	must(os.WriteFile(pw, []byte("bench\n"), 0o600))
	must(os.MkdirAll(filepath.Join(dir, "data"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "data", "a"), []byte("a\n"), 0o600))
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command(bin, "--repo", repo, "--password-file", pw, "init", "-q").CombinedOutput(); err != nil {
		log.Fatalf("strata init: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "strata.yaml")
	must(os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
state_dir: %s/state
repository:
  url: %s
  password_file: %s
sources:
  - name: files
    type: path
    paths: [%s/data]
jobs:
  - name: hourly
    source: files
    tier: hourly
    schedule: "0 * * * *"
  - name: daily
    source: files
    tier: daily
    schedule: "30 1 * * *"
`, dir, repo, pw, dir)), 0o600))
	var logBuf bytes.Buffer
	cmd := exec.Command(bin, "daemon", "--config", cfg)
	cmd.Stderr = &logBuf
	must(cmd.Start())
	pid := cmd.Process.Pid
	time.Sleep(2 * time.Second) // started, jobs listed
	t0 := cpuTicks(pid)
	start := time.Now()
	time.Sleep(*dur)
	t1 := cpuTicks(pid)
	elapsed := time.Since(start)
	status := procStatus(pid)
	must(cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		log.Fatalf("daemon exit after SIGTERM: %v\n%s", err, logBuf.String())
	}
	if strings.Contains(logBuf.String(), "run started") {
		log.Printf("warning: a job ran during the measurement (a full hour passed): the figures include it")
	}
	const clkTck = 100 // USER_HZ on Linux
	cpu := float64(t1-t0) / clkTck
	fmt.Printf("strata daemon, 2 jobs, none due, %.0f s: CPU %.2f s (%.3f%% of one core), VmRSS %s, VmHWM %s, threads %s\n",
		elapsed.Seconds(), cpu, 100*cpu/elapsed.Seconds(), status["VmRSS"], status["VmHWM"], status["Threads"])
}

// cpuTicks is utime+stime of /proc/PID/stat, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return utime + stime
}

func procStatus(pid int) map[string]string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
