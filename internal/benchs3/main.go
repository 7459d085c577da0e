// Command benchs3 is the S3 benchmark of `make bench-s3`: the workload of
// `make bench-db` (the customer database of internal/customerdb, backed up
// at hour 0 and after each hour of churn) backed up by `strata backup --db`
// into two repositories side by side, one in a local folder and one in a
// bucket of a MinIO server on loopback (internal/miniotest), then the
// latest state restored from each into a new SQLite file. It prints the
// seconds and throughput of each backup and restore, the requests each
// hourly backup sent to the bucket (counted by a proxy in front of the
// server, by method and by the repository folder they touch), and whether
// the targets are met: S3 at least 80% of local throughput both
// ways. With -baseline OLD, a second binary (an earlier commit) backs up
// the same database into repositories of its own in the same run, its
// backups taking turns with the new one's each hour, so that a change is
// measured before and after under the same load.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"strata/internal/customerdb"
	"strata/internal/miniotest"
)

type config struct {
	strata, baseline string
	customers, hours int
	rate             float64
	dir              string
}

func main() {
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
	flag.StringVar(&c.baseline, "baseline", "", "a second strata binary (an earlier commit) to measure in the same run, on the same database, with repositories of its own")
	flag.IntVar(&c.customers, "customers", 200000, "customers in the database (three services each)")
	flag.IntVar(&c.hours, "hours", 24, "hours of churn after hour 0")
	flag.Float64Var(&c.rate, "rate", 0.002, "share of rows changed per hour")
	flag.StringVar(&c.dir, "dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchs3:", err)
		os.Exit(1)
	}
}

// target is one repository the workload goes to.
type target struct {
	name string
	env  []string // STRATA_REPOSITORY and the rest
}

// variant is one strata binary with its two repositories, local and S3,
// and the proxy counting its requests to the bucket.
type variant struct {
	name    string // "" for the binary of -strata, "baseline" for -baseline
	strata  string
	targets [2]target
	proxy   *proxy
	hours   []hour
	restore [2]float64
	restReq counts
}

// hour is one hour's backups to both targets.
type hour struct {
	n           int
	exportBytes int64
	secs        [2]float64 // local, S3
	requests    counts     // of the S3 backup
}

func run(c config) error {
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		return err
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "strata-benchs3-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	srv, err := miniotest.Start()
	if err != nil {
		return err
	}
	defer srv.Stop()

	base := append(os.Environ(), "STRATA_PASSWORD=bench")
	bins := []string{c.strata}
	if c.baseline != "" {
		b, err := filepath.Abs(c.baseline)
		if err != nil {
			return err
		}
		bins = append(bins, b)
	}
	var variants []*variant
	for i, bin := range bins {
		v := &variant{strata: bin}
		if i == 1 {
			v.name = "baseline"
		}
		if v.proxy, err = startProxy(srv.Endpoint); err != nil {
			return err
		}
		defer v.proxy.Close()
		repo := fmt.Sprintf("repo%d", i)
		bucket := "http://" + v.proxy.Addr() + "/bench/" + repo
		v.targets = [2]target{
			{"local", slices.Concat(base, []string{"STRATA_REPOSITORY=" + filepath.Join(c.dir, repo)})},
			{"S3", slices.Concat(base, []string{"STRATA_REPOSITORY=s3:" + bucket}, srv.Env())},
		}
		variants = append(variants, v)
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("benchs3 %s, %d CPUs, -customers %d -hours %d -rate %g, load average at start: %s\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), c.customers, c.hours, c.rate,
		strings.Join(strings.Fields(string(load))[:3], " "))
	for _, v := range variants {
		version, err := output(v.targets[0].env, v.strata, "version")
		if err != nil {
			return err
		}
		fmt.Printf("  %-8s %s: %s\n", v.name, v.strata, strings.TrimSpace(string(version)))
	}
	fmt.Printf("  MinIO on loopback (%s), requests counted by a proxy in front of it\n", srv.Endpoint)

	ctx := context.Background()
	dbPath := filepath.Join(c.dir, "app.db")
	db, err := customerdb.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := customerdb.Build(ctx, db, customerdb.Options{Customers: c.customers}); err != nil {
		return err
	}
	for _, v := range variants {
		for _, t := range v.targets {
			if _, err := output(t.env, v.strata, "init"); err != nil {
				return fmt.Errorf("init %s: %w", t.name, err)
			}
		}
	}

	fmt.Printf("\n%-8s %4s %9s %9s %9s %7s %6s %5s %5s %5s %5s %6s\n",
		"", "hour", "export MB", "local s", "S3 s", "loc/S3", "req", "PUT", "GET", "HEAD", "LIST", "DELETE")
	for h := 0; h <= c.hours; h++ {
		if h > 0 {
			if _, err := customerdb.Churn(ctx, db, h, c.rate); err != nil {
				return err
			}
		}
		// Every backup of the hour in turn, the order rotating each
		// hour, so none always finds the database in the page cache or
		// the machine less busy.
		type run struct{ v, t int }
		var runs []run
		for vi := range variants {
			for ti := range 2 {
				runs = append(runs, run{vi, ti})
			}
		}
		k := h % len(runs)
		runs = append(runs[k:], runs[:k]...)
		rs := make([]hour, len(variants))
		for _, x := range runs {
			v := variants[x.v]
			before := v.proxy.counts()
			secs, read, err := backup(v.strata, v.targets[x.t].env, dbPath, h)
			if err != nil {
				return fmt.Errorf("hour %d, backup to %s: %w", h, v.targets[x.t].name, err)
			}
			rs[x.v].n, rs[x.v].secs[x.t], rs[x.v].exportBytes = h, secs, read
			if x.t == 1 {
				rs[x.v].requests = v.proxy.counts().minus(before)
			}
		}
		for vi, v := range variants {
			r := rs[vi]
			v.hours = append(v.hours, r)
			q := r.requests
			fmt.Printf("%-8s %4d %9.1f %9.2f %9.2f %7.2f %6d %5d %5d %5d %5d %6d\n", v.name, h, float64(r.exportBytes)/1e6, r.secs[0], r.secs[1],
				r.secs[0]/r.secs[1], q.total(), q.method["PUT"], q.method["GET"], q.method["HEAD"], q.method["LIST"], q.method["DELETE"])
		}
	}

	want, err := customerdb.CountRows(db)
	if err != nil {
		return err
	}
	for vi, v := range variants {
		for i, t := range v.targets {
			newDB := filepath.Join(c.dir, fmt.Sprintf("restored-%d-%d.db", vi, i))
			before := v.proxy.counts()
			start := time.Now()
			if _, err := output(t.env, v.strata, "restore", "latest", "--db", "sqlite://"+newDB); err != nil {
				return fmt.Errorf("restore from %s: %w", t.name, err)
			}
			v.restore[i] = time.Since(start).Seconds()
			if i == 1 {
				v.restReq = v.proxy.counts().minus(before)
			}
			if err := sameRows(newDB, want); err != nil {
				return fmt.Errorf("restore from %s: %w", t.name, err)
			}
		}
	}
	for _, v := range variants {
		report(v)
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("\nload average at the end: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	return nil
}

// backup runs one hourly backup and returns its seconds and the bytes of
// COPY text it read.
func backup(strata string, env []string, dbPath string, h int) (float64, int64, error) {
	start := time.Now()
	out, err := output(env, strata, "-q", "backup", "--db", "sqlite://"+dbPath, "--tier", "hourly",
		"--time", customerdb.HourTime(h).Format(customerdb.TimeLayout), "--json")
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, 0, err
	}
	var res struct {
		Summary struct {
			BytesRead int64 `json:"bytes_read"`
		} `json:"summary"`
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &res); err != nil {
		return 0, 0, fmt.Errorf("reading the output of strata backup --json: %w: %q", err, out)
	}
	return secs, res.Summary.BytesRead, nil
}

// output runs a command and returns its stdout; its stderr goes into the
// error when it fails.
func output(env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// sameRows checks that the restored database holds as many rows in each
// table as the source.
func sameRows(path string, want map[string]int64) error {
	db, err := customerdb.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	got, err := customerdb.CountRows(db)
	if err != nil {
		return err
	}
	for t, n := range want {
		if got[t] != n {
			return fmt.Errorf("table %s has %d rows, the source %d", t, got[t], n)
		}
	}
	return nil
}
