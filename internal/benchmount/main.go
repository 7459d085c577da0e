// Command benchmount is the benchmark of `make bench-mount`: strata mount
// against strata dump. It builds the customer database of
// internal/customerdb (200,000 customers, about 134 MB of COPY text),
// backs it up, and times reading every table whole through the mount
// (cat TABLE.tsv and TABLE.csv) against `strata dump --format tsv|csv`
// of the same snapshot; the export of all tables as one file (a
// snapshot of files, whose reads go through the stored-file path) read
// through the mount against `strata dump` of that file; then `ls -R` of
// the mount of a repository of 720 hourly snapshots of a small customer
// database (cold, then again with the kernel's caches warm). It prints
// the seconds, MB/s, and the peak RSS of each strata process (of the
// mount, VmHWM of the serving process).
//
// The databases and the repositories are built by a copy of this program
// (see setup), so that this process stays small: Linux seeds a child's
// peak RSS with its parent's at exec.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"strata/internal/benchrepo"
	"strata/internal/customerdb"
)

type config struct {
	strata    string
	customers int
	snapshots int
	small     int
	dir       string
}

const setupEnv = "BENCHMOUNT_SETUP"

func main() {
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
	flag.IntVar(&c.customers, "customers", 200000, "customers of the large database (three services each)")
	flag.IntVar(&c.snapshots, "snapshots", 720, "hourly snapshots of the small database")
	flag.IntVar(&c.small, "small", 1000, "customers of the small database")
	flag.StringVar(&c.dir, "dir", "", "work folder (default: a new temporary folder, removed afterwards); an existing one is reused")
	flag.Parse()
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		fail(err)
	}
	if phase := os.Getenv(setupEnv); phase != "" {
		if err := setup(c, phase); err != nil {
			fail(err)
		}
		return
	}
	if err := bench(c); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchmount:", err)
	os.Exit(1)
}

// env is the environment of every strata process.
func env(repo string) []string {
	return append(os.Environ(), "STRATA_REPOSITORY="+repo, "STRATA_PASSWORD=bench")
}

// setup builds one repository, in a copy of this program: "big", the
// customer database backed up once plus its export as a file; "many",
// the small database backed up every hour after an hour of churn.
func setup(c config, phase string) error {
	ctx := context.Background()
	switch phase {
	case "big":
		dbPath := filepath.Join(c.dir, "big.db")
		db, err := customerdb.Open(dbPath)
		if err != nil {
			return err
		}
		if err := customerdb.Build(ctx, db, customerdb.Options{Customers: c.customers}); err != nil {
			return err
		}
		db.Close()
		repo := filepath.Join(c.dir, "big-repo")
		if err := strata(env(repo), nil, c.strata, "init"); err != nil {
			return err
		}
		if err := strata(env(repo), nil, c.strata, "backup", "--db", "sqlite://"+dbPath, "--tier", "daily"); err != nil {
			return err
		}
		// The export as one file: every table's TSV, one after the other.
		exportDir := filepath.Join(c.dir, "export")
		if err := os.MkdirAll(exportDir, 0o700); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(exportDir, "customers.tsv"))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for _, t := range customerdb.Tables() {
			if err := strata(env(repo), w, c.strata, "dump", "latest", t, "--format", "tsv"); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return strata(env(repo), nil, c.strata, "backup", exportDir, "--tag", "export")
	case "many":
		dbPath := filepath.Join(c.dir, "small.db")
		db, err := customerdb.Open(dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := customerdb.Build(ctx, db, customerdb.Options{Customers: c.small}); err != nil {
			return err
		}
		repo := filepath.Join(c.dir, "many-repo")
		if err := strata(env(repo), nil, c.strata, "init"); err != nil {
			return err
		}
		real := min(c.snapshots, realBackups)
		for h := 0; h < real; h++ {
			if h > 0 {
				if _, err := customerdb.Churn(ctx, db, h, 0.01); err != nil {
					return err
				}
			}
			args := []string{"-q", "backup", "--db", "sqlite://" + dbPath, "--tier", "hourly",
				"--time", customerdb.HourTime(h).Format(customerdb.TimeLayout)}
			if h%24 == 0 {
				args = append(args, "--tag", "midnight")
			}
			if err := strata(env(repo), nil, c.strata, args...); err != nil {
				return fmt.Errorf("hour %d: %w", h, err)
			}
		}
		return copySnapshots(ctx, c, repo, real)
	}
	return fmt.Errorf("unknown setup %q", phase)
}

// realBackups is how many of the small database's hours are real
// backups (each a strata process, a second or more on a loaded machine);
// the later hours are copies of their snapshot files with later times,
// each naming the root tree of one of them in turn (copySnapshots).
const realBackups = 48

// copySnapshots adds snapshots for hours from..c.snapshots-1, each a copy
// of snapshot h%from with hour h's time: the mount lists and walks them
// as any snapshot (their root trees repeat, so the mount's tree cache
// serves some of them).
func copySnapshots(ctx context.Context, c config, path string, from int) error {
	if c.snapshots <= from {
		return nil
	}
	r, sns, err := benchrepo.Open(ctx, path, "bench")
	if err != nil {
		return err
	}
	for h := from; h < c.snapshots; h++ {
		sn := *sns[h%len(sns)]
		sn.Time = customerdb.HourTime(h)
		sn.Tags = nil
		if h%24 == 0 {
			sn.Tags = []string{"midnight"}
		}
		if err := r.SaveSnapshot(ctx, &sn); err != nil {
			return err
		}
	}
	return nil
}

// strata runs one strata command, its stdout into out (discarded when
// nil).
func strata(env []string, out *bufio.Writer, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strata %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// runSetup runs setup phase in a copy of this program, unless its
// repository is there already (a reused -dir).
func runSetup(c config, phase, repo string) error {
	if _, err := os.Stat(filepath.Join(repo, "config")); err == nil {
		fmt.Printf("reusing %s\n", repo)
		return nil
	}
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args = append(cmd.Args[:1], "-strata", c.strata, "-customers", strconv.Itoa(c.customers),
		"-snapshots", strconv.Itoa(c.snapshots), "-small", strconv.Itoa(c.small), "-dir", c.dir)
	cmd.Env = append(os.Environ(), setupEnv+"="+phase)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("setup %s: %w", phase, err)
	}
	fmt.Printf("built %s in %.0fs\n", repo, time.Since(start).Seconds())
	return nil
}

// timing is one measured process: wall seconds, bytes it wrote to
// stdout, and peak RSS in KiB.
type timing struct {
	secs  float64
	bytes int64
	rss   int64
}

// timed runs a command with stdout into a counter and returns its time
// and peak RSS (rusage of the child: this process is small).
func timed(env []string, name string, args ...string) (timing, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var n countWriter
	cmd.Stdout = &n
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return timing{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	t := timing{secs: time.Since(start).Seconds(), bytes: int64(n)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.rss = ru.Maxrss
	}
	return t, nil
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

// served is a running strata mount.
type served struct {
	cmd *exec.Cmd
	dir string
}

func serve(c config, repo, dir string) (*served, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.strata, "mount", dir)
	cmd.Env = env(repo)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "snapshots")); err == nil {
			return &served{cmd: cmd, dir: dir}, nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("the mount at %s did not appear within 60s", dir)
		}
	}
}

// peakRSS is the serving process's VmHWM in KiB.
func (s *served) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func (s *served) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	return s.cmd.Wait()
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func bench(c config) error {
	if c.dir == "" {
		var err error
		if c.dir, err = os.MkdirTemp("", "strata-benchmount-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	fmt.Printf("benchmount %s, %d CPUs, load average %s at the start\n", time.Now().Format(time.DateOnly), runtime.NumCPU(), loadavg())
	big, many := filepath.Join(c.dir, "big-repo"), filepath.Join(c.dir, "many-repo")
	if err := runSetup(c, "big", big); err != nil {
		return err
	}
	if err := runSetup(c, "many", many); err != nil {
		return err
	}

	// Reading tables and the export: strata dump, then the mount.
	s, err := serve(c, big, filepath.Join(c.dir, "mnt-big"))
	if err != nil {
		return err
	}
	fmt.Printf("\n%-58s %8s %8s %8s %9s\n", "read (load average)", "MB", "seconds", "MB/s", "RSS MiB")
	row := func(what string, t timing) {
		fmt.Printf("%-58s %8.1f %8.2f %8.1f %9.1f\n", what, float64(t.bytes)/1e6, t.secs, float64(t.bytes)/1e6/t.secs, float64(t.rss)/1024)
	}
	e := env(big)
	for _, format := range []string{"tsv", "csv"} {
		var dump, mnt timing
		for _, t := range customerdb.Tables() {
			d, err := timed(e, c.strata, "dump", "--no-lock", "latest", t, "--format", format, "--source", "sqlite://"+filepath.Join(c.dir, "big.db"))
			if err != nil {
				return err
			}
			mt, err := timed(e, "cat", filepath.Join(latestDB(s.dir), t, t+"."+format))
			if err != nil {
				return err
			}
			dump.secs, dump.bytes, dump.rss = dump.secs+d.secs, dump.bytes+d.bytes, max(dump.rss, d.rss)
			mnt.secs, mnt.bytes = mnt.secs+mt.secs, mnt.bytes+mt.bytes
			if d.bytes != mt.bytes {
				return fmt.Errorf("%s.%s: the mount gave %d bytes, strata dump %d", t, format, mt.bytes, d.bytes)
			}
		}
		mnt.rss = s.peakRSS()
		row(fmt.Sprintf("dump --format %s, every table (%s)", format, loadavg()), dump)
		row(fmt.Sprintf("cat TABLE.%s in the mount (%s)", format, loadavg()), mnt)
	}
	exportPath := filepath.Join(c.dir, "export", "customers.tsv")
	d, err := timed(e, c.strata, "dump", "--no-lock", "latest", exportPath)
	if err != nil {
		return err
	}
	row(fmt.Sprintf("dump of the export file (%s)", loadavg()), d)
	m, err := timed(e, "cat", filepath.Join(s.dir, "tags", "export", "latest")+exportPath)
	if err != nil {
		return err
	}
	m.rss = s.peakRSS()
	row(fmt.Sprintf("cat of it in the mount (%s)", loadavg()), m)
	if err := s.stop(); err != nil {
		return fmt.Errorf("strata mount: %w", err)
	}

	// ls -R of the views of many snapshots.
	s, err = serve(c, many, filepath.Join(c.dir, "mnt-many"))
	if err != nil {
		return err
	}
	fmt.Printf("\n%-58s %8s %8s %9s\n", fmt.Sprintf("listing %d snapshots (load average)", c.snapshots), "entries", "seconds", "RSS MiB")
	// The views down to the snapshot folders (find -maxdepth 3: views,
	// tiers, tags and hosts, snapshots), then everything in them.
	for _, l := range []struct{ what, cmd string }{
		{"find -maxdepth 3 (the views), cold", "find " + s.dir + " -maxdepth 3"},
		{"find -maxdepth 3 (the views), warm", "find " + s.dir + " -maxdepth 3"},
		{"ls -R (every file of every snapshot), cold", "ls -R " + s.dir},
		{"ls -R (every file of every snapshot), warm", "ls -R " + s.dir},
	} {
		start := time.Now()
		out, err := exec.Command("sh", "-c", l.cmd+" | grep -c .").Output()
		if err != nil {
			return fmt.Errorf("%s: %w", l.cmd, err)
		}
		fmt.Printf("%-58s %8s %8.2f %9.1f\n", fmt.Sprintf("%s (%s)", l.what, loadavg()), strings.TrimSpace(string(out)),
			time.Since(start).Seconds(), float64(s.peakRSS())/1024)
	}
	if err := s.stop(); err != nil {
		return fmt.Errorf("strata mount: %w", err)
	}
	fmt.Printf("\nload average %s at the end\n", loadavg())
	return nil
}

// latestDB is the folder of the newest database snapshot in a mount.
func latestDB(mnt string) string { return filepath.Join(mnt, "tiers", "daily", "latest") }
