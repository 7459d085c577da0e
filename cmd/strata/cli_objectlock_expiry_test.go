package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// TestObjectLockPartialExpiry: retentions that run out for some files and
// not others (packs, index files and snapshot files alike, as when
// extend-locks was not run or was interrupted) never leave the
// repository inconsistent: after forget --prune every kept snapshot
// restores and check --read-data passes; once every retention has run
// out, a second prune removes what the first left, old index files
// included, and the repository is still whole.
func TestObjectLockPartialExpiry(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	data := genData(t, 4<<20)
	c.backupStdin(data[:2<<20], "f.bin")
	c.backupStdin(data[1<<20:3<<20], "f.bin")
	last := data[2<<20:]
	c.backupStdin(last, "f.bin")

	// Every other file's retention runs out.
	var keys []string
	for _, folder := range []string{"data/", "index/", "snapshots/"} {
		for i, o := range a.objects(folder, false) {
			if i%2 == 0 {
				keys = append(keys, o.Key)
			}
		}
	}
	a.expire(keys...)
	c.ok("forget", "--keep-last", "1", "--prune")
	c.check()
	restoreEquals(t, c, last)

	// Every retention runs out: prune removes what is unused.
	keys = nil
	for _, folder := range []string{"data/", "index/", "snapshots/"} {
		for _, o := range a.objects(folder, false) {
			keys = append(keys, o.Key)
		}
	}
	a.expire(keys...)
	out := c.ok("forget", "--keep-last", "1", "--prune")
	if strings.Contains(out, "locked:") {
		t.Errorf("forget --prune after every retention ran out: %s", out)
	}
	c.check()
	restoreEquals(t, c, last)
	if n := len(c.snapshots()); n != 1 {
		t.Errorf("%d snapshots, want 1", n)
	}
	if n := len(a.objects("index/", false)); n != 1 {
		t.Errorf("%d index files after the last prune, want 1", n)
	}
	// A prune more changes nothing and the repository stays whole.
	c.ok("prune")
	c.check()
	restoreEquals(t, c, last)
}

func restoreEquals(t *testing.T, c *tcli, want []byte) {
	t.Helper()
	if got := c.ok("dump", "latest", "/f.bin"); got != string(want) {
		t.Fatalf("dump latest: %d bytes, want %d equal to the last backup's", len(got), len(want))
	}
}

// TestObjectLockRepairIndex: repair index under object lock leaves the
// locked old index files, superseded, says so, and succeeds (it failed
// on the first locked file, before recording its work in the journal,
// and advised to run it again, which failed the same way); check passes
// without a notice and a later prune, after the retention, removes them.
func TestObjectLockRepairIndex(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	data := genData(t, 2<<20)
	c.backupStdin(data[:1<<20], "f.bin")
	c.backupStdin(data, "f.bin")
	for run := 0; run < 2; run++ {
		out := c.ok("repair", "index")
		if !strings.Contains(out, "old index files left under object lock, superseded") || !strings.Contains(out, "governance until") {
			t.Errorf("repair index under object lock (run %d): %s", run+1, out)
		}
		c.check()
		if _, errOut := c.code(0, "check"); strings.Contains(errOut, "not recorded in the journal") {
			t.Errorf("check after repair index: %s", errOut)
		}
		restoreEquals(t, c, data)
	}
	var keys []string
	for _, o := range a.objects("index/", false) {
		keys = append(keys, o.Key)
	}
	a.expire(keys...)
	c.ok("prune")
	if n := len(a.objects("index/", false)); n != 1 {
		t.Errorf("%d index files after prune, want 1", n)
	}
	c.check()
	restoreEquals(t, c, data)
}

// TestObjectLockKeyPasswd: key passwd under object lock refuses before it
// writes a key while the current key file is locked (it wrote the new
// key, then failed to remove the old one: both passwords opened the
// repository), and changes the password once the retention ran out.
func TestObjectLockKeyPasswd(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	pw2 := filepath.Join(t.TempDir(), "pw2")
	if err := os.WriteFile(pw2, []byte("another password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitError, "key", "passwd", "--new-password-file", pw2)
	if !strings.Contains(errOut, "under object lock") || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("key passwd under object lock: %s", errOut)
	}
	if n := len(c.keys()); n != 1 {
		t.Fatalf("%d keys after a refused key passwd, want 1", n)
	}
	var keys []string
	for _, o := range a.objects("keys/", false) {
		keys = append(keys, o.Key)
	}
	a.expire(keys...)
	c.ok("key", "passwd", "--new-password-file", pw2)
	if n := len(c.as(t, pw2).keys()); n != 1 {
		t.Errorf("%d keys after key passwd, want 1", n)
	}
}

// TestObjectLockKeyRemove: key remove of a key file under object lock
// removes nothing and says until when, what renews the date, and who can
// remove it sooner (it printed the storage's refusal alone); after the
// date it removes the key.
func TestObjectLockKeyRemove(t *testing.T) {
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	pw2 := filepath.Join(t.TempDir(), "pw2")
	if err := os.WriteFile(pw2, []byte("another password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("key", "add", "--new-password-file", pw2)
	var other string
	for _, k := range c.keys() {
		if !k.Current {
			other = k.Name
		}
	}
	_, errOut := c.code(exitError, "key", "remove", other)
	for _, want := range []string{"under object lock", "nothing was removed", "still opens the repository", "again after",
		"maintenance extend-locks", "s3:BypassGovernanceRetention", "keys/" + other} {
		if !strings.Contains(errOut, want) {
			t.Errorf("key remove of a locked key does not say %q: %s", want, errOut)
		}
	}
	if n := len(c.keys()); n != 2 {
		t.Fatalf("%d keys after a refused key remove, want 2", n)
	}
	a.expire("keys/" + other)
	c.ok("key", "remove", other)
	if n := len(c.keys()); n != 1 {
		t.Errorf("%d keys after key remove past the date, want 1", n)
	}
}

// TestObjectLockCheckRetentions: check notes the files a snapshot needs
// whose retention runs out within --lock-warn-days (by default half the
// lock days), with maintenance extend-locks as what to do (it said
// nothing until they could be deleted); after extend-locks it notes
// nothing.
func TestObjectLockCheckRetentions(t *testing.T) {
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	c.backupStdin(genData(t, 1<<20), "f.bin")
	if out := c.ok("check"); strings.Contains(out, "runs out") {
		t.Fatalf("check of fresh retentions: %s", out)
	}
	out := c.ok("check", "--lock-warn-days", "2")
	if !strings.Contains(out, "notice: the object lock of") || !strings.Contains(out, "strata maintenance extend-locks") {
		t.Errorf("check --lock-warn-days 2 with one-day retentions: %s", out)
	}
	packs := a.objects("data/", false)
	a.shorten(packs[0].Key, time.Now().Add(time.Hour))
	out = c.ok("check")
	if !strings.Contains(out, "the object lock of 1 of the") || !strings.Contains(out, "strata maintenance extend-locks") {
		t.Errorf("check with a pack's retention ending in an hour: %s", out)
	}
	var rep struct {
		Findings []struct{ Kind string }    `json:"findings"`
		WhatToDo []struct{ Command string } `json:"what_to_do"`
	}
	if err := json.Unmarshal([]byte(c.ok("check", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != "RetentionsEnding" || len(rep.WhatToDo) != 1 || rep.WhatToDo[0].Command != "strata maintenance extend-locks" {
		t.Errorf("check --json: %+v", rep)
	}
	if out := c.ok("check", "--lock-warn-days", "0"); strings.Contains(out, "runs out") {
		t.Errorf("check --lock-warn-days 0: %s", out)
	}
	c.ok("maintenance", "extend-locks")
	if out := c.ok("check"); strings.Contains(out, "runs out") {
		t.Errorf("check after extend-locks: %s", out)
	}
}

// TestObjectLockRepairPacks: repair packs under object lock replaces a
// damaged pack and leaves the locked old index files and the pack,
// named by no index, listing them (it failed at the first locked index
// file).
func TestObjectLockRepairPacks(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	data := genData(t, 1<<20)
	c.backupStdin(data, "f.bin")
	c.backupStdin(genData(t, 2<<20)[1<<20:], "g.bin")
	// Damage the largest pack: a new version of its key with a byte
	// flipped (the locked version stays behind it).
	var key string
	var size int64
	for _, o := range a.objects("data/", false) {
		if o.Size > size {
			key, size = o.Key, o.Size
		}
	}
	ctx := context.Background()
	obj, err := a.client.GetObject(ctx, a.bucket, a.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/3] ^= 0xff
	if _, err := a.client.PutObject(ctx, a.bucket, a.prefix+key, bytes.NewReader(raw), int64(len(raw)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	out := c.ok("repair", "packs", path.Base(key))
	if !strings.Contains(out, "damaged pack replaced") || !strings.Contains(out, "left under object lock, named by no index") {
		t.Errorf("repair packs under object lock: %s", out)
	}
	// Deleting the damaged version by its ID brought back the locked
	// one behind it, intact and unindexed: repair index indexes it again
	// and the repository is whole.
	c.ok("repair", "index")
	c.check()
}
