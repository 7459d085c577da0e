package verify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/audit"
	"strata/repo/backend"
	"strata/repo/crypto"
	"strata/verify"
)

// onFirstLockLoad is a storage that calls hook before the first lock
// file it loads.
type onFirstLockLoad struct {
	backend.Storage
	once sync.Once
	hook func()
}

func (s *onFirstLockLoad) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if h.Type == backend.LockFile {
		s.once.Do(s.hook)
	}
	return s.Storage.Load(ctx, h, offset, length)
}

// TestCheckCountsLockRefreshedWhileRead: a backup holds a lock that names
// the snapshot it saved, with no audit record yet, and refreshes the lock
// (a new lock file, then the old removed) between check's listing of the
// locks and its reading of them, as a copy does with each snapshot it
// saves. check finds the old file gone; the lock still names the
// snapshot, in the new file, so check finds nothing wrong (failed before:
// check took the old file for a lock released and reported the snapshot
// as one no audit record names).
func TestCheckCountsLockRefreshedWhileRead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	holder := f.open(t)
	if _, err := audit.New(f.be, holder.Key()).Append(ctx, &audit.Record{
		Time: time.Now().Add(-time.Hour), Host: "db1", Command: "init", Args: []string{"init"}, Result: audit.Result{OK: true},
	}); err != nil {
		t.Fatal(err)
	}
	lock, err := holder.Lock(ctx, false, "backup")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Unlock(ctx) }()
	save := func(host string) pack.ID {
		t.Helper()
		sn := &repo.Snapshot{Time: time.Now(), Host: host, Source: "files", Paths: []string{"/srv"}, Tree: f.root1}
		if err := holder.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}
	saved := save("db1")

	var refreshed pack.ID
	be := &onFirstLockLoad{Storage: f.be, hook: func() { refreshed = save("db2") }}
	r, err := repo.Open(ctx, be, password, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Check(ctx, r, verify.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.IsNull() {
		t.Fatal("check read no lock file")
	}
	for _, fd := range rep.Findings {
		t.Errorf("snapshot %s saved under a lock refreshed while check read it: %v", saved.Short(), fd)
	}
}
