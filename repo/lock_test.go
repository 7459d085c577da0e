package repo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
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
			o2.Logger = repotest.Notices(func(m string) { notices = append(notices, m) })
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

// TestLockOfDeadProcessIsStale: the lock of a process gone from this host
// counts no more. When it names this boot and PID namespace (every lock
// strata writes now), the next locker removes it with one notice; an
// older lock without them, or one of another PID namespace, is only
// ignored: a host of the same name in another namespace might still run
// that process.
func TestLockOfDeadProcessIsStale(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*repo.LockInfo)
		removed bool
	}{
		{"this boot and namespace", func(*repo.LockInfo) {}, true},
		{"no boot or namespace (older lock)", func(l *repo.LockInfo) { l.BootID, l.PIDNamespace = "", "" }, false},
		{"another PID namespace", func(l *repo.LockInfo) { l.PIDNamespace = "pid:[1]" }, false},
		{"another boot", func(l *repo.LockInfo) { l.BootID = "00000000-0000-0000-0000-000000000000" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be := repotest.New(t)
			r := repotest.Reopen(t, be)
			l, err := r.Lock(ctx, true, "prune")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Unlock(ctx)
			// Pretend the lock belongs to a process that has exited: an
			// unused PID on this host.
			pid := os.Getpid() + 100000
			err = repo.RewriteLockForTest(ctx, r, l, func(info *repo.LockInfo) {
				if info.BootID == "" || info.PIDNamespace == "" {
					t.Skip("this system tells no boot ID or PID namespace")
				}
				info.PID = pid
				tt.edit(info)
			})
			if err != nil {
				t.Fatal(err)
			}
			var notices []string
			o := repotest.Options(t)
			o.Logger = repotest.Notices(func(m string) { notices = append(notices, m) })
			other, err := repo.Open(ctx, be, repotest.Password, o)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				l2, err := other.Lock(ctx, true, "prune")
				if err != nil {
					t.Fatalf("lock of a dead process blocks: %v", err)
				}
				_ = l2.Unlock(ctx)
			}
			locks, err := other.Locks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			left := slices.ContainsFunc(locks, func(l repo.LockInfo) bool { return l.PID == pid })
			want := "ignoring stale"
			if tt.removed {
				want = "removed stale"
			}
			if left == tt.removed || len(notices) != 1 || !strings.HasPrefix(notices[0], want) || !strings.Contains(notices[0], fmt.Sprintf("process %d is gone", pid)) {
				t.Errorf("lock left %v, notices %q; want removed %v with one notice %q", left, notices, tt.removed, want)
			}
		})
	}
}

// skewedClock is this host's clock moved by an offset that a test may
// change while locks refresh.
type skewedClock struct{ offset atomic.Int64 }

func (c *skewedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *skewedClock) add(d time.Duration) { c.offset.Add(int64(d)) }

func openWithClock(t *testing.T, be backend.Storage, clk *skewedClock, lease time.Duration) *repo.Repository {
	t.Helper()
	opts := repotest.Options(t)
	opts.Now, opts.LockLease = clk.Now, lease
	r, err := repo.Open(ctx, be, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLockOfSkewedHostCounts: a live exclusive lock of a host whose clock
// is up to 30 minutes off this one's blocks, even when its lease (15
// minutes) looks long past by this host's clock.
func TestLockOfSkewedHostCounts(t *testing.T) {
	for _, skew := range []time.Duration{-20 * time.Minute, -30 * time.Minute, 30 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			_, be := repotest.New(t)
			clk := &skewedClock{}
			clk.add(skew)
			other := openWithClock(t, be, clk, 15*time.Minute)
			held, err := other.Lock(ctx, true, "prune")
			if err != nil {
				t.Fatal(err)
			}
			defer held.Unlock(ctx)
			r := repotest.Reopen(t, be)
			if l, err := r.Lock(ctx, false, "backup"); !errors.Is(err, repo.ErrLocked) {
				if err == nil {
					_ = l.Unlock(ctx)
				}
				t.Fatalf("the live lock of a host %v off was ignored: err = %v, want ErrLocked", skew, err)
			}
		})
	}
}

// TestDecodeLockRejectsBadLeases: a lease that would overflow a duration,
// or that is not positive, makes the lock file unreadable (ignored with a
// notice), never a panic or a lock that looks expired or eternal.
func TestDecodeLockRejectsBadLeases(t *testing.T) {
	const at = `"time":"2026-01-01T00:00:00Z","exclusive":true,"hostname":"h","pid":1`
	for _, tt := range []struct {
		lease string
		ok    bool
	}{
		{"900", true}, {"1", true}, {"86400", true},
		{"1e300", false}, {"9.3e9", false}, {"86401", false}, {"0", false}, {"-900", false}, {"0.5", false},
	} {
		_, err := repo.DecodeLock([]byte(`{"lease":` + tt.lease + `,` + at + `}`))
		if (err == nil) != tt.ok {
			t.Errorf("lease %s: err = %v, want ok = %v", tt.lease, err, tt.ok)
		}
	}
	if _, err := repo.DecodeLock([]byte(`{"lease":900,"exclusive":true,"hostname":"h","pid":1}`)); err == nil {
		t.Error("a lock without a time decodes")
	}

	r, _ := repotest.New(t)
	if _, err := r.SaveFile(ctx, backend.LockFile, []byte(`{"lease":1e300,`+at+`}`)); err != nil {
		t.Fatal(err)
	}
	var notices []string
	opts := repotest.Options(t)
	opts.Logger = repotest.Notices(func(m string) { notices = append(notices, m) })
	r3, err := repo.Open(ctx, r.Backend(), repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := r3.Lock(ctx, true, "prune")
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Unlock(ctx)
	if len(notices) != 1 || !strings.Contains(notices[0], "ignoring unreadable lock") || !strings.Contains(notices[0], "lease") {
		t.Errorf("notices = %q, want one naming the unreadable lease", notices)
	}
}

// TestLostLockStopsWrites: once a lock's lease ran out without a refresh,
// or its file was removed by another process, the handle saves and
// removes nothing (ErrLockLost) and the lock's context is cancelled with
// that cause. Unlock still succeeds.
func TestLostLockStopsWrites(t *testing.T) {
	tests := []struct {
		name string
		lose func(t *testing.T, be backend.Storage, clk *skewedClock)
		want string
	}{
		{"lease ran out", func(t *testing.T, _ backend.Storage, clk *skewedClock) { clk.add(2 * time.Minute) }, "last refreshed"},
		{"lock file removed", func(t *testing.T, be backend.Storage, _ *skewedClock) {
			if _, err := repotest.Reopen(t, be).RemoveLocks(ctx, true); err != nil {
				t.Fatal(err)
			}
		}, "was removed by another process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be := repotest.New(t)
			clk := &skewedClock{}
			r := openWithClock(t, be, clk, time.Minute)
			lock, err := r.Lock(ctx, false, "backup")
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.SaveBlob(ctx, pack.DataBlob, []byte("stored before the loss"), pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			tt.lose(t, be, clk)
			tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "f", Kind: repo.NodeFile, Content: []pack.ID{res.ID}}}})
			if err == nil {
				err = r.Flush(ctx)
			}
			if err == nil {
				err = r.SaveSnapshot(ctx, &repo.Snapshot{Time: time.Now(), Tree: tree})
			}
			if !errors.Is(err, repo.ErrLockLost) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("writing after the lock was lost: err = %v, want ErrLockLost saying %q", err, tt.want)
			}
			if err := r.Backend().Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: strings.Repeat("0", 64)}); !errors.Is(err, repo.ErrLockLost) {
				t.Errorf("removing after the lock was lost: err = %v, want ErrLockLost", err)
			}
			if cause := context.Cause(lock.Context()); !errors.Is(cause, repo.ErrLockLost) {
				t.Errorf("the lock's context: cause = %v, want ErrLockLost", cause)
			}
			if n := countFiles(t, be, backend.SnapshotFile); n != 0 {
				t.Errorf("%d snapshots written after the lock was lost", n)
			}
			if err := lock.Unlock(ctx); err != nil {
				t.Errorf("unlocking a lost lock: %v", err)
			}
			// The handle works again under a new lock.
			lock, err = r.Lock(ctx, false, "backup")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Errorf("flushing under a new lock: %v", err)
			}
			_ = lock.Unlock(ctx)
		})
	}
}

// TestRefreshNoticesRemovedLock: the refresh loop finds its lock file
// removed and cancels the lock's context without any write of the holder.
func TestRefreshNoticesRemovedLock(t *testing.T) {
	_, be := repotest.New(t)
	r := openWithClock(t, be, &skewedClock{}, 3*time.Second)
	lock, err := r.Lock(ctx, false, "backup")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock(ctx)
	if _, err := repotest.Reopen(t, be).RemoveLocks(ctx, true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lock.Context().Done():
	case <-time.After(time.Minute):
		t.Fatal("the lock's context is not cancelled a minute after its lock file was removed")
	}
	if err := lock.Err(); !errors.Is(err, repo.ErrLockLost) {
		t.Errorf("lock.Err() = %v, want ErrLockLost", err)
	}
	if locks, _ := r.Locks(ctx); len(locks) != 0 {
		t.Errorf("the lost lock was written again: %v", locks)
	}
}
