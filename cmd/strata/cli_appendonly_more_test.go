package main

import (
	"strings"
	"testing"
)

// TestAppendOnlyMoreCommands: with the README's append-only credential,
// a database backup (its lock and journal) and key add work, and key
// remove and every repair refuse before they change anything.
func TestAppendOnlyMoreCommands(t *testing.T) {
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
