package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"strata/internal/benchrepo"
)

// server is one database server, reached by its DSN without a database
// ("postgres://user@host:port").
type server struct {
	dsn  string
	url  *url.URL
	env  []string // the child processes' environment
	repo string   // strata's repository for this engine
}

func newServer(c config, dsn, engine string) (*server, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server %q: want scheme://user@host:port", dsn)
	}
	repo := filepath.Join(c.dir, "repo-"+engine)
	env := append(os.Environ(), "STRATA_REPOSITORY="+repo, "STRATA_PASSWORD=bench")
	return &server{dsn: strings.TrimSuffix(dsn, "/"), url: u, env: env, repo: repo}, nil
}

// db is the DSN of database name on the server.
func (s *server) db(name string) string { return s.dsn + "/" + name }

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// psql runs SQL statements in database name with psql.
func (s *server) psql(name string, stmts ...string) (string, error) {
	args := []string{"-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", s.pgURI(name)}
	for _, st := range stmts {
		args = append(args, "-c", st)
	}
	var out bytes.Buffer
	_, err := command(s.env, "", &out, "psql", args...)
	return strings.TrimSpace(out.String()), err
}

// pgURI is the libpq URI of database name.
func (s *server) pgURI(name string) string {
	u := *s.url
	u.Scheme, u.Path = "postgresql", "/"+name
	return u.String()
}

// mysqlArgs are the mysql client's connection options.
func (s *server) mysqlArgs() []string {
	args := []string{"-h", s.url.Hostname(), "-P", s.url.Port()}
	if s.url.User != nil {
		args = append(args, "-u", s.url.User.Username())
	}
	return args
}

// mysql runs SQL statements in database name (none: "") with mysql.
func (s *server) mysql(name string, stmts ...string) (string, error) {
	args := append(s.mysqlArgs(), "-N", "-B")
	if name != "" {
		args = append(args, name)
	}
	args = append(args, "-e", strings.Join(stmts, ";\n"))
	var out bytes.Buffer
	_, err := command(s.env, "", &out, "mysql", args...)
	return strings.TrimSpace(out.String()), err
}

// countPostgres sums the rows of the benchmark's tables in database name.
func countPostgres(s *server, name string) (int64, error) {
	out, err := s.psql(name, "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_lines)")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(out, 10, 64)
}

func countMariaDB(s *server, name string) (int64, error) {
	out, err := s.mysql(name, "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_lines)")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(out, 10, 64)
}

func benchPostgres(c config, restoreJobs bool) (result, error) {
	r := result{engine: "postgres", dumpTool: fmt.Sprintf("pg_dump -Fc, pg_restore -j %d", c.jobs)}
	s, err := newServer(c, c.pgServer, "postgres")
	if err != nil {
		return r, err
	}
	src, viaStrata, viaDump := uniqueName("strata_bench_src_"), uniqueName("strata_bench_strata_"), uniqueName("strata_bench_dump_")
	for _, name := range []string{src, viaStrata, viaDump} {
		if _, err := s.psql("postgres", "CREATE DATABASE "+name); err != nil {
			return r, err
		}
		defer func() {
			if _, err := s.psql("postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				fmt.Fprintln(os.Stderr, "benchrestore: dropping", name+":", err)
			}
		}()
	}
	if r.build, err = timed(func() error { _, err := s.psql(src, postgresData(c.pgRows)...); return err }); err != nil {
		return r, err
	}
	if r.rows, err = countPostgres(s, src); err != nil {
		return r, err
	}
	fmt.Printf("postgres: %d rows in %s (built in %.1fs)\n", r.rows, src, r.build)
	dump := filepath.Join(c.dir, "pg.dump")
	restoreArgs := []string{"-q", "restore", "latest", "--db", s.db(viaStrata)}
	if restoreJobs {
		restoreArgs = append(restoreArgs, "--jobs", strconv.Itoa(c.jobs))
	}
	backupArgs := []string{"-q", "backup", "--db", s.db(src), "--jobs", strconv.Itoa(c.jobs)}
	r.strataCmd = "strata " + strings.Join(backupArgs[1:], " ") + "; strata " + strings.Join(restoreArgs[1:], " ")
	steps := []step{
		{"strata init", &r.build, func() (run, error) { return command(s.env, "", nil, c.strata, "init") }, false},
		{"strata backup", &r.strataBackup, func() (run, error) { return command(s.env, "", nil, c.strata, backupArgs...) }, true},
		{"pg_dump -Fc", &r.dump, func() (run, error) {
			return command(s.env, "", nil, "pg_dump", "-Fc", "-f", dump, "-d", s.pgURI(src))
		}, true},
		{"strata restore", &r.strataRestore, func() (run, error) { return command(s.env, "", nil, c.strata, restoreArgs...) }, true},
		{"pg_restore", &r.dumpRestore, func() (run, error) {
			return command(s.env, "", nil, "pg_restore", "-j", strconv.Itoa(c.jobs), "-d", s.pgURI(viaDump), dump)
		}, true},
	}
	if err := runSteps("postgres", steps); err != nil {
		return r, err
	}
	for _, name := range []string{viaStrata, viaDump} {
		n, err := countPostgres(s, name)
		if err != nil {
			return r, err
		}
		if n != r.rows {
			return r, fmt.Errorf("%s holds %d rows after the restore, the source %d", name, n, r.rows)
		}
	}
	return r, sizes(&r, s.repo, dump)
}

func benchMariaDB(c config, restoreJobs bool) (result, error) {
	r := result{engine: "mariadb", dumpTool: "mysqldump --single-transaction, mysql"}
	s, err := newServer(c, c.myServer, "mariadb")
	if err != nil {
		return r, err
	}
	src, viaStrata, viaDump := uniqueName("strata_bench_src_"), uniqueName("strata_bench_strata_"), uniqueName("strata_bench_dump_")
	for _, name := range []string{src, viaStrata, viaDump} {
		if _, err := s.mysql("", "CREATE DATABASE "+name); err != nil {
			return r, err
		}
		defer func() {
			if _, err := s.mysql("", "DROP DATABASE IF EXISTS "+name); err != nil {
				fmt.Fprintln(os.Stderr, "benchrestore: dropping", name+":", err)
			}
		}()
	}
	if r.build, err = timed(func() error { _, err := s.mysql(src, mariadbData(c.myRows)...); return err }); err != nil {
		return r, err
	}
	if r.rows, err = countMariaDB(s, src); err != nil {
		return r, err
	}
	fmt.Printf("mariadb: %d rows in %s (built in %.1fs)\n", r.rows, src, r.build)
	dump := filepath.Join(c.dir, "mariadb.sql")
	restoreArgs := []string{"-q", "restore", "latest", "--db", s.db(viaStrata)}
	if restoreJobs {
		restoreArgs = append(restoreArgs, "--jobs", strconv.Itoa(c.jobs))
	}
	backupArgs := []string{"-q", "backup", "--db", s.db(src)}
	r.strataCmd = "strata " + strings.Join(backupArgs[1:], " ") + "; strata " + strings.Join(restoreArgs[1:], " ")
	steps := []step{
		{"strata init", &r.build, func() (run, error) { return command(s.env, "", nil, c.strata, "init") }, false},
		{"strata backup", &r.strataBackup, func() (run, error) { return command(s.env, "", nil, c.strata, backupArgs...) }, true},
		{"mysqldump", &r.dump, func() (run, error) {
			f, err := os.OpenFile(dump, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return run{}, err
			}
			defer f.Close()
			rn, err := command(s.env, "", f, "mysqldump", append(s.mysqlArgs(), "--single-transaction", src)...)
			if err != nil {
				return rn, err
			}
			return rn, f.Close()
		}, true},
		{"strata restore", &r.strataRestore, func() (run, error) { return command(s.env, "", nil, c.strata, restoreArgs...) }, true},
		{"mysql", &r.dumpRestore, func() (run, error) {
			return command(s.env, dump, nil, "mysql", append(s.mysqlArgs(), viaDump)...)
		}, true},
	}
	if err := runSteps("mariadb", steps); err != nil {
		return r, err
	}
	for _, name := range []string{viaStrata, viaDump} {
		n, err := countMariaDB(s, name)
		if err != nil {
			return r, err
		}
		if n != r.rows {
			return r, fmt.Errorf("%s holds %d rows after the restore, the source %d", name, n, r.rows)
		}
	}
	return r, sizes(&r, s.repo, dump)
}

// step is one timed command of a run.
type step struct {
	name  string
	secs  *float64
	run   func() (run, error)
	timed bool
}

// runSteps runs the steps in order, printing each one's time.
func runSteps(engine string, steps []step) error {
	for _, st := range steps {
		r, err := st.run()
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		if st.timed {
			*st.secs = r.Seconds
			fmt.Printf("%s: %-15s %7.2fs (the client's CPU %6.2fs, peak RSS %4.0f MiB)\n", engine, st.name, r.Seconds, r.CPU, float64(r.RSSKiB)/1024)
		}
	}
	return nil
}

func sizes(r *result, repo, dump string) error {
	var err error
	if r.repoBytes, err = benchrepo.Size(repo); err != nil {
		return err
	}
	fi, err := os.Stat(dump)
	if err != nil {
		return err
	}
	r.dumpBytes = fi.Size()
	return nil
}
