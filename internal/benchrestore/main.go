// Command benchrestore is the restore benchmark of `make bench-restore`:
// on the PostgreSQL and MariaDB servers the tests use it builds a
// database of customers, orders and order lines (2,000,000 rows on
// PostgreSQL, 1,000,000 on MariaDB by default; data.go), then in the same
// run backs it up and restores it into an empty database with strata
// (`strata backup --db`, `strata restore --db`, with --jobs when the
// restore has it) and with the engine's dump tool (`pg_dump -Fc` and
// `pg_restore -j 2`; `mysqldump --single-transaction` and `mysql`). It
// checks that both restored databases hold every row, prints the times
// and the ratios against the targets: strata's backup plus
// restore at most 0.8 times the dump tool's, and strata's restore alone
// no slower than the dump tool's restore.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type config struct {
	strata             string
	pgServer, myServer string
	pgRows, myRows     int
	jobs               int
	engines            string
	dir                string
}

func main() {
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
	flag.StringVar(&c.pgServer, "postgres", "postgres://postgres@127.0.0.1:5432", "PostgreSQL server (password: PGPASSWORD)")
	flag.StringVar(&c.myServer, "mariadb", "mysql://root@127.0.0.1:3306", "MariaDB server (password: MYSQL_PWD)")
	flag.IntVar(&c.pgRows, "postgres-rows", 2000000, "rows of the PostgreSQL database")
	flag.IntVar(&c.myRows, "mariadb-rows", 1000000, "rows of the MariaDB database")
	flag.IntVar(&c.jobs, "jobs", 2, "parallel jobs of pg_restore -j, and of strata's restore when it has --jobs")
	flag.StringVar(&c.engines, "engines", "postgres,mariadb", "engines to measure")
	flag.StringVar(&c.dir, "dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.Parse()
	if err := runBench(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchrestore:", err)
		os.Exit(1)
	}
}

func runBench(c config) error {
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		return err
	}
	for _, tool := range []string{"psql", "pg_dump", "pg_restore", "mysql", "mysqldump"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (%w): install postgresql-client and mariadb-client", tool, err)
		}
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "strata-benchrestore-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	var help bytes.Buffer
	if _, err := command(nil, "", &help, c.strata, "restore", "--help"); err != nil {
		return err
	}
	restoreJobs := strings.Contains(help.String(), "--jobs")
	var load bytes.Buffer
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load.Write(bytes.TrimSpace(b))
	}
	fmt.Printf("bench-restore %s, %d CPUs, load average %s; strata restore --jobs: %v\n",
		time.Now().Format(time.DateTime), runtime.NumCPU(), load.String(), restoreJobs)

	var results []result
	for _, e := range strings.Split(c.engines, ",") {
		var (
			r   result
			err error
		)
		switch e {
		case "postgres":
			r, err = benchPostgres(c, restoreJobs)
		case "mariadb":
			r, err = benchMariaDB(c, restoreJobs)
		default:
			err = fmt.Errorf("unknown engine %q (postgres, mariadb)", e)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
		results = append(results, r)
	}
	report(results)
	return nil
}
