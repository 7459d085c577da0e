// Command benchhistory is the row-history benchmark of `make
// bench-history`: it builds the SQLite customer database of the demo and
// of bench-db (internal/customerdb), backs it up hourly for 720 hours
// (30 days) with that workload's churn between backups, in-process
// through dbexport.Backup with the previous snapshot as parent (as
// `strata backup --db` stores them: changed chunks as delta blobs, a
// snapshot time per hour), and then times the real binary's `strata
// history` of single rows across all 720 snapshots: the customer updated
// most often (the worst case: its chunk changes nearly every hour), one
// never changed, a service inserted and later deleted, and a key no
// snapshot holds. Each history is checked against the churn's own record
// of that row (one update version per hour it was updated), and any
// difference fails the run. Beside it, `strata snapshots --json` is the
// baseline: a process that opens the repository (its key derivation
// included), loads the index and lists the snapshots.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/internal/benchrepo"
	"strata/internal/customerdb"
	"strata/repo"
	"strata/repo/backend/local"
)

func main() {
	bin := flag.String("strata", "bin/strata", "strata binary")
	customers := flag.Int("customers", 5000, "customers in the database (three services each)")
	hours := flag.Int("hours", 720, "hourly snapshots")
	rate := flag.Float64("rate", 0.002, "share of rows changed per hour")
	keep := flag.String("keep", "", "build in this folder and keep it, or reuse it when an earlier run kept it (default: a temporary folder, removed)")
	runs := flag.Int("runs", 3, "timed runs of each history (the median is reported)")
	flag.Parse()
	if err := run(*bin, *customers, *hours, *rate, *keep, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-history failed:", err)
		os.Exit(1)
	}
}

// rowLog is what the churn did to one row: the hours it was inserted,
// updated and deleted.
type rowLog struct {
	Inserted, Deleted []int
	Updated           []int
}

// kept is what a run with -keep writes beside the repository
// (churn.json), so a later run reuses the repository: building 720
// hours takes over ten minutes.
type kept struct {
	Customers, Hours int
	Logs             map[string]map[int64]*rowLog
}

func run(bin string, customers, hours int, rate float64, keep string, runs int) error {
	ctx := context.Background()
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir := keep
	if keep == "" {
		if dir, err = os.MkdirTemp("", "strata-bench-history-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if b, err := os.ReadFile(filepath.Join(keep, "churn.json")); err == nil {
		var k kept
		if err := json.Unmarshal(b, &k); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(keep, "churn.json"), err)
		}
		fmt.Printf("reusing the %d hourly snapshots of %d customers kept in %s\n", k.Hours, k.Customers, keep)
		env := append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"), "STRATA_PASSWORD_FILE="+filepath.Join(dir, "password"))
		return measure(env, bin, k.Hours, runs, pickRows(k.Logs, int64(k.Customers)))
	} else if err := os.Mkdir(keep, 0o700); err != nil {
		return err
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("bench password\n"), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"), "STRATA_PASSWORD_FILE="+pw)
	if _, _, err := timed(env, bin, "init"); err != nil {
		return err
	}
	app := filepath.Join(dir, "app.db")
	db, err := customerdb.Open(app)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := customerdb.Build(ctx, db, customerdb.Options{Customers: customers}); err != nil {
		return err
	}
	counts, err := customerdb.CountRows(db)
	if err != nil {
		return err
	}
	fi, err := os.Stat(app)
	if err != nil {
		return err
	}
	fmt.Printf("customer database %s: %.1f MB, %d customers, %d services\n", app, float64(fi.Size())/1e6, counts["customers"], counts["customer_services"])

	logs := map[string]map[int64]*rowLog{"customers": {}, "customer_services": {}}
	began := time.Now()
	if err := backups(ctx, dir, app, hours, rate, logs, db); err != nil {
		return err
	}
	build := time.Since(began)
	size, err := benchrepo.Size(filepath.Join(dir, "repo"))
	if err != nil {
		return err
	}
	fmt.Printf("%d hourly snapshots backed up in-process in %.0f s; repository %.1f MB\n", hours, build.Seconds(), float64(size)/1e6)
	if keep != "" {
		b, err := json.Marshal(kept{Customers: customers, Hours: hours, Logs: logs})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "churn.json"), b, 0o600); err != nil {
			return err
		}
	}
	return measure(env, bin, hours, runs, pickRows(logs, int64(customers)))
}

// measure times the histories of cases (and the baseline) with the
// binary bin on the repository of env.
func measure(env []string, bin string, hours, runs int, cases []historyCase) error {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nmachine: %d CPUs, load average %s\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	base, err := median(runs, func() (float64, string, error) {
		return timed(env, bin, "snapshots", "--json")
	})
	if err != nil {
		return err
	}
	fmt.Printf("baseline: strata snapshots --json (open, key derivation, index, %d snapshot files): %.2f s\n\n", hours, base)
	fmt.Printf("%-46s %7s %9s %7s %7s %10s  %s\n", "strata history", "seconds", "versions", "read", "skipped", "bytes", "target (2 s)")
	worst := 0.0
	for _, c := range cases {
		var stderr string
		secs, err := median(runs, func() (float64, string, error) {
			s, e, err := timed(env, bin, append([]string{"-v", "history"}, c.args...)...)
			stderr = e
			if c.absent && err != nil && strings.Contains(e, "no such row") {
				err = nil
			}
			return s, e, err
		})
		if err != nil {
			return err
		}
		versions := "-"
		if !c.absent {
			cmd := exec.Command(bin, append([]string{"history", "--json"}, c.args...)...)
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("history %s: %w", strings.Join(c.args, " "), err)
			}
			if err := c.check(out); err != nil {
				return fmt.Errorf("history %s: %w", strings.Join(c.args, " "), err)
			}
			versions = fmt.Sprint(bytes.Count(out, []byte{'\n'}))
		}
		read, skipped, bytesRead := "-", "-", "-"
		if m := verboseRead.FindStringSubmatch(stderr); m != nil {
			read, skipped, bytesRead = m[2], m[3], m[5]
		}
		met := "met"
		if secs > 2 {
			met = "NOT met"
		}
		worst = max(worst, secs)
		fmt.Printf("%-46s %7.2f %9s %7s %7s %10s  %s\n", strings.Join(c.args, " ")+" ("+c.what+")", secs, versions, read, skipped, bytesRead, met)
	}
	fmt.Printf("\nslowest history across %d snapshots: %.2f s (target: at most 2 s, %s)\n", hours, worst, map[bool]string{true: "met", false: "NOT met"}[worst <= 2])
	return nil
}

var verboseRead = regexp.MustCompile(`(\d+) snapshots in the window, (\d+) read, (\d+) skipped .*?; (\d+) chunks? read; .* \((\d+) bytes\)`)

// backups churns the database hour by hour and backs up each hour into
// dir/repo through dbexport.Backup, recording every row the churn
// touched in logs.
func backups(ctx context.Context, dir, app string, hours int, rate float64, logs map[string]map[int64]*rowLog, db *sql.DB) error {
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		return err
	}
	be, err := local.Open(filepath.Join(dir, "repo"))
	if err != nil {
		return err
	}
	r, err := repo.Open(ctx, be, strings.TrimRight(string(pw), "\n"), repo.Options{})
	if err != nil {
		return err
	}
	lock, err := r.Lock(ctx, false, "benchhistory build")
	if err != nil {
		return err
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	if err := r.LoadIndex(ctx); err != nil {
		return err
	}
	dsn, err := dbexport.ParseDSN("sqlite://" + app)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	var parent *repo.Snapshot
	start := time.Now()
	for h := range hours {
		if h > 0 {
			changes, err := customerdb.Churn(ctx, db, h, rate)
			if err != nil {
				return fmt.Errorf("hour %d: %w", h, err)
			}
			for _, c := range changes {
				m := logs[c.Table]
				if m == nil {
					continue
				}
				l := m[c.ID]
				if l == nil {
					l = &rowLog{}
					m[c.ID] = l
				}
				switch c.Op {
				case customerdb.Insert:
					l.Inserted = append(l.Inserted, h)
				case customerdb.Update:
					l.Updated = append(l.Updated, h)
				case customerdb.Delete:
					l.Deleted = append(l.Deleted, h)
				}
			}
		}
		src, err := sqlite.Open(ctx, dsn, sqlite.Options{})
		if err != nil {
			return err
		}
		sn, err := dbexport.Backup(ctx, r, src, dbexport.BackupOptions{
			Source: dsn.String(), Host: host, Tier: "hourly", Time: customerdb.HourTime(h),
			Parent: parent, Program: "strata benchhistory",
		})
		src.Close()
		if err != nil {
			return fmt.Errorf("hour %d: %w", h, err)
		}
		parent = sn
		if h%120 == 119 {
			fmt.Printf("  hour %d backed up, %.0f s\n", h, time.Since(start).Seconds())
		}
	}
	return nil
}

// historyCase is one timed history and how to check its output.
type historyCase struct {
	what   string
	args   []string
	absent bool
	want   []string // ops in order
}

// check compares the ops of `history --json` with the churn's record.
func (c historyCase) check(out []byte) error {
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var e struct{ Op string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return err
		}
		got = append(got, e.Op)
	}
	if strings.Join(got, ",") != strings.Join(c.want, ",") {
		return fmt.Errorf("versions %s, but the churn did %s", summary(got), summary(c.want))
	}
	return nil
}

func summary(ops []string) string {
	n := map[string]int{}
	for _, op := range ops {
		n[op]++
	}
	return fmt.Sprintf("%v (%d)", n, len(ops))
}

// pickRows chooses the rows to follow from the churn's record.
func pickRows(logs map[string]map[int64]*rowLog, customers int64) []historyCase {
	var cases []historyCase
	// The customer updated in most hours (present at hour 0).
	var busiest int64
	for id, l := range logs["customers"] {
		if len(l.Inserted) == 0 && (busiest == 0 || len(l.Updated) > len(logs["customers"][busiest].Updated) ||
			len(l.Updated) == len(logs["customers"][busiest].Updated) && id < busiest) {
			busiest = id
		}
	}
	if busiest != 0 {
		want := []string{"present"}
		for range logs["customers"][busiest].Updated {
			want = append(want, "update")
		}
		cases = append(cases, historyCase{what: fmt.Sprintf("updated in %d hours", len(want)-1),
			args: []string{"customers", "--key", fmt.Sprint(busiest)}, want: want})
	}
	// A customer of hour 0 the churn never touched.
	for id := int64(1); id <= customers; id++ {
		if logs["customers"][id] == nil {
			cases = append(cases, historyCase{what: "never changed", args: []string{"customers", "--key", fmt.Sprint(id)}, want: []string{"present"}})
			break
		}
	}
	// A service inserted and later deleted.
	var ids []int64
	for id, l := range logs["customer_services"] {
		if len(l.Inserted) == 1 && len(l.Deleted) == 1 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > 0 {
		l := logs["customer_services"][ids[0]]
		want := []string{"insert"}
		for range l.Updated {
			want = append(want, "update")
		}
		cases = append(cases, historyCase{what: "inserted, deleted",
			args: []string{"customer_services", "--key", fmt.Sprint(ids[0])}, want: append(want, "delete")})
	}
	cases = append(cases, historyCase{what: "no such key", args: []string{"customers", "--key", "999999999"}, absent: true})
	return cases
}

// timed runs strata and returns its wall seconds and stderr.
func timed(env []string, bin string, args ...string) (float64, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		return secs, stderr.String(), fmt.Errorf("strata %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return secs, stderr.String(), nil
}

// median runs f n times and returns the median seconds.
func median(n int, f func() (float64, string, error)) (float64, error) {
	var s []float64
	for range max(n, 1) {
		secs, _, err := f()
		if err != nil {
			return 0, err
		}
		s = append(s, secs)
	}
	sort.Float64s(s)
	return s[len(s)/2], nil
}
