package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/miniotest"
)

// newS3CLI is newCLI with the repository in a new bucket of the test MinIO
// server, under a prefix, and the server's credentials in the environment.
func newS3CLI(t *testing.T) (*tcli, *miniotest.Server, string) {
	t.Helper()
	srv := miniotest.Get(t)
	c := newCLI(t)
	bucket := miniotest.NewBucket(t)
	c.repo = srv.URL(bucket, "backups/app")
	c.vars["STRATA_REPOSITORY"] = c.repo
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		c.vars[k] = v
	}
	return c, srv, bucket
}

// TestS3Repository runs a repository's life in a bucket through the CLI:
// init creates the bucket, backups of a SQLite database, check
// --read-data, a restore into a new SQLite file, forget --prune, and check
// again.
func TestS3Repository(t *testing.T) {
	t.Parallel()
	c, _, _ := newS3CLI(t)
	_, out := c.code(0, "init")
	if !strings.Contains(out, "created strata repository") || !strings.Contains(out, c.repo) {
		t.Errorf("init output: %s", out)
	}
	_, errOut := c.code(exitError, "init")
	if !strings.Contains(errOut, "exists") {
		t.Errorf("second init: %s", errOut)
	}

	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 13:00:00")
	if _, err := db.Exec(`UPDATE customers SET balance = 99 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 14:00:00")
	if _, err := db.Exec(`UPDATE customers SET balance = 7 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 15:00:00")
	c.check()

	restored := filepath.Join(t.TempDir(), "restored.db")
	c.ok("restore", "--at", "2025-06-17 14:30", "--db", "sqlite://"+restored)
	rdb, err := sql.Open("sqlite", "file:"+restored)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var b1, b2 string
	if err := rdb.QueryRow(`SELECT (SELECT balance FROM customers WHERE id = 1), (SELECT balance FROM customers WHERE id = 2)`).Scan(&b1, &b2); err != nil || b1 != "10" || b2 != "99" {
		t.Errorf("restored balances %q, %q (%v), want the 14:00 values 10 and 99", b1, b2, err)
	}

	c.ok("forget", "--keep-last", "1", "--prune")
	if sns := c.snapshots(); len(sns) != 1 {
		t.Errorf("after forget --keep-last 1: %d snapshots", len(sns))
	}
	c.check()
	latest := filepath.Join(t.TempDir(), "latest.db")
	c.ok("restore", "latest", "--db", "sqlite://"+latest)
	ldb, err := sql.Open("sqlite", "file:"+latest)
	if err != nil {
		t.Fatal(err)
	}
	defer ldb.Close()
	if err := ldb.QueryRow(`SELECT balance FROM customers WHERE id = 1`).Scan(&b1); err != nil || b1 != "7" {
		t.Errorf("latest balance %q (%v), want 7", b1, err)
	}
	var stats map[string]any
	if err := json.Unmarshal([]byte(c.ok("stats", "--json")), &stats); err != nil {
		t.Errorf("stats --json: %v", err)
	}
}

// TestS3NoRepository: a bucket that does not exist, or holds no
// repository under the prefix, is "no repository", and the message names
// the URL and holds no credential.
func TestS3NoRepository(t *testing.T) {
	t.Parallel()
	c, srv, _ := newS3CLI(t)
	_, errOut := c.code(exitNoRepository, "snapshots")
	if !strings.Contains(errOut, c.repo) || strings.Contains(errOut, srv.SecretKey) {
		t.Errorf("snapshots without a repository: %s", errOut)
	}
}

// TestS3BadCredentials: a wrong secret fails with a hint about the
// credentials, and the secret shows nowhere.
func TestS3BadCredentials(t *testing.T) {
	t.Parallel()
	c, _, _ := newS3CLI(t)
	c.ok("init")
	c.vars["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-do-not-print"
	_, errOut, code := c.run("snapshots")
	if code == 0 || !strings.Contains(errOut, "credentials") || strings.Contains(errOut, "wrong-secret-do-not-print") {
		t.Errorf("snapshots with a wrong secret: exit %d, %s", code, errOut)
	}
}

// TestCopyToBucket: the README's off-site copy into a bucket. A local
// repository's snapshots go to an S3 repository made with its chunker
// parameters; a second copy copies nothing, a new backup copies one
// snapshot, the copies restore the same bytes, and a third repository on
// disk copies them back out of the bucket.
func TestCopyToBucket(t *testing.T) {
	t.Parallel()
	src := newCLI(t)
	src.ok("init", "--pack-size", "1")
	path, _ := bigSQLite(t, 20000)
	dsn := "sqlite://" + path
	src.ok("backup", "--db", dsn, "--tier", "hourly")
	src.backupStdin(sampleData(t), "export.tsv")

	dst, _, _ := newS3CLI(t)
	pw := filepath.Join(t.TempDir(), "offsite-pw")
	if err := os.WriteFile(pw, []byte("offsite-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst.pwFile = pw
	dst.vars["STRATA_PASSWORD_FILE"] = pw
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	dst.ok("init", "--copy-chunker-params-from", src.repo)

	if rep := dst.copyJSONRun(); rep.Copied != 2 || rep.DataBlobs == 0 {
		t.Fatalf("first copy into the bucket: %+v", rep)
	}
	if rep := dst.copyJSONRun(); rep.Copied != 0 || rep.Skipped != 2 {
		t.Fatalf("second copy: %+v, want nothing copied", rep)
	}
	src.backupStdin(append(sampleData(t), "one more line\n"...), "export.tsv")
	if rep := dst.copyJSONRun(); rep.Copied != 1 || rep.Skipped != 2 {
		t.Fatalf("copy after a new backup: %+v, want 1 copied", rep)
	}
	dst.check()
	for _, args := range [][]string{{"dump", "latest", "/export.tsv"}, {"dump", "latest", "t", "--format", "csv", "--source", dsn}} {
		if a, b := src.ok(args...), dst.ok(args...); a != b || len(a) < 100 {
			t.Errorf("%s: the bucket's copy differs from the source (%d and %d bytes)", strings.Join(args, " "), len(a), len(b))
		}
	}

	// And back out of the bucket into a folder.
	back := newCLI(t)
	back.vars["STRATA_FROM_REPOSITORY"] = dst.repo
	back.vars["STRATA_FROM_PASSWORD_FILE"] = pw
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		back.vars[name] = dst.vars[name]
	}
	back.ok("init", "--copy-chunker-params-from", dst.repo)
	if rep := back.copyJSONRun(); rep.Copied != 3 {
		t.Fatalf("copy out of the bucket: %+v, want 3 copied", rep)
	}
	if a, b := src.ok("dump", "latest", "/export.tsv"), back.ok("dump", "latest", "/export.tsv"); a != b {
		t.Error("the stream copied back out of the bucket differs")
	}
	back.check()
}

// TestCopyBetweenAccounts: a copy between two buckets that need
// different credentials reads the source with STRATA_FROM_S3_* and writes
// the destination with its own (one set served both sides, so such a
// copy failed); without STRATA_FROM_S3_* the source is read with the
// destination's credentials, which may not.
func TestCopyBetweenAccounts(t *testing.T) {
	src, srv, srcBucket := newS3CLI(t)
	src.ok("init")
	src.backupStdin(sampleData(t), "export.tsv")
	dst, _, dstBucket := newS3CLI(t)
	onlyBucket := func(b string) string {
		return fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::%[1]s", "arn:aws:s3:::%[1]s/*"]}]}`, b)
	}
	srcCred := appendOnlyCredentials(t, srv, onlyBucket(srcBucket))
	dstCred := appendOnlyCredentials(t, srv, onlyBucket(dstBucket))
	pw := filepath.Join(t.TempDir(), "offsite-pw")
	if err := os.WriteFile(pw, []byte("offsite-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst.pwFile = pw
	dst.vars["STRATA_PASSWORD_FILE"] = pw
	dst.vars["AWS_ACCESS_KEY_ID"], dst.vars["AWS_SECRET_ACCESS_KEY"], dst.vars["AWS_SESSION_TOKEN"] = dstCred.AccessKeyID, dstCred.SecretAccessKey, dstCred.SessionToken
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	dst.ok("init")

	_, errOut := dst.code(exitError, "copy")
	if !strings.Contains(errOut, "source repository") {
		t.Errorf("copy reading the source with the destination's credentials: %s", errOut)
	}
	dst.vars["STRATA_FROM_S3_ACCESS_KEY_ID"], dst.vars["STRATA_FROM_S3_SECRET_ACCESS_KEY"], dst.vars["STRATA_FROM_S3_SESSION_TOKEN"] = srcCred.AccessKeyID, srcCred.SecretAccessKey, srcCred.SessionToken
	if rep := dst.copyJSONRun(); rep.Copied != 1 {
		t.Fatalf("copy with the source's own credentials: %+v, want 1 copied", rep)
	}
	if a, b := src.ok("dump", "latest", "/export.tsv"), dst.ok("dump", "latest", "/export.tsv"); a != b {
		t.Error("the copy differs from the source")
	}
	for _, secret := range []string{srcCred.SecretAccessKey, dstCred.SecretAccessKey} {
		if strings.Contains(dst.ok("snapshots", "--json"), secret) {
			t.Error("a secret key shows in the snapshots")
		}
	}
	dst.check()
}

// TestCopySourceCredentialsHint: a copy whose source bucket refuses the
// credentials says where the source's come from: STRATA_FROM_S3_* or
// STRATA_FROM_AWS_PROFILE, and while the source has none of its own, the
// destination's it was read with. Before, it named only the destination's
// (AWS_*, STRATA_S3_*). No secret shows.
func TestCopySourceCredentialsHint(t *testing.T) {
	t.Parallel()
	src, srv, _ := newS3CLI(t)
	src.ok("init")
	const wrong = "wrong-secret-0123456789"
	for _, tt := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"none of its own", map[string]string{"AWS_ACCESS_KEY_ID": "strata-wrong", "AWS_SECRET_ACCESS_KEY": wrong},
			[]string{"STRATA_FROM_S3_ACCESS_KEY_ID", "STRATA_FROM_AWS_PROFILE", "the destination's are used: AWS_ACCESS_KEY_ID"}},
		{"its own", map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
			"STRATA_FROM_S3_ACCESS_KEY_ID": "strata-wrong", "STRATA_FROM_S3_SECRET_ACCESS_KEY": wrong},
			[]string{"check the credentials (the source's: STRATA_FROM_S3_ACCESS_KEY_ID and STRATA_FROM_S3_SECRET_ACCESS_KEY, or STRATA_FROM_AWS_PROFILE)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := newCLI(t)
			dst.ok("init")
			dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
			dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
			for k, v := range tt.vars {
				dst.vars[k] = v
			}
			_, errOut := dst.code(exitError, "copy")
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("copy's error lacks %q:\n%s", w, errOut)
				}
			}
			if !strings.Contains(errOut, "source repository") || strings.Contains(errOut, wrong) || strings.Contains(errOut, srv.SecretKey) {
				t.Errorf("copy's error:\n%s", errOut)
			}
		})
	}
}
