package postgres

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
)

// The password of a DSN reaches pg_dump and pg_restore in PGPASSWORD in
// their environment, never in their arguments (which ps shows anyone).
func TestToolPasswordNotInArguments(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "pg_dump")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 99.1'; exit 0; fi\n" +
		"echo \"args: $*\"\necho \"env: $PGPASSWORD\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	tool, err := findTool(context.Background(), "pg_dump", fake)
	if err != nil {
		t.Fatal(err)
	}
	if tool.major != 99 {
		t.Errorf("major %d, want 99", tool.major)
	}
	d, err := dbexport.ParseDSN("postgres://app:s3cr%3Bet@db.example:5433/shop?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tool.run(context.Background(), &d, Options{}, &out, "--schema-only"); err != nil {
		t.Fatal(err)
	}
	args, env, _ := strings.Cut(out.String(), "env: ")
	if strings.Contains(args, "s3cr") {
		t.Errorf("the password is in the arguments: %s", args)
	}
	for _, want := range []string{"--schema-only", "--no-password", "host='db.example'", "port='5433'", "dbname='shop'", "user='app'", "sslmode='require'"} {
		if !strings.Contains(args, want) {
			t.Errorf("arguments lack %s: %s", want, args)
		}
	}
	if strings.TrimSpace(env) != "s3cr;et" {
		t.Errorf("PGPASSWORD in the child: %q", env)
	}

	// A password file's password travels the same way.
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Password = ""
	out.Reset()
	if err := tool.run(context.Background(), &d, Options{PasswordFile: pw}, &out); err != nil {
		t.Fatal(err)
	}
	if args, env, _ := strings.Cut(out.String(), "env: "); strings.Contains(args, "fromfile") || strings.TrimSpace(env) != "fromfile" {
		t.Errorf("password file: %q", out.String())
	}
}

// On Debian and Ubuntu pg_restore on PATH is a link to postgresql-common's
// Perl pg_wrapper; strata runs the newest installed binary behind it
// instead, and any other pg_restore as it is.
func TestToolPastWrapper(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "share", "pg_wrapper")
	binRoot := filepath.Join(dir, "lib")
	write := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write(wrapper)
	write(filepath.Join(binRoot, "9.6", "bin", "pg_restore"))
	write(filepath.Join(binRoot, "15", "bin", "pg_restore"))
	write(filepath.Join(binRoot, "16", "bin", "pg_dump")) // 16 without pg_restore
	linked := filepath.Join(dir, "bin", "pg_restore")
	os.MkdirAll(filepath.Dir(linked), 0o700)
	if err := os.Symlink(wrapper, linked); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "other", "pg_restore")
	write(plain)
	for _, tc := range []struct{ path, binRoot, want string }{
		{linked, binRoot, filepath.Join(binRoot, "15", "bin", "pg_restore")},
		{plain, binRoot, plain},
		{linked, filepath.Join(dir, "none"), linked},
	} {
		if got := pastWrapper(tc.path, "pg_restore", tc.binRoot); got != tc.want {
			t.Errorf("pastWrapper(%s, %s) = %s, want %s", tc.path, tc.binRoot, got, tc.want)
		}
	}
}
