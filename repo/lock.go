package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"strings"
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
	// BootID (Linux: /proc/sys/kernel/random/boot_id) and PIDNamespace
	// (the link /proc/self/ns/pid) say in which boot of Hostname, and in
	// which PID namespace, PID ran; empty where not known (older locks,
	// other systems). With them a reader on the same host can tell for
	// certain that the holder is gone.
	BootID       string `json:"boot_id,omitempty"`
	PIDNamespace string `json:"pid_ns,omitempty"`
	// Saving are the snapshot files the holder saves or saved under this
	// lock, named before each is saved (at most MaxLockSaving), so that
	// a holder killed before its command's audit record leaves a lock
	// that accounts for them; the recorded command that removes the
	// stale lock records them (docs/design.md, "Locks").
	Saving []pack.ID `json:"saving,omitempty"`

	ID pack.ID `json:"-"`
	// unreadable marks a lock file that could not be read: only ID is set.
	unreadable bool
}

// MaxClockSkew is how far the clock of another host may be off this
// one's without its live lock looking stale: a lock counts until its lease
// has run out by more than this.
const MaxClockSkew = 30 * time.Minute

// Bounds of a lock's lease. A lock file with a lease outside them is
// unreadable; Lock refuses to write one.
const (
	MinLockLease = time.Second
	MaxLockLease = 24 * time.Hour
)

func (l LockInfo) String() string {
	if l.unreadable {
		return "unreadable lock " + l.ID.Short()
	}
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

// DecodeLock parses the JSON of a lock file. A lease that is not a number
// of seconds within [MinLockLease, MaxLockLease] is an error: it would
// overflow a duration, or make a lock that never counts or never ends.
func DecodeLock(plain []byte) (LockInfo, error) {
	var l LockInfo
	if err := json.Unmarshal(plain, &l); err != nil {
		return l, err
	}
	if math.IsNaN(l.Lease) || l.Lease < MinLockLease.Seconds() || l.Lease > MaxLockLease.Seconds() {
		return l, fmt.Errorf("lease of %g seconds is outside %v to %v", l.Lease, MinLockLease, MaxLockLease)
	}
	if l.Time.IsZero() {
		return l, errors.New("no time")
	}
	return l, nil
}

// lease is the lock's lease as a duration; l must come from DecodeLock.
func (l LockInfo) lease() time.Duration {
	return time.Duration(l.Lease * float64(time.Second))
}

// processHost is where a process runs: the host's name, its boot and
// the PID namespace (see LockInfo).
type processHost struct {
	hostname, bootID, pidNS string
}

// thisHost is where this process runs.
func thisHost() processHost {
	h := processHost{}
	h.hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		h.bootID = strings.TrimSpace(string(b))
	}
	h.pidNS, _ = os.Readlink("/proc/self/ns/pid")
	return h
}

// sameProcessSpace reports whether l's PID names a process of h's boot
// and PID namespace, so that its absence here proves the holder gone.
func (l LockInfo) sameProcessSpace(h processHost) bool {
	return l.Hostname == h.hostname && l.BootID != "" && l.BootID == h.bootID && l.PIDNamespace != "" && l.PIDNamespace == h.pidNS
}

// staleReason says why a lock no longer counts, or "" if it does, and
// whether the lock may be removed. By time, a lock counts until its lease
// has run out by more than MaxClockSkew as this host's clock sees it: the
// holder's clock, which wrote the time, may be that far behind; such a
// lock is removed. A lock taken on this host counts only while its
// process runs; it is removed when the lock names this boot and PID
// namespace (the process is certainly gone), and only ignored when it
// does not: a host of the same name in another PID namespace could still
// run it.
func (l LockInfo) staleReason(now time.Time, h processHost) (reason string, remove bool) {
	expired := l.Time.Add(l.lease())
	if now.After(expired.Add(MaxClockSkew)) {
		return fmt.Sprintf("its lease expired at %s, more than %v ago", expired.Local().Format("2006-01-02 15:04:05"), MaxClockSkew), true
	}
	if l.Hostname == h.hostname && l.PID > 0 && !processExists(l.PID) {
		if l.sameProcessSpace(h) {
			return fmt.Sprintf("process %d is gone from this host", l.PID), true
		}
		return fmt.Sprintf("process %d is gone", l.PID), false
	}
	return "", false
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Lock takes a shared lock (backup, restore, check) or an exclusive one
// (prune). Stale locks are removed with a notice (those of a process gone
// from this host only when they name its boot and PID namespace; the
// others are ignored with a notice: see staleReason). It fails with
// ErrLocked, naming the holder, when a live lock conflicts.
//
// An index must be loaded after the lock is taken: one loaded before may
// list packs that a prune, holding the exclusive lock meanwhile, deleted.
// So when this handle's index was loaded without a lock, or while a lock
// was held that was released since, Lock loads it again once the lock is
// held.
//
// The lock is refreshed in the background until Unlock. When it is lost
// (see Lock.Context), every later write or removal through r fails with
// ErrLockLost.
func (r *Repository) Lock(ctx context.Context, exclusive bool, command string) (*Lock, error) {
	lease := r.opts.LockLease
	if lease < MinLockLease || lease > MaxLockLease {
		return nil, fmt.Errorf("lock lease %v: want %v to %v", lease, MinLockLease, MaxLockLease)
	}
	host := thisHost()
	info := LockInfo{
		Time: r.opts.Now(), Lease: lease.Seconds(), Exclusive: exclusive,
		Hostname: host.hostname, PID: os.Getpid(), Command: command,
		BootID: host.bootID, PIDNamespace: host.pidNS,
	}
	if u, err := user.Current(); err == nil {
		info.Username = u.Username
	}
	if _, err := r.checkLockConflicts(ctx, exclusive, pack.ID{}); err != nil {
		return nil, err
	}
	id, err := r.saveLock(ctx, info)
	if err != nil {
		return nil, err
	}
	// Another process may have written its lock while we wrote ours; look
	// again now that ours is visible to it.
	adopt, err := r.checkLockConflicts(ctx, exclusive, id)
	if err != nil {
		_ = r.be.Remove(ctx, lockHandle(id))
		return nil, err
	}
	l := r.hold(ctx, info, id)
	r.adoptStaleLocks(ctx, l, adopt)
	r.mu.Lock()
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

func lockHandle(id pack.ID) backend.Handle {
	return backend.Handle{Type: backend.LockFile, Name: id.String()}
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

// checkLockConflicts fails with ErrLocked when a live lock conflicts,
// and removes the stale locks it may (removeStaleLock) but those that
// name snapshots and that r would record: it returns these, for
// adoptStaleLocks once r holds its lock.
func (r *Repository) checkLockConflicts(ctx context.Context, exclusive bool, own pack.ID) (adopt []staleLock, err error) {
	locks, err := r.Locks(ctx)
	if err != nil {
		return nil, err
	}
	host := thisHost()
	for _, l := range locks {
		if l.ID == own || r.lingers(l.ID) {
			continue
		}
		if reason, remove := l.staleReason(r.opts.Now(), host); reason != "" {
			if remove && len(l.Saving) > 0 && r.recordsStaleLocks() {
				adopt = append(adopt, staleLock{l, reason})
				continue
			}
			r.removeStaleLock(ctx, l, reason, remove)
			continue
		}
		if exclusive || l.Exclusive {
			return nil, fmt.Errorf("%w: %v; wait for it to finish, or run `strata unlock` if it is stale", ErrLocked, l)
		}
	}
	return adopt, nil
}

// staleLock is a stale lock and why it is stale (staleReason).
type staleLock struct {
	info   LockInfo
	reason string
}

// removeStaleLock deletes a stale lock (staleReason says which may be
// deleted), so that locks do not outlive their holders, and says so once.
// The others (a process this host no longer runs, in a boot or PID
// namespace the lock does not name) are only ignored: a host of the same
// name in another PID namespace could still run it, and deleting a live
// lock would let other hosts in too. A stale lock that cannot be removed
// is ignored as well.
func (r *Repository) removeStaleLock(ctx context.Context, l LockInfo, reason string, remove bool) {
	if !r.firstNotice(l.ID) {
		return
	}
	if !remove {
		r.Notify("ignoring stale %v: %s (`strata unlock` removes it)", l, reason)
		return
	}
	if len(l.Saving) > 0 && !r.recordsStaleLocks() {
		r.Notify("ignoring stale %v: %s; it names %d snapshot(s) its command may have saved without an audit record, "+
			"which the next command that records the audit trail (backup, check, `strata unlock`) records when it removes it", l, reason, len(l.Saving))
		return
	}
	err := r.be.Remove(ctx, lockHandle(l.ID))
	switch {
	case err == nil || errors.Is(err, backend.ErrNotExist):
		r.removedSaving(l)
		r.Notify("removed stale %v: %s", l, reason)
	default:
		r.Notify("ignoring stale %v: %s (removing it failed: %v; `strata unlock` removes it)", l, reason, err)
	}
}

// Locks lists every lock file. Unreadable lock files are skipped with a
// notice; they cannot be trusted to block anyone.
func (r *Repository) Locks(ctx context.Context) ([]LockInfo, error) {
	locks, _, err := r.readLocks(ctx)
	return locks, err
}

// readLocks returns the readable locks, and the IDs of the lock files
// that cannot be read (damaged, too large, or with a lease out of bounds).
func (r *Repository) readLocks(ctx context.Context) (locks []LockInfo, unreadable []pack.ID, err error) {
	type file struct {
		id   pack.ID
		size int64
	}
	var files []file
	err = r.be.List(ctx, backend.LockFile, func(fi backend.FileInfo) error {
		if id, err := pack.ParseID(fi.Handle.Name); err == nil {
			files = append(files, file{id, fi.Size})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", backend.LockFile, err)
	}
	for _, f := range files {
		id := f.id
		info, err := r.readLock(ctx, id, f.size)
		if errors.Is(err, backend.ErrNotExist) {
			continue // removed while we listed
		}
		if err != nil {
			if r.firstNotice(id) {
				r.Notify("ignoring unreadable lock %s: %v (`strata unlock` removes it)", id.Short(), err)
			}
			unreadable = append(unreadable, id)
			continue
		}
		locks = append(locks, info)
	}
	return locks, unreadable, nil
}

func (r *Repository) readLock(ctx context.Context, id pack.ID, size int64) (LockInfo, error) {
	if size > MaxLockFileSize {
		return LockInfo{}, fmt.Errorf("%v: %w: %d bytes, more than any lock file holds", lockHandle(id), ErrDamaged, size)
	}
	plain, err := r.LoadFile(ctx, backend.LockFile, id)
	if err != nil {
		return LockInfo{}, err
	}
	info, err := DecodeLock(plain)
	info.ID = id
	return info, err
}

// RemoveLocks deletes stale locks, or every lock when all is set, and
// returns what it removed. Unreadable lock files are deleted too: they
// exclude no one (Lock ignores them), and would otherwise stay forever.
func (r *Repository) RemoveLocks(ctx context.Context, all bool) ([]LockInfo, error) {
	locks, unreadable, err := r.readLocks(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range unreadable {
		locks = append(locks, LockInfo{ID: id, unreadable: true})
	}
	host := thisHost()
	var removed []LockInfo
	for _, l := range locks {
		if reason, _ := l.staleReason(r.opts.Now(), host); !all && !l.unreadable && reason == "" {
			continue
		}
		err := r.be.Remove(ctx, lockHandle(l.ID))
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return removed, fmt.Errorf("removing lock %s: %w", l.ID.Short(), err)
		}
		r.removedSaving(l)
		removed = append(removed, l)
	}
	return removed, nil
}

// firstNotice reports whether the lock file id is mentioned for the first
// time by this handle: a notice about it is given once.
func (r *Repository) firstNotice(id pack.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.staleNoticed[id]
	r.staleNoticed[id] = true
	return !seen
}
