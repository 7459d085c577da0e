package main

import (
	"strings"
	"testing"
)

// TestAppendOnlyMoreCommands: with the README's append-only credential,
// a database backup (its lock and journal) and key add work, and key
// remove and every repair refuse before they change anything.
func TestAppendOnlyMoreCommands(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	v := appendOnlyCredentials(t, srv, appendOnlyPolicy(bucket, "backups/app"))
	c.vars["AWS_ACCESS_KEY_ID"], c.vars["AWS_SECRET_ACCESS_KEY"], c.vars["AWS_SESSION_TOKEN"] = v.AccessKeyID, v.SecretAccessKey, v.SessionToken
	c.ok("backup", "--db", "sqlite://"+path)
	for i := 0; i < 3; i++ {
		c.backupStdin(genData(t, 64<<10), "x.bin")
	}
	c.ok("key", "add", "--new-password-file", c.pwFile)
	keys := c.keys()
	var other string
	for _, k := range keys {
		if !k.Current {
			other = k.Name
		}
	}
	for _, args := range [][]string{
		{"key", "remove", other},
		{"repair", "snapshots"},
		{"repair", "packs"},
		{"repair", "journal"},
		{"repair", "config"},
	} {
		out, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "append-only") {
			t.Errorf("strata %s with an append-only credential: %s%s", strings.Join(args, " "), out, errOut)
		}
	}
	if n := len(c.keys()); n != 2 {
		t.Errorf("%d keys after refusals, want 2", n)
	}
	if left := a.objects("locks/", true); len(left) != 0 {
		t.Errorf("lock files (or versions of them) left by the append-only credential: %d", len(left))
	}
	c.check()
}

// TestAppendOnlyForgetPrune: with a credential that may delete snapshot
// and protect files but no pack or index file, forget --prune refuses
// before it removes a snapshot, naming the folder it may not delete in
// (it removed the snapshots and then failed in prune); forget alone
// works.
func TestAppendOnlyForgetPrune(t *testing.T) {
	c, srv, bucket := newS3CLI(t)
	c.ok("init")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, c.backupStdin(genData(t, 256<<10), "x.bin"))
	}
	policy := strings.Replace(appendOnlyPolicy(bucket, "backups/app"),
		`"Resource": ["arn:aws:s3:::`+bucket+`/backups/app/locks/*"]`,
		`"Resource": ["arn:aws:s3:::`+bucket+`/backups/app/locks/*", "arn:aws:s3:::`+bucket+`/backups/app/snapshots/*", "arn:aws:s3:::`+bucket+`/backups/app/protect/*"]`, 1)
	if policy == appendOnlyPolicy(bucket, "backups/app") {
		t.Fatal("the policy was not widened")
	}
	v := appendOnlyCredentials(t, srv, policy)
	c.vars["AWS_ACCESS_KEY_ID"], c.vars["AWS_SECRET_ACCESS_KEY"], c.vars["AWS_SESSION_TOKEN"] = v.AccessKeyID, v.SecretAccessKey, v.SessionToken
	for _, args := range [][]string{
		{"forget", "--keep-last", "1", "--prune"},
		{"forget", ids[0], "--prune"},
	} {
		_, errOut := c.code(exitError, args...)
		if !strings.Contains(errOut, "append-only") || !strings.Contains(errOut, "files in data/") {
			t.Errorf("strata %s with a credential that may not delete packs: %s", strings.Join(args, " "), errOut)
		}
		if n := len(c.snapshots()); n != 3 {
			t.Fatalf("strata %s: %d snapshots left, want 3 (nothing removed)", strings.Join(args, " "), n)
		}
	}
	c.ok("forget", ids[0])
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots after forget, want 2", n)
	}
	c.check()
}
