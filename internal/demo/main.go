// Command demo shows strata's real job in a temporary folder: it creates
// the SQLite database of a customer-management application (customers,
// the services they buy, family accounts), backs it up, applies three
// simulated hours of business with a backup after each, and shows the
// snapshots, the repository's statistics, a restore drill, a restore into
// a new SQLite file compared with the source, one table dumped as CSV,
// what the last hour changed (strata diff: per table, then row by row),
// and the history of one customer across the snapshots.
// It needs nothing but Go. Run it with `make demo`.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"strata/internal/customerdb"
)

func main() {
	bin := flag.String("strata", "bin/strata", "strata binary")
	customers := flag.Int("customers", 20000, "customers in the database (three services each)")
	hours := flag.Int("hours", 3, "simulated hours of business")
	rate := flag.Float64("rate", 0.002, "share of rows changed per hour")
	keep := flag.String("keep", "", "run in this new folder and keep it (repository, databases), to measure it")
	flag.Parse()
	if err := run(os.Stdout, *bin, *customers, *hours, *rate, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

// demo is the temporary folder with its repository and databases.
type demo struct {
	bin string
	env []string
	dir string
	out io.Writer // the terminal, or a test's buffer
}

// strata prints the command line, then runs strata with its output on
// the terminal.
func (d *demo) strata(args ...string) error {
	fmt.Fprintf(d.out, "\n$ strata %s\n", strings.Join(args, " "))
	cmd := exec.Command(d.bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = d.env, d.out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strata %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// strataHead is `strata ARGS | head -n`: it prints the command line and
// the first n lines of the output.
func (d *demo) strataHead(n int, args ...string) error {
	fmt.Fprintf(d.out, "\n$ strata %s | head -%d\n", strings.Join(args, " "), n)
	cmd := exec.Command(d.bin, args...)
	var out bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = d.env, &out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strata %s: %w", strings.Join(args, " "), err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for i := 0; i < n && sc.Scan(); i++ {
		fmt.Fprintln(d.out, sc.Text())
	}
	return sc.Err()
}

func run(w io.Writer, bin string, customers, hours int, rate float64, keep string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir := keep
	if keep == "" {
		if dir, err = os.MkdirTemp("", "strata-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.Mkdir(keep, 0o700); err != nil {
		return err
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("demo password\n"), 0o600); err != nil {
		return err
	}
	d := &demo{bin: bin, dir: dir, out: w, env: append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"), "STRATA_PASSWORD_FILE="+pw)}
	ctx := context.Background()

	app := filepath.Join(dir, "app.db")
	dsn := "sqlite://" + app
	fmt.Fprintf(w, "# creating the customer database of a Laravel-style application: %s\n", app)
	db, err := customerdb.Open(app)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := customerdb.Build(ctx, db, customerdb.Options{Customers: customers}); err != nil {
		return err
	}
	counts, err := customerdb.CountRows(db)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# %s, built in %.1fs\n", formatCounts(counts), time.Since(start).Seconds())
	fmt.Fprintf(w, "# (--time stamps each backup with its simulated hour)\n")

	backup := func(h int) error {
		return d.strata("backup", "--db", dsn, "--tier", "hourly", "--time", customerdb.HourTime(h).Format(customerdb.TimeLayout))
	}
	if err := d.strata("init"); err != nil {
		return err
	}
	if err := backup(0); err != nil {
		return err
	}
	var followed int64 // a customer the first hour updates, for history
	for h := 1; h <= hours; h++ {
		changes, err := customerdb.Churn(ctx, db, h, rate)
		if err != nil {
			return err
		}
		for _, c := range changes {
			if followed == 0 && c.Table == "customers" && c.Op == customerdb.Update {
				followed = c.ID
			}
		}
		fmt.Fprintf(w, "\n# hour %d of business: %s\n", h, describe(changes))
		if err := backup(h); err != nil {
			return err
		}
	}
	if err := d.strata("snapshots"); err != nil {
		return err
	}
	if err := d.strata("stats"); err != nil {
		return err
	}
	if err := d.strata("check", "--read-data"); err != nil {
		return err
	}
	if err := d.strata("verify", "drill", "latest"); err != nil {
		return err
	}
	inspect := filepath.Join(dir, "inspect.db")
	if err := d.strata("restore", "latest", "--db", "sqlite://"+inspect); err != nil {
		return err
	}
	if err := compare(w, db, inspect); err != nil {
		return err
	}
	if err := d.strataHead(5, "dump", "latest", "customers", "--format", "csv"); err != nil {
		return err
	}
	last, prev := customerdb.HourTime(hours), customerdb.HourTime(hours-1)
	fmt.Fprintf(w, "\n# what the last hour of business changed, from the snapshot of %s to that of %s\n",
		prev.Format("15:04"), last.Format("15:04"))
	if err := d.strata("diff", "latest~1", "latest"); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n# and row by row: each changed column as old -> new\n")
	if err := d.strataHead(14, "diff", "latest~1", "latest", "--format", "text", "--tables", "customers"); err != nil {
		return err
	}
	if followed == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n# every version of customer %d, updated in hour 1, across the snapshots\n", followed)
	return d.strata("history", "customers", "--key", fmt.Sprint(followed))
}

// describe sums up one hour of churn per table and operation.
func describe(changes []customerdb.Change) string {
	type key struct {
		table string
		op    customerdb.Op
	}
	n := map[key]int{}
	for _, c := range changes {
		n[key{c.Table, c.Op}]++
	}
	past := map[customerdb.Op]string{customerdb.Insert: "inserted", customerdb.Update: "updated", customerdb.Delete: "deleted"}
	var parts []string
	for _, t := range customerdb.Tables() {
		var ops []string
		for _, op := range []customerdb.Op{customerdb.Insert, customerdb.Update, customerdb.Delete} {
			if k := n[key{t, op}]; k > 0 {
				ops = append(ops, fmt.Sprintf("%d %s", k, past[op]))
			}
		}
		if len(ops) > 0 {
			parts = append(parts, t+" "+strings.Join(ops, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// compare prints the row counts of the source and the restored database
// side by side, and fails when they differ.
func compare(w io.Writer, src *sql.DB, restored string) error {
	rdb, err := sql.Open("sqlite", "file:"+restored+"?mode=ro")
	if err != nil {
		return err
	}
	defer rdb.Close()
	want, err := customerdb.CountRows(src)
	if err != nil {
		return err
	}
	got, err := customerdb.CountRows(rdb)
	if err != nil {
		return fmt.Errorf("restored %s: %w", restored, err)
	}
	fmt.Fprintf(w, "\n# rows in the source and in %s\n", filepath.Base(restored))
	fmt.Fprintf(w, "%-20s %10s %10s\n", "table", "source", "restored")
	var bad []string
	for _, t := range customerdb.Tables() {
		mark := ""
		if got[t] != want[t] {
			mark = "  DIFFERENT"
			bad = append(bad, t)
		}
		fmt.Fprintf(w, "%-20s %10d %10d%s\n", t, want[t], got[t], mark)
	}
	if len(bad) > 0 {
		return fmt.Errorf("the restore of the latest snapshot differs from the source in %s", strings.Join(bad, ", "))
	}
	return nil
}

func formatCounts(counts map[string]int64) string {
	var parts []string
	for _, t := range customerdb.Tables() {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t], t))
	}
	return strings.Join(parts, ", ")
}
