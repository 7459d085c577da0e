package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"strata/dbexport"
)

// tool is pg_dump or pg_restore, found and asked its version.
type tool struct {
	path    string
	version string // the first line of --version: "pg_dump (PostgreSQL) 15.20 (Debian ...)"
	major   int
}

// findTool looks name up (opts.PgDump or opts.PgRestore when set, else
// on PATH, past Debian's wrapper) and reads its version.
func findTool(ctx context.Context, name, override string) (*tool, error) {
	path := override
	if path == "" {
		var err error
		if path, err = exec.LookPath(name); err != nil {
			return nil, fmt.Errorf("%s is not installed (not on PATH)", name)
		}
		path = pastWrapper(path, name, debianBinRoot)
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", path, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	t := &tool{path: path, version: line}
	// "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", "pg_dump (PostgreSQL) 17devel"
	if i := strings.Index(line, ") "); i >= 0 {
		t.major = serverMajor(line[i+2:])
	}
	if t.major == 0 {
		return nil, fmt.Errorf("%s --version printed %q, which names no PostgreSQL version", path, line)
	}
	return t, nil
}

// toolLookup is findTool run in the background: its --version costs a
// process start (0.1 to 0.3 s on a loaded machine), which a restore
// spends meanwhile deriving its key and reading its snapshot.
type toolLookup struct {
	done chan struct{} // closed once tool and err are set
	stop context.CancelFunc
	tool *tool
	err  error
}

func lookUpTool(ctx context.Context, name, override string) *toolLookup {
	// Not canceled with ctx: a caller may end ctx once the Target is
	// open, and the look-up would then fail as if the tool were missing.
	// close ends it.
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &toolLookup{done: make(chan struct{}), stop: stop}
	go func() {
		defer close(l.done)
		l.tool, l.err = findTool(ctx, name, override)
	}()
	return l
}

// wait returns what findTool returned.
func (l *toolLookup) wait(ctx context.Context) (*tool, error) {
	select {
	case <-l.done:
		return l.tool, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close ends the look-up, if it still runs, and waits for it.
func (l *toolLookup) close() {
	l.stop()
	<-l.done
}

// debianBinRoot holds a folder per installed PostgreSQL version on Debian
// and Ubuntu (postgresql-common's $PgCommon::binroot).
const debianBinRoot = "/usr/lib/postgresql"

// pastWrapper returns the newest binRoot/VERSION/bin/name when path is
// postgresql-common's pg_wrapper (Debian and Ubuntu link pg_dump and
// pg_restore on PATH to it), and path otherwise. The wrapper is a Perl
// script that costs 0.1 to 0.4 s per start, several per backup and
// restore; without a cluster that says otherwise it runs the newest
// version too, and the newest reads every older archive and dumps every
// older server. Its one setting that matters to a client,
// PGSYSCONFDIR, is set by run.
func pastWrapper(path, name, binRoot string) string {
	real, err := filepath.EvalSymlinks(path)
	if err != nil || filepath.Base(real) != "pg_wrapper" {
		return path
	}
	versions, err := os.ReadDir(binRoot)
	if err != nil {
		return path
	}
	best, bestMajor := "", 0.0
	for _, v := range versions {
		major, err := strconv.ParseFloat(v.Name(), 64) // "15", "9.6"
		candidate := filepath.Join(binRoot, v.Name(), "bin", name)
		if err != nil || major <= bestMajor {
			continue
		}
		if fi, err := os.Stat(candidate); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			best, bestMajor = candidate, major
		}
	}
	if best == "" {
		return path
	}
	return best
}

// maxToolStderr bounds what a tool's error message may hold.
const maxToolStderr = 64 << 10

// run runs the tool with args against the database d (nil: none), its
// standard output to stdout. The connection goes in -d as a conninfo
// string without the password; a password that strata knows (the DSN's,
// or the password file's) goes in PGPASSWORD in the child's environment
// only, never in its arguments, and otherwise libpq finds PGPASSWORD or
// ~/.pgpass as strata's own connections do.
func (t *tool) run(ctx context.Context, d *dbexport.DSN, opts Options, stdout io.Writer, args ...string) error {
	env := os.Environ()
	if d != nil {
		_, password, err := connConfig(*d, opts)
		if err != nil {
			return err
		}
		info, _ := conninfo(*d)
		args = append(args, "--no-password", "--dbname="+info)
		if password != "" {
			env = append(withoutEnv(env, "PGPASSWORD"), "PGPASSWORD="+password)
		}
	}
	if os.Getenv("PGSYSCONFDIR") == "" && strings.HasPrefix(t.path, debianBinRoot+"/") {
		// As pg_wrapper sets it: where pg_service.conf is.
		env = append(env, "PGSYSCONFDIR=/etc/postgresql-common")
	}
	cmd := exec.CommandContext(ctx, t.path, args...)
	cmd.Env = env
	cmd.Stdout = stdout
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && msg != "" {
			return fmt.Errorf("%s failed: %s", t.path, msg)
		}
		return fmt.Errorf("%s: %w", t.path, err)
	}
	return nil
}

// withoutEnv removes the variable name from env.
func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// limitedBuffer keeps the first maxToolStderr bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxToolStderr - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
