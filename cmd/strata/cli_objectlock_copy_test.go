package main

import (
	"testing"
	"time"
)

// TestObjectLockCopyInto: copy into a repository under object lock
// writes every pack, index and snapshot file with a retention, as a
// backup does; the copied snapshot restores and check passes.
func TestObjectLockCopyInto(t *testing.T) {
	t.Parallel()
	src := newCLI(t)
	src.ok("init")
	data := genData(t, 1<<20)
	src.backupStdin(data, "f.bin")

	dst, srv, bucket := newS3CLI(t)
	a := newS3Admin(t, srv, bucket)
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	dst.ok("init", "--object-lock", "governance", "--lock-days", "1", "--copy-chunker-params-from", src.repo)
	start := time.Now()
	if rep := dst.copyJSONRun(); rep.Copied != 1 {
		t.Fatalf("copy: %+v", rep)
	}
	for _, folder := range []string{"data/", "index/", "snapshots/"} {
		objs := a.objects(folder, false)
		if len(objs) == 0 {
			t.Fatalf("nothing under %s after copy", folder)
		}
		for _, o := range objs {
			if until, _ := a.lock(o.Key); until.Before(start.Add(24*time.Hour - time.Minute)) {
				t.Errorf("%s copied with retention until %v, want a day", o.Key, until)
			}
		}
	}
	dst.check()
	restoreEquals(t, dst, data)
}
