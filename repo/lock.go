package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"syscall"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// LockInfo is the sealed JSON of locks/<ID> (docs/design.md, "Locks").
type LockInfo struct {
	Time      time.Time `json:"time"`  // written or last refreshed
	Lease     float64   `json:"lease"` // seconds after Time the lock is valid
	Exclusive bool      `json:"exclusive"`
	Hostname  string    `json:"hostname"`
	Username  string    `json:"username,omitempty"`
	PID       int       `json:"pid"`
	Command   string    `json:"command,omitempty"`

	ID pack.ID `json:"-"`
}

func (l LockInfo) String() string {
	kind := "shared"
	if l.Exclusive {
		kind = "exclusive"
	}
	s := fmt.Sprintf("%s lock %s by PID %d on %s", kind, l.ID.Short(), l.PID, l.Hostname)
	if l.Command != "" {
		s += " (" + l.Command + ")"
	}
	return s + ", refreshed " + l.Time.Local().Format("2006-01-02 15:04:05")
}

// staleReason says why a lock no longer counts, or "" if it does.
func (l LockInfo) staleReason(now time.Time, hostname string) string {
	lease := time.Duration(l.Lease * float64(time.Second))
	if now.After(l.Time.Add(lease)) {
		return fmt.Sprintf("its lease expired at %s", l.Time.Add(lease).Local().Format("2006-01-02 15:04:05"))
	}
	if l.Hostname == hostname && l.PID > 0 && !processExists(l.PID) {
		return fmt.Sprintf("process %d is gone", l.PID)
	}
	return ""
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Lock is a held lock, refreshed in the background until Unlock.
type Lock struct {
	r    *Repository
	info LockInfo

	mu     sync.Mutex
	id     pack.ID
	cancel context.CancelFunc
	done   chan struct{}

	releaseOnce sync.Once
}

// Lock takes a shared lock (backup, restore, check) or an exclusive one
// (prune). Stale locks are ignored with a notice, and removed when their
// lease ran out more than a lease ago. It fails with ErrLocked,
// naming the holder, when a live lock conflicts.
//
// An index must be loaded after the lock is taken: one loaded before may
// list packs that a prune, holding the exclusive lock meanwhile, deleted.
// So when this handle's index was loaded without a lock, or while a lock
// was held that was released since, Lock loads it again once the lock is
// held.
func (r *Repository) Lock(ctx context.Context, exclusive bool, command string) (*Lock, error) {
	host, _ := os.Hostname()
	info := LockInfo{
		Time: r.opts.Now(), Lease: r.opts.LockLease.Seconds(), Exclusive: exclusive,
		Hostname: host, PID: os.Getpid(), Command: command,
	}
	if u, err := user.Current(); err == nil {
		info.Username = u.Username
	}
	if err := r.checkLockConflicts(ctx, exclusive, pack.ID{}); err != nil {
		return nil, err
	}
	id, err := r.saveLock(ctx, info)
	if err != nil {
		return nil, err
	}
	// Another process may have written its lock while we wrote ours; look
	// again now that ours is visible to it.
	if err := r.checkLockConflicts(ctx, exclusive, id); err != nil {
		_ = r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: id.String()})
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &Lock{r: r, info: info, id: id, cancel: cancel, done: make(chan struct{})}
	go l.refreshLoop(lctx)
	r.mu.Lock()
	r.heldLocks++
	reload := r.indexLoaded && !r.indexFresh
	r.mu.Unlock()
	if reload {
		if err := r.LoadIndex(ctx); err != nil {
			_ = l.Unlock(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return l, nil
}

func (r *Repository) saveLock(ctx context.Context, info LockInfo) (pack.ID, error) {
	plain, err := json.Marshal(info)
	if err != nil {
		return pack.ID{}, err
	}
	id, err := r.SaveFile(ctx, backend.LockFile, plain)
	if err != nil {
		return id, fmt.Errorf("writing lock: %w", err)
	}
	return id, nil
}

func (r *Repository) checkLockConflicts(ctx context.Context, exclusive bool, own pack.ID) error {
	locks, err := r.Locks(ctx)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	for _, l := range locks {
		if l.ID == own {
			continue
		}
		if reason := l.staleReason(r.opts.Now(), host); reason != "" {
			r.removeStaleLock(ctx, l, reason)
			continue
		}
		if exclusive || l.Exclusive {
			return fmt.Errorf("%w: %v; wait for it to finish, or run `strata unlock` if it is stale", ErrLocked, l)
		}
	}
	return nil
}

// removeStaleLock deletes a lock whose lease ran out more than a lease
// ago, so that locks do not outlive their holders, and says so once.
// Other stale locks (a process this host no longer runs, or a lease just
// past) are only ignored: a host of the same name in another PID
// namespace, or a clock a little ahead, could be wrong about them, and
// deleting a live lock would let other hosts in too. A stale lock that
// cannot be removed is ignored as well.
func (r *Repository) removeStaleLock(ctx context.Context, l LockInfo, reason string) {
	r.mu.Lock()
	seen := r.staleNoticed[l.ID]
	r.staleNoticed[l.ID] = true
	r.mu.Unlock()
	if seen {
		return
	}
	lease := time.Duration(l.Lease * float64(time.Second))
	if !r.opts.Now().After(l.Time.Add(2 * lease)) {
		r.Notify("ignoring stale %v: %s (`strata unlock` removes it)", l, reason)
		return
	}
	err := r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.ID.String()})
	switch {
	case err == nil || errors.Is(err, backend.ErrNotExist):
		r.Notify("removed stale %v: %s", l, reason)
	default:
		r.Notify("ignoring stale %v: %s (removing it failed: %v; `strata unlock` removes it)", l, reason, err)
	}
}

// Locks lists every lock file. Unreadable lock files are skipped with a
// notice; they cannot be trusted to block anyone.
func (r *Repository) Locks(ctx context.Context) ([]LockInfo, error) {
	ids, err := r.List(ctx, backend.LockFile)
	if err != nil {
		return nil, err
	}
	var locks []LockInfo
	for _, id := range ids {
		plain, err := r.LoadFile(ctx, backend.LockFile, id)
		if errors.Is(err, backend.ErrNotExist) {
			continue // removed while we listed
		}
		var info LockInfo
		if err == nil {
			err = json.Unmarshal(plain, &info)
		}
		if err != nil {
			r.Notify("ignoring unreadable lock %s: %v", id.Short(), err)
			continue
		}
		info.ID = id
		locks = append(locks, info)
	}
	return locks, nil
}

// RemoveLocks deletes stale locks, or every lock when all is set, and
// returns what it removed.
func (r *Repository) RemoveLocks(ctx context.Context, all bool) ([]LockInfo, error) {
	locks, err := r.Locks(ctx)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	var removed []LockInfo
	for _, l := range locks {
		if !all && l.staleReason(r.opts.Now(), host) == "" {
			continue
		}
		err := r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.ID.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return removed, fmt.Errorf("removing lock %s: %w", l.ID.Short(), err)
		}
		removed = append(removed, l)
	}
	return removed, nil
}

// refreshLoop writes a fresh lock file every third of the lease, then
// removes the previous one, so the lock never looks expired while held.
func (l *Lock) refreshLoop(ctx context.Context) {
	defer close(l.done)
	ticker := time.NewTicker(l.r.opts.LockLease / 3)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			info := l.info
			info.Time = l.r.opts.Now()
			id, err := l.r.saveLock(ctx, info)
			if err != nil {
				l.r.Notify("refreshing lock failed: %v", err)
				continue
			}
			l.mu.Lock()
			old := l.id
			l.id = id
			l.mu.Unlock()
			_ = l.r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: old.String()})
		}
	}
}

// Unlock stops refreshing and removes the lock file.
func (l *Lock) Unlock(ctx context.Context) error {
	l.cancel()
	<-l.done
	l.releaseOnce.Do(l.r.released)
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.id.String()})
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("removing lock %s: %w", l.id.Short(), err)
	}
	return nil
}

// released counts a lock of this handle as no longer held. Once it holds
// none, its index is no longer fresh: an exclusive command may run before
// the next lock.
func (r *Repository) released() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heldLocks--
	if r.heldLocks == 0 {
		r.lockEpoch++
		r.indexFresh = false
	}
}
