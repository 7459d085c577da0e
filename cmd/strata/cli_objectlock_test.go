package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"strata/internal/miniotest"
)

// s3Admin is a plain S3 client with the test server's root credentials,
// for what the tests check or do behind strata's back.
type s3Admin struct {
	t      *testing.T
	client *minio.Client
	bucket string
	prefix string // the repository's, with a trailing slash
}

func newS3Admin(t *testing.T, srv *miniotest.Server, bucket string) *s3Admin {
	t.Helper()
	client, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return &s3Admin{t: t, client: client, bucket: bucket, prefix: "backups/app/"}
}

// objects lists the keys under the repository's folder (every version
// when versions), relative to the repository.
func (a *s3Admin) objects(folder string, versions bool) []minio.ObjectInfo {
	a.t.Helper()
	var out []minio.ObjectInfo
	for o := range a.client.ListObjects(context.Background(), a.bucket, minio.ListObjectsOptions{Prefix: a.prefix + folder, Recursive: true, WithVersions: versions}) {
		if o.Err != nil {
			a.t.Fatal(o.Err)
		}
		o.Key = strings.TrimPrefix(o.Key, a.prefix)
		out = append(out, o)
	}
	return out
}

// lock returns the retention date and legal hold of the object key (in
// the repository).
func (a *s3Admin) lock(key string) (time.Time, bool) {
	a.t.Helper()
	info, err := a.client.StatObject(context.Background(), a.bucket, a.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		a.t.Fatalf("stat %s: %v", key, err)
	}
	var until time.Time
	if s := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); s != "" {
		if until, err = time.Parse(time.RFC3339, s); err != nil {
			a.t.Fatal(err)
		}
	}
	return until, info.Metadata.Get("X-Amz-Object-Lock-Legal-Hold") == "ON"
}

// shorten moves the governance retention of key to until, with the
// governance bypass, as an administrator may: the tests use it to make a
// retention run out without waiting a day.
func (a *s3Admin) shorten(key string, until time.Time) {
	a.t.Helper()
	mode := minio.Governance
	until = until.UTC()
	err := a.client.PutObjectRetention(context.Background(), a.bucket, a.prefix+key, minio.PutObjectRetentionOptions{
		GovernanceBypass: true, Mode: &mode, RetainUntilDate: &until})
	if err != nil {
		a.t.Fatalf("shorten the retention of %s: %v", key, err)
	}
}

// expire makes the retention of keys run out together, soon, and waits
// until it has. A retention date must be in the future when it is set: on
// a loaded machine setting many can take longer than the margin, so when
// the margin is nearly used up the keys are set again to a later date
// (governance bypass allows either way).
func (a *s3Admin) expire(keys ...string) {
	a.t.Helper()
	for margin := 2 * time.Second; ; margin *= 2 {
		end, set := time.Now().Add(margin), 0
		for _, k := range keys {
			if time.Until(end) < margin/4 {
				break
			}
			a.shorten(k, end)
			set++
		}
		if set == len(keys) {
			time.Sleep(time.Until(end) + time.Second)
			return
		}
	}
}

// TestObjectLockRepository: init --object-lock writes every pack, index,
// snapshot and key file and the config with a retention of --lock-days
// (lock files without: none is left behind); forget leaves a locked
// snapshot and says until when; prune keeps locked packs that no snapshot
// needs and lists them; extend-locks moves the retention of what the
// snapshots need, and a second run changes nothing; protect places a
// legal hold on a snapshot's files and unprotect lifts it; check passes
// throughout.
func TestObjectLockRepository(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	start := time.Now()
	_, out := c.code(0, "init", "--object-lock", "governance", "--lock-days", "1")
	if !strings.Contains(out, "under object lock") {
		t.Errorf("init output: %s", out)
	}
	first := c.backupStdin(genData(t, 3<<20), "first.bin")
	second := c.backupStdin(genData(t, 2<<20)[:1<<20], "first.bin")

	for _, folder := range []string{"config", "keys/", "data/", "index/", "snapshots/"} {
		objs := a.objects(folder, false)
		if len(objs) == 0 {
			t.Fatalf("nothing stored under %s", folder)
		}
		for _, o := range objs {
			until, _ := a.lock(o.Key)
			if until.Before(start.Add(24*time.Hour-time.Minute)) || until.After(time.Now().Add(24*time.Hour+time.Minute)) {
				t.Errorf("%s: retained until %v, want a day from its writing", o.Key, until)
			}
		}
	}
	for _, o := range a.objects("journal/", false) {
		if until, held := a.lock(o.Key); !until.IsZero() || held {
			t.Errorf("journal file %s is locked", o.Key)
		}
	}
	if left := a.objects("locks/", true); len(left) != 0 {
		t.Errorf("lock files (or versions of them) left: %v", left)
	}

	// forget cannot remove the locked first snapshot, and says until when.
	out = c.ok("forget", "--keep-last", "1")
	if !strings.Contains(out, "removed 0 of 2 snapshots") || !strings.Contains(out, "1 snapshot left under object lock") ||
		!strings.Contains(out, "snapshots/"+first+"  governance until") {
		t.Errorf("forget of a locked snapshot: %s", out)
	}
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots after forget, want 2 (the locked one stays)", n)
	}
	var fj forgetJSON
	if err := json.Unmarshal([]byte(c.ok("forget", "--keep-last", "1", "--json")), &fj); err != nil || fj.Remove != 0 || len(fj.Locked) != 1 ||
		fj.Locked[0].File != "snapshots/"+first || fj.Locked[0].Until.IsZero() {
		t.Errorf("forget --json: %+v, %v", fj, err)
	}
	c.check()

	// The first snapshot's retention runs out: forget removes it. Its
	// packs are locked still, and prune keeps them and says so.
	a.expire("snapshots/" + first)
	out = c.ok("forget", "--keep-last", "1")
	if !strings.Contains(out, "removed 1 of 2 snapshots") || strings.Contains(out, "locked:") {
		t.Fatalf("forget after the retention ran out: %s", out)
	}
	before := len(a.objects("data/", false))
	var rep struct {
		PacksLocked int `json:"packs_locked"`
		Locked      []struct {
			File  string
			Until time.Time
		}
	}
	if err := json.Unmarshal([]byte(c.ok("prune", "--json")), &rep); err != nil || rep.PacksLocked == 0 || len(rep.Locked) == 0 {
		t.Fatalf("prune --json: %+v, %v", rep, err)
	}
	for _, l := range rep.Locked {
		if !strings.HasPrefix(l.File, "data/") || l.Until.Before(time.Now()) {
			t.Errorf("prune reports %+v as locked", l)
		}
	}
	if after := len(a.objects("data/", false)); after != before {
		t.Errorf("%d packs after prune, %d before: prune removed locked packs", after, before)
	}
	out = c.ok("prune")
	if !strings.Contains(out, "left under object lock, not removed") || !strings.Contains(out, "a prune after that removes them") {
		t.Errorf("prune output: %s", out)
	}
	c.check()

	// extend-locks moves the retention of what the kept snapshot needs.
	cfgUntil, _ := a.lock("config")
	var ext struct{ Files, Extended, Unchanged int }
	if err := json.Unmarshal([]byte(c.ok("maintenance", "extend-locks", "--json")), &ext); err != nil || ext.Extended == 0 || ext.Extended != ext.Files {
		t.Fatalf("extend-locks --json: %+v, %v", ext, err)
	}
	if moved, _ := a.lock("config"); !moved.After(cfgUntil) {
		t.Errorf("config retained until %v after extend-locks, before %v", moved, cfgUntil)
	}
	if snap, _ := a.lock("snapshots/" + second); !snap.After(cfgUntil) {
		t.Errorf("snapshot retained until %v after extend-locks", snap)
	}
	out = c.ok("maintenance", "extend-locks")
	if !strings.Contains(out, "extended 0 files") {
		t.Errorf("a second extend-locks: %s", out)
	}

	// protect places a legal hold on the snapshot's files; unprotect
	// lifts it.
	out = c.ok("protect", second)
	if !strings.Contains(out, "placed an S3 legal hold on the") {
		t.Errorf("protect output: %s", out)
	}
	heldKeys := []string{"snapshots/" + second, "config"}
	for _, o := range a.objects("index/", false) {
		heldKeys = append(heldKeys, o.Key)
	}
	for _, k := range heldKeys {
		if _, held := a.lock(k); !held {
			t.Errorf("%s: no legal hold after protect", k)
		}
	}
	heldPacks := 0
	for _, o := range a.objects("data/", false) {
		if _, held := a.lock(o.Key); held {
			heldPacks++
			heldKeys = append(heldKeys, o.Key)
		}
	}
	if heldPacks == 0 {
		t.Error("no pack has a legal hold after protect")
	}
	out = c.ok("unprotect", second)
	if !strings.Contains(out, "lifted the S3 legal hold from") {
		t.Errorf("unprotect output: %s", out)
	}
	for _, k := range heldKeys {
		if _, held := a.lock(k); held {
			t.Errorf("%s: legal hold left after unprotect", k)
		}
	}
	c.check()
	// The probes for append-only credentials (a DELETE of a name no file
	// has, before forget, prune, tag...) leave no delete marker behind.
	for _, o := range a.objects("", true) {
		if strings.Contains(o.Key, ".strata-delete-probe") {
			t.Errorf("a probe left %s (delete marker %v)", o.Key, o.IsDeleteMarker)
		}
	}
}

// TestObjectLockInitRefuses: init --object-lock refuses a bucket that
// exists without object lock, and a local folder, saying why.
func TestObjectLockInitRefuses(t *testing.T) {
	t.Parallel()
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	if err := a.client.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitError, "init", "--object-lock", "compliance", "--lock-days", "7")
	if !strings.Contains(errOut, "the bucket exists without object lock") {
		t.Errorf("init --object-lock on a bucket without: %s", errOut)
	}
	if objs := a.objects("", false); len(objs) != 0 {
		t.Errorf("init left %d objects", len(objs))
	}
	local := newCLI(t)
	_, errOut = local.code(exitError, "init", "--object-lock", "governance", "--lock-days", "7")
	if !strings.Contains(errOut, "this storage cannot lock files") {
		t.Errorf("init --object-lock on a folder: %s", errOut)
	}
	_, errOut = local.code(exitError, "init", "--object-lock", "governance")
	if !strings.Contains(errOut, "--lock-days") {
		t.Errorf("init --object-lock without --lock-days: %s", errOut)
	}
}
