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
// ways.
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
	strata           string
	customers, hours int
	rate             float64
	dir              string
}

func main() {
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
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
	proxy, err := startProxy(srv.Endpoint)
	if err != nil {
		return err
	}
	defer proxy.Close()

	base := append(os.Environ(), "STRATA_PASSWORD=bench")
	local := target{"local", slices.Concat(base, []string{"STRATA_REPOSITORY=" + filepath.Join(c.dir, "repo")})}
	bucket := "http://" + proxy.Addr() + "/bench/repo"
	s3 := target{"S3", slices.Concat(base, []string{"STRATA_REPOSITORY=s3:" + bucket}, srv.Env())}
	targets := [2]target{local, s3}

	version, err := output(local.env, c.strata, "version")
	if err != nil {
		return err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("benchs3 %s, %d CPUs, -customers %d -hours %d -rate %g\n  %s  load average at start: %s\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), c.customers, c.hours, c.rate,
		strings.TrimSpace(string(version)), strings.Join(strings.Fields(string(load))[:3], " "))
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
	for _, t := range targets {
		if _, err := output(t.env, c.strata, "init"); err != nil {
			return fmt.Errorf("init %s: %w", t.name, err)
		}
	}

	fmt.Printf("\n%4s %9s %9s %9s %7s %6s %5s %5s %5s %5s %6s\n",
		"hour", "export MB", "local s", "S3 s", "S3/loc", "req", "PUT", "GET", "HEAD", "LIST", "DELETE")
	var hours []hour
	for h := 0; h <= c.hours; h++ {
		if h > 0 {
			if _, err := customerdb.Churn(ctx, db, h, c.rate); err != nil {
				return err
			}
		}
		r := hour{n: h}
		// Alternate which goes first, so neither always finds the
		// database in the page cache.
		order := []int{0, 1}
		if h%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			before := proxy.counts()
			secs, read, err := backup(c.strata, targets[i].env, dbPath, h)
			if err != nil {
				return fmt.Errorf("hour %d, backup to %s: %w", h, targets[i].name, err)
			}
			r.secs[i], r.exportBytes = secs, read
			if i == 1 {
				r.requests = proxy.counts().minus(before)
			}
		}
		hours = append(hours, r)
		q := r.requests
		fmt.Printf("%4d %9.1f %9.2f %9.2f %7.2f %6d %5d %5d %5d %5d %6d\n", h, float64(r.exportBytes)/1e6, r.secs[0], r.secs[1],
			r.secs[0]/r.secs[1], q.total(), q.method["PUT"], q.method["GET"], q.method["HEAD"], q.method["LIST"], q.method["DELETE"])
	}

	want, err := customerdb.CountRows(db)
	if err != nil {
		return err
	}
	var restoreSecs [2]float64
	var restoreReq counts
	for i, t := range targets {
		newDB := filepath.Join(c.dir, fmt.Sprintf("restored-%d.db", i))
		before := proxy.counts()
		start := time.Now()
		if _, err := output(t.env, c.strata, "restore", "latest", "--db", "sqlite://"+newDB); err != nil {
			return fmt.Errorf("restore from %s: %w", t.name, err)
		}
		restoreSecs[i] = time.Since(start).Seconds()
		if i == 1 {
			restoreReq = proxy.counts().minus(before)
		}
		if err := sameRows(newDB, want); err != nil {
			return fmt.Errorf("restore from %s: %w", t.name, err)
		}
	}
	return report(hours, restoreSecs, restoreReq, hours[len(hours)-1].exportBytes)
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
