// Command benchprune is the forget-and-prune benchmark of `make
// bench-prune`: it builds a repository of 720 hourly snapshots (30 days)
// of a 100 MB table export that changes every hour (0.2% of rows, as
// bench-db's churn: mostly recent rows updated, a few appended and
// deleted), backing each hour up in-process through dbexport.Backup with
// the previous snapshot as parent, so changed chunks are delta blobs
// against their predecessors exactly as with a real database. Then it
// runs the real binary on a copy: `strata forget` (the default policy,
// given as flags),
// `strata cat config` (the baseline: a process that only opens the
// repository and loads its index), `strata prune --json` and `strata
// check --read-data`, with wall seconds and peak RSS of each (opened with
// a key of cheap derivation, whose memory would otherwise set every
// peak; the repository's own key's cost is measured apart); restores
// every remaining snapshot's table with `strata dump` and compares it
// byte for byte (SHA-256) with the export it was taken from; measures
// the share of kept bytes held only as delta bases, what re-encoding
// their dependants as plain blobs would cost and free, and, as the bound
// for re-encoding against kept bases, the size of the kept hours backed
// up on their own; and says whether the targets are met. Any
// difference fails the run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

type config struct {
	strata string
	hours  int
	size   int64
	rate   float64
	keep   string
	build  string // internal: build the repository in this folder and exit
	cheap  string // internal: swap the key of the repository in this folder and exit
}

func main() {
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
	flag.IntVar(&c.hours, "hours", 720, "hourly snapshots to build")
	flag.Int64Var(&c.size, "size", 100_000_000, "bytes of the table's COPY text at hour 0")
	flag.Float64Var(&c.rate, "rate", 0.002, "share of rows changed per hour")
	flag.StringVar(&c.keep, "keep", "", "keep the built repository in `DIR` and reuse it on later runs with the same -hours, -size and -rate (default: build in a temporary folder, removed afterwards)")
	flag.StringVar(&c.build, "build", "", "internal: build the repository in `DIR` (made by strata init) and exit")
	flag.StringVar(&c.cheap, "cheap-key", "", "internal: give the repository in `DIR` a key of cheap derivation instead of its own, write its password to DIR.cheap-password and exit")
	flag.Parse()
	ctx := context.Background()
	var err error
	switch {
	case c.build != "":
		err = build(ctx, c, c.build)
	case c.cheap != "":
		err = swapToCheapKey(ctx, c.cheap, c.cheap+".cheap-password")
	default:
		err = runBench(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchprune:", err)
		os.Exit(1)
	}
}

func runBench(ctx context.Context, c config) error {
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		return err
	}
	if _, err := os.Stat(c.strata); err != nil {
		return fmt.Errorf("%w: run `make build` first", err)
	}
	tmp, err := os.MkdirTemp("", "strata-benchprune-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	builtDir := c.keep
	if builtDir == "" {
		builtDir = filepath.Join(tmp, "built")
	}
	if builtDir, err = filepath.Abs(builtDir); err != nil {
		return err
	}
	fmt.Printf("benchprune %s, %d CPUs (GOMAXPROCS %d), -hours %d -size %d -rate %g\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), runtime.GOMAXPROCS(0), c.hours, c.size, c.rate)

	b, err := ensureBuilt(c, builtDir)
	if err != nil {
		return err
	}
	work := filepath.Join(tmp, "repo")
	if err := os.CopyFS(work, os.DirFS(filepath.Join(builtDir, "repo"))); err != nil {
		return fmt.Errorf("copying the built repository: %w", err)
	}
	env := append(os.Environ(), "STRATA_REPOSITORY="+work,
		"STRATA_PASSWORD_FILE="+filepath.Join(builtDir, "password"), "STRATA_PASSWORD=", "STRATA_PASSWORD_COMMAND=",
		"TZ=UTC", "GODEBUG=gctrace=1")
	fmt.Println("strata cat config with the repository's key (Argon2id's default cost)")
	defaultKey, err := command(env, nil, c.strata, "cat", "config")
	if err != nil {
		return err
	}
	// In a child, so that this process's peak, which every child's peak
	// RSS starts from, stays small.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := command(os.Environ(), nil, self, "-cheap-key", work); err != nil {
		return err
	}
	pw := work + ".cheap-password"
	env = append(env, "STRATA_PASSWORD_FILE="+pw) // the last one counts
	m, err := measure(c, env, work, b)
	if err != nil {
		return err
	}
	m.defaultKey = defaultKey
	if err := verifyRestores(c, env, b, m); err != nil {
		return err
	}
	fmt.Println("delta bases: reading the pruned repository in-process")
	if m.deltas, err = analyseDeltas(ctx, work, pw); err != nil {
		return err
	}
	fmt.Printf("backing up the %d kept hours on their own\n", len(m.kept))
	if m.series, err = backupKept(ctx, c, b, m.kept, tmp); err != nil {
		return err
	}
	report(b, m)
	return m.failed()
}

// ensureBuilt reuses the repository in dir when it was built with the
// same flags, and builds it otherwise.
func ensureBuilt(c config, dir string) (*buildRecord, error) {
	b, err := loadBuild(dir)
	if err != nil {
		return nil, err
	}
	if b != nil && b.matches(c) {
		fmt.Printf("reusing the repository built in %.0f s in %s\n", b.Seconds, dir)
		return b, nil
	}
	for _, name := range []string{"repo", "built.json"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(benchPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"),
		"STRATA_PASSWORD_FILE="+pw, "STRATA_PASSWORD=", "STRATA_PASSWORD_COMMAND=")
	if _, err := command(env, nil, c.strata, "init"); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	fmt.Printf("building %d hourly snapshots in %s\n", c.hours, dir)
	run, err := command(env, os.Stdout, self, "-build", dir, "-hours", fmt.Sprint(c.hours),
		"-size", fmt.Sprint(c.size), "-rate", fmt.Sprint(c.rate))
	if err != nil {
		return nil, err
	}
	fmt.Printf("built in %.1f s (peak RSS of the building process %.0f MiB)\n", run.Seconds, run.mib())
	if b, err = loadBuild(dir); err != nil {
		return nil, err
	}
	if b == nil || !b.matches(c) {
		return nil, fmt.Errorf("the build in %s wrote no complete built.json", dir)
	}
	return b, nil
}
