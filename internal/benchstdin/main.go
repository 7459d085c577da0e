// Command benchstdin is the whole-program backup benchmark of `make bench`:
// it generates a CSV-like export of at least 500 MB, backs it up through
// `strata backup --stdin` into a new repository (new data), then backs up
// the same bytes again (unchanged data, chunked and hashed again since a
// stream has no modification time), and prints throughput and peak memory
// of each run.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"strata/internal/gendata"
)

func main() {
	bin := flag.String("strata", "bin/strata", "strata binary")
	size := flag.Int64("size", 512<<20, "bytes of generated data")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.Parse()
	if err := run(*bin, *size, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "benchstdin:", err)
		os.Exit(1)
	}
}

func run(bin string, size int64, dir string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "strata-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	data := filepath.Join(dir, "export.tsv")
	f, err := os.Create(data)
	if err != nil {
		return err
	}
	if _, err := gendata.Write(f, size); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(data)
	if err != nil {
		return err
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("bench\n"), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"), "STRATA_PASSWORD_FILE="+pw)
	if _, _, err := runStrata(bin, env, "", "init"); err != nil {
		return err
	}
	fmt.Printf("data set: %.1f MB generated CSV-like export, GOMAXPROCS default, %s\n", float64(fi.Size())/1e6, time.Now().Format(time.DateOnly))
	fmt.Printf("%-28s %10s %10s %12s\n", "run", "seconds", "MB/s", "peak RSS MiB")
	for _, name := range []string{"new data (first backup)", "unchanged data (second)"} {
		secs, rss, err := runStrata(bin, env, data, "backup", "--quiet", "--stdin", "--stdin-name", "export.tsv")
		if err != nil {
			return err
		}
		fmt.Printf("%-28s %10.2f %10.1f %12.1f\n", name, secs, float64(fi.Size())/1e6/secs, float64(rss)/1024)
	}
	var repoBytes int64
	_ = filepath.Walk(filepath.Join(dir, "repo"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			repoBytes += info.Size()
		}
		return nil
	})
	fmt.Printf("repository size after both: %.1f MB\n", float64(repoBytes)/1e6)
	return nil
}

// runStrata runs strata with stdin from a file and returns wall seconds and
// peak resident memory in KiB.
func runStrata(bin string, env []string, stdin string, args ...string) (float64, int64, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("strata %v: %w", args, err)
	}
	secs := time.Since(start).Seconds()
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return secs, rss, nil
}
