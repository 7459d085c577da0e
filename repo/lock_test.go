package repo_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/repo"
	"strata/repo/repotest"
)

func TestLocks(t *testing.T) {
	r, be := repotest.New(t)
	shared, err := r.Lock(ctx, false, "backup")
	if err != nil {
		t.Fatal(err)
	}
	other := repotest.Reopen(t, be)
	second, err := other.Lock(ctx, false, "check")
	if err != nil {
		t.Fatalf("two shared locks conflict: %v", err)
	}
	if _, err := other.Lock(ctx, true, "prune"); !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("exclusive lock beside shared ones: err = %v, want ErrLocked", err)
	} else if !strings.Contains(err.Error(), "PID") {
		t.Errorf("lock error does not name the holder: %v", err)
	}
	if err := shared.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	ex, err := other.Lock(ctx, true, "prune")
	if err != nil {
		t.Fatalf("exclusive lock on a free repository: %v", err)
	}
	if _, err := r.Lock(ctx, false, "backup"); !errors.Is(err, repo.ErrLocked) {
		t.Errorf("shared lock beside an exclusive one: err = %v", err)
	}
	if err := ex.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if locks, _ := r.Locks(ctx); len(locks) != 0 {
		t.Errorf("%d locks left after unlocking", len(locks))
	}
}

func TestStaleLocksAreRemoved(t *testing.T) {
	tests := []struct {
		name  string
		setup func(o *repo.Options)
	}{
		{"lease expired", func(o *repo.Options) {
			o.Now = func() time.Time { return time.Now().Add(-time.Hour) }
			o.LockLease = time.Minute
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be := repotest.New(t)
			opts := repotest.Options(t)
			tt.setup(&opts)
			old, err := repo.Open(ctx, be, repotest.Password, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := old.Lock(ctx, true, "prune"); err != nil {
				t.Fatal(err)
			}
			var notices []string
			o2 := repotest.Options(t)
			o2.Notify = func(m string) { notices = append(notices, m) }
			r, err := repo.Open(ctx, be, repotest.Password, o2)
			if err != nil {
				t.Fatal(err)
			}
			l, err := r.Lock(ctx, true, "prune")
			if err != nil {
				t.Fatalf("stale lock blocks: %v", err)
			}
			if len(notices) == 0 || !strings.Contains(notices[0], "removed stale") {
				t.Errorf("no notice about removing the stale lock: %q", notices)
			}
			locks, err := r.Locks(ctx)
			if err != nil || len(locks) != 1 || locks[0].Command != "prune" || locks[0].Time.Before(time.Now().Add(-time.Minute)) {
				t.Errorf("locks after taking one beside a stale one: %+v (%v), want only the new one", locks, err)
			}
			_ = l.Unlock(ctx)
		})
	}
}

func TestLockOfDeadProcessIsStale(t *testing.T) {
	_, be := repotest.New(t)
	r := repotest.Reopen(t, be)
	l, err := r.Lock(ctx, true, "prune")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	// Pretend the lock belongs to a process that has exited: find an
	// unused PID on this host.
	pid := os.Getpid() + 100000
	if err := repo.RewriteLockPIDForTest(ctx, r, l, pid); err != nil {
		t.Fatal(err)
	}
	other := repotest.Reopen(t, be)
	l2, err := other.Lock(ctx, true, "prune")
	if err != nil {
		t.Fatalf("lock of a dead process blocks: %v", err)
	}
	// Ignored, not removed: a host of the same name in another PID
	// namespace might still run that process.
	locks, err := other.Locks(ctx)
	if err != nil || !slices.ContainsFunc(locks, func(l repo.LockInfo) bool { return l.PID == pid }) {
		t.Errorf("the dead process's lock was removed: %+v (%v)", locks, err)
	}
	_ = l2.Unlock(ctx)
}
