package local_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"strata/repo/backend"
	"strata/repo/backend/local"
)

// TestReadOnlyStorage: on a read-only mount, Save and Remove fail with
// backend.ErrReadOnly (keeping the system's EROFS), which is how commands
// that only read know to go on without a lock; Load and List still work.
// It bind-mounts the repository read-only, so it needs root (with
// CAP_SYS_ADMIN); it skips when that is refused (EPERM), and under CI=true
// fails for any other reason.
func TestReadOnlyStorage(t *testing.T) {
	b, dir := newRepo(t)
	h := backend.Handle{Type: backend.SnapshotFile, Name: "aa" + string(bytes.Repeat([]byte("0"), 62))}
	save(t, b, h, []byte("snapshot"))

	mnt := t.TempDir()
	err := syscall.Mount(dir, mnt, "", syscall.MS_BIND, "")
	if err == nil {
		t.Cleanup(func() { _ = syscall.Unmount(mnt, 0) })
		err = syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, "")
	}
	if err != nil {
		if os.Getenv("CI") == "true" && !errors.Is(err, syscall.EPERM) {
			t.Fatalf("a read-only bind mount failed for another reason than permission: %v", err)
		}
		t.Skipf("skipping: cannot bind-mount read-only (needs root): %v", err)
	}
	ro, err := local.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lock := backend.Handle{Type: backend.LockFile, Name: "bb" + string(bytes.Repeat([]byte("0"), 62))}
	if err := ro.Save(ctx, lock, backend.NewByteReader([]byte("lock"))); !errors.Is(err, backend.ErrReadOnly) || !errors.Is(err, syscall.EROFS) {
		t.Errorf("Save on a read-only mount: %v, want ErrReadOnly wrapping EROFS", err)
	}
	if err := ro.Remove(ctx, h); !errors.Is(err, backend.ErrReadOnly) {
		t.Errorf("Remove on a read-only mount: %v, want ErrReadOnly", err)
	}
	if got, err := ro.Load(ctx, h, 0, 0); err != nil || string(got) != "snapshot" {
		t.Errorf("Load on a read-only mount: %q, %v", got, err)
	}
}
