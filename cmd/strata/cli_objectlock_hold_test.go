package main

import (
	"context"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// dropUnheld removes, as an administrator bypassing governance
// retention may, every version of every object of the repository that
// has no legal hold: what is left is what legal holds keep.
func (a *s3Admin) dropUnheld() int {
	a.t.Helper()
	n := 0
	for _, o := range a.objects("", true) {
		if _, held := a.lock(o.Key); held && !o.IsDeleteMarker {
			continue
		}
		err := a.client.RemoveObject(context.Background(), a.bucket, a.prefix+o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID, GovernanceBypass: true})
		if err != nil {
			a.t.Fatalf("removing %s (%s): %v", o.Key, o.VersionID, err)
		}
		n++
	}
	return n
}

// TestObjectLockHoldRestorable: a protected snapshot restores from the
// files its legal hold keeps alone, after the index was rewritten twice
// (the index files written later hold no hold, and supersede the held
// ones only while they exist) and another snapshot was protected and
// unprotected in between: unprotect lifted the hold from the superseded
// index files the first snapshot's hold had placed, so no index file was
// left held and nothing could be restored.
func TestObjectLockHoldRestorable(t *testing.T) {
	c, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	c.ok("init", "--object-lock", "governance", "--lock-days", "1")
	data := genData(t, 3<<20)
	first := c.backupStdin(data[:2<<20], "f.bin")
	want := c.ok("dump", first, "/f.bin")
	c.ok("protect", first)
	second := c.backupStdin(data[1<<20:], "f.bin")
	c.ok("repair", "index")
	c.ok("protect", second)
	c.ok("repair", "index")
	c.ok("unprotect", second)
	if n := a.dropUnheld(); n == 0 {
		t.Fatal("nothing was dropped")
	}
	for _, o := range a.objects("index/", false) {
		t.Logf("held index file left: %s", o.Key)
	}
	if got := c.ok("dump", first, "/f.bin"); got != want {
		t.Fatalf("the protected snapshot dumps %d bytes from its held files, want %d", len(got), len(want))
	}
	// What is gone is the other snapshot's and the journal: check says
	// so, and that the protected snapshot loses nothing.
	out, _ := c.code(exitCheckFailed, "check", "--read-data", "--lock-warn-days", "0")
	if strings.Contains(out, first[:8]) || !strings.Contains(out, "checked 1 snapshot") {
		t.Errorf("check of the held files names the protected snapshot:\n%s", out)
	}
}
