package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigDSNQueryPassword: a DSN's password given as a query
// parameter (postgres://u@h/db?password=..., which pgx reads) is refused
// as one in the user info is, and neither validate nor show prints it.
func TestConfigDSNQueryPassword(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, dsn := range []string{
		"postgres://backup@db1/shop?password=QuerySecret1",
		"postgres://backup@db1/shop?sslmode=disable&PASSWORD=QuerySecret1",
		"mysql://backup@db1/shop?password=QuerySecret1",
	} {
		typ, _, _ := strings.Cut(dsn, ":")
		file := filepath.Join(t.TempDir(), "strata.yaml")
		writeNew(t, file, []byte("version: 1\nrepository:\n  url: local:repo\n  password_env: PW\nsources:\n  - {name: db, type: "+typ+", dsn: \""+dsn+"\"}\n"))
		for _, cmd := range []string{"validate", "show"} {
			out, errOut := c.code(1, "config", cmd, "--config", file)
			if !strings.Contains(errOut, "sources[0].dsn") || !strings.Contains(errOut, "holds a password") || strings.Contains(out+errOut, "QuerySecret1") {
				t.Errorf("config %s of dsn %s:\n%s%s", cmd, dsn, out, errOut)
			}
		}
	}
}

// TestConfigS3URLCredentials: an S3 repository URL with credentials in
// it is refused by validate (as opening it is), in either form, and
// neither validate nor show prints the secret.
func TestConfigS3URLCredentials(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, u := range []string{
		"s3:https://AKIAKEY:S3Secret1@minio.internal:9000/bucket",
		"s3:AKIAKEY:S3Secret1@minio.internal:9000/bucket",
		"s3:http://AKIAKEY:S3Secret1@127.0.0.1:9000/bucket/prefix",
	} {
		file := filepath.Join(t.TempDir(), "strata.yaml")
		writeNew(t, file, []byte("version: 1\nrepository:\n  url: \""+u+"\"\n  password_env: PW\n"))
		for _, cmd := range []string{"validate", "show"} {
			out, errOut := c.code(1, "config", cmd, "--config", file)
			if !strings.Contains(errOut, "repository.url") || !strings.Contains(errOut, "credentials") || strings.Contains(out+errOut, "S3Secret1") {
				t.Errorf("config %s of url %s:\n%s%s", cmd, u, out, errOut)
			}
		}
	}
}
