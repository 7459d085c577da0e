package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"strata/internal/miniotest"
)

// appendOnlyPolicy is the policy of README, "Append-only": read, list
// and write every file of the repository at bucket/prefix, delete only
// lock files.
func appendOnlyPolicy(bucket, prefix string) string {
	return fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketObjectLockConfiguration"], "Resource": ["arn:aws:s3:::%[1]s"]},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:GetObjectRetention", "s3:GetObjectLegalHold"], "Resource": ["arn:aws:s3:::%[1]s/%[2]s/*"]},
  {"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": ["arn:aws:s3:::%[1]s/%[2]s/locks/*"]}
]}`, bucket, prefix)
}

// appendOnlyCredentials returns temporary credentials (STS AssumeRole
// with the policy as session policy) that cannot delete but lock files.
func appendOnlyCredentials(t *testing.T, srv *miniotest.Server, policy string) credentials.Value {
	t.Helper()
	creds, err := credentials.NewSTSAssumeRole("http://"+srv.Endpoint, credentials.STSAssumeRoleOptions{
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Policy: policy, DurationSeconds: 3600,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := creds.Get()
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return v
}

// TestAppendOnlyCredential: with credentials that may not delete (but
// lock files), backups and reads work, and every command that would
// delete refuses before it changes anything, naming the mode; with full
// credentials the same commands work.
func TestAppendOnlyCredential(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	c.ok("init")
	c.backupStdin(genData(t, 1<<20), "one.bin")
	full := map[string]string{}
	for k, v := range c.vars {
		full[k] = v
	}
	v := appendOnlyCredentials(t, srv, appendOnlyPolicy(bucket, "backups/app"))
	c.vars["AWS_ACCESS_KEY_ID"], c.vars["AWS_SECRET_ACCESS_KEY"], c.vars["AWS_SESSION_TOKEN"] = v.AccessKeyID, v.SecretAccessKey, v.SessionToken

	// Backups work (their lock files are removed), and so do reads.
	second := c.backupStdin(genData(t, 2<<20)[1<<20:], "one.bin")
	c.ok("protect", second)
	if n := len(c.snapshots()); n != 2 {
		t.Fatalf("%d snapshots, want 2", n)
	}
	c.ok("check")
	c.ok("forget", "--keep-last", "1", "--dry-run")
	c.ok("prune", "--dry-run")

	for _, args := range [][]string{
		{"forget", "--keep-last", "1"},
		{"forget", "--keep-last", "1", "--prune"},
		{"prune"},
		{"tag", "--add", "x", second},
		{"unprotect", second},
		{"key", "passwd", "--new-password-file", c.pwFile},
		{"policy", "set", "--keep-last", "3"},
		{"repair", "index"},
	} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "append-only") || !strings.Contains(errOut, "may not delete") || !strings.Contains(errOut, args[0]) {
			t.Errorf("strata %s with an append-only credential: %s", strings.Join(args, " "), errOut)
		}
	}
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots after the refusals, want 2", n)
	}

	c.vars = full
	c.ok("unprotect", second)
	c.ok("forget", "--keep-last", "1", "--prune")
	if n := len(c.snapshots()); n != 1 {
		t.Errorf("%d snapshots after forget with full credentials, want 1", n)
	}
	c.check()
}
