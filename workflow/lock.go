package workflow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/backend"
)

// IndexMode says how WithLock loads the index once the lock is held.
type IndexMode int

const (
	// NoIndex: the workflow loads the index itself (prune, check), does
	// not need it (forget), or cannot trust it (repair). With a shared
	// lock it is a dry run and only reads.
	NoIndex IndexMode = iota
	// StrictIndex: a damaged index file is an error (backup).
	StrictIndex
	// ReaderIndex: a damaged index file is skipped with a warning and the
	// headers of the packs no other index file names stand in for it
	// (repo.LoadIndexForReading); for workflows that only read.
	ReaderIndex
	// WriterNoIndex: a workflow that writes files other than packs, index
	// and snapshots (keys, policy, protect files) and needs no index.
	WriterNoIndex
)

// LockOptions are the caller's say in how a workflow takes its lock.
type LockOptions struct {
	// RetryLock is how long to wait while another process holds a
	// conflicting lock, looking again every LockRetryInterval; 0 fails at
	// once with an error wrapping repo.ErrLocked.
	RetryLock time.Duration
	// RetryLockFrom names what set RetryLock in the error of a wait that
	// gave up ("--retry-lock" when empty).
	RetryLockFrom string
	// NoLock takes no lock; only for workflows that only read.
	NoLock bool
	// OnLockLost, when set, is called when the lock is lost while the
	// workflow runs (its context is cancelled with the same cause).
	OnLockLost func(error)
	// Observe, when set, is called once the workflow has run (whether or
	// not it succeeded, unless its context ended) while the lock is still
	// held: to read the repository's state for metrics.
	Observe func(ctx context.Context, r *repo.Repository)
	// StepAside, when set, is told when the workflow has to wait for
	// another process's lock, and before each later attempt: a daemon
	// lets its other jobs use the repository while this one only waits
	// (docs/design.md, "The daemon").
	StepAside StepAside
}

// StepAside is what a workflow that waits for a lock gives up meanwhile.
type StepAside interface {
	// Release is called when an attempt found the lock busy and the
	// workflow waits before the next.
	Release()
	// Reclaim is called before the next attempt and returns once the
	// workflow may make it, or with an error (ctx ended) that ends the
	// wait.
	Reclaim(ctx context.Context) error
}

// LockRequest says how a workflow holds the repository while it runs.
type LockRequest struct {
	LockOptions
	// Command names the workflow in the lock file ("backup", "prune").
	Command string
	// Exclusive takes the exclusive lock; otherwise a shared one.
	Exclusive bool
	// Index is how the index is loaded under the lock.
	Index IndexMode
	// Removes are the folders the workflow removes files from when it
	// writes. Before it takes the lock, WithLock checks that the storage
	// lets it (append-only credentials do not: an error wrapping
	// backend.ErrAppendOnly), so that it refuses before it changes
	// anything.
	Removes []backend.FileType
	// Logger receives notices and steps; nil discards them.
	Logger *slog.Logger
}

// LockRetryInterval is how often a workflow waiting for a lock looks at
// the locks again.
const LockRetryInterval = 5 * time.Second

// indexUploadedTimeout bounds the index write after an interrupt: the
// user is waiting for strata to stop.
const indexUploadedTimeout = time.Minute

// reader reports whether the workflow only reads the repository: every
// shared lock without the index is a dry run (forget, prune, repair).
func (req LockRequest) reader() bool {
	return req.Index == ReaderIndex || req.Index == NoIndex && !req.Exclusive
}

// Writes reports whether the workflow may write to the repository: all
// but readers (ReaderIndex) and dry runs (NoIndex with a shared lock).
func (req LockRequest) Writes() bool { return !req.reader() }

// NoLockError is the error of a workflow that writes to the repository
// when asked to take no lock: without its lock it could corrupt what
// another process does.
func NoLockError(command string) error {
	return fmt.Errorf("--no-lock is only for commands that only read the repository (snapshots, ls, dump, restore, stats, "+
		"check, cat, find, verify drill, key list, policy show, and the --dry-run of forget, prune and repair); %s writes to it and needs its lock", command)
}

// CheckNoLock fails a request that writes without a lock (NoLockError).
func (req LockRequest) CheckNoLock() error {
	if req.NoLock && !req.reader() {
		return NoLockError(req.Command)
	}
	return nil
}

// WithLock takes the lock req asks for on r, loads the index as it says
// and runs fn. The index is loaded only once the lock is held: loaded
// before, it could list packs that a prune holding the exclusive lock
// meanwhile deleted, and a backup would then skip blobs it must store.
//
// When the lock is lost, fn's context is cancelled with an error wrapping
// repo.ErrLockLost, which WithLock returns. When fn fails because ctx was
// cancelled (an interrupt), the packs it finished uploading are indexed
// so that the next backup reuses them. After an exclusive workflow
// succeeds the journal is compacted.
func WithLock(ctx context.Context, r *repo.Repository, req LockRequest, fn func(ctx context.Context, r *repo.Repository) error) (err error) {
	log := logger(req.Logger)
	if err := req.CheckNoLock(); err != nil {
		return err
	}
	if len(req.Removes) > 0 && req.Writes() {
		if err := r.CheckCanDelete(ctx, req.Command, req.Removes...); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lost := func(err error) {
		cancel(err)
		if req.OnLockLost != nil {
			req.OnLockLost(err)
		}
	}
	if req.reader() {
		unlock, err := readLock(ctx, r, req, lost)
		if err != nil {
			return err
		}
		defer unlock()
	} else {
		lock, err := takeLock(ctx, r, req, lost)
		if errors.Is(err, backend.ErrFull) && freesSpace(req.Command) {
			lock, err = lockFromReserve(ctx, r, req, lost)
		}
		if err != nil {
			return err
		}
		defer func() {
			if uerr := lock.Unlock(context.WithoutCancel(ctx)); uerr != nil && err == nil {
				err = uerr
			}
		}()
		if !freesSpace(req.Command) {
			if err := r.KeepReserve(ctx); err != nil {
				log.Warn(fmt.Sprintf("no space kept in reserve for a full disk: %v", err))
			}
		}
	}
	if req.Index != NoIndex {
		// A damaged snapshot file must not stop the others from being
		// listed and restored; forget, prune and repair (NoIndex) stay
		// strict, since a snapshot they cannot read still needs its data.
		r.SkipDamagedSnapshots()
	}
	log.Debug(fmt.Sprintf("%s lock taken for %s", map[bool]string{true: "exclusive", false: "shared"}[req.Exclusive], req.Command))
	switch req.Index {
	case StrictIndex:
		if err := r.LoadIndex(ctx); err != nil {
			return err
		}
	case ReaderIndex:
		dmg, err := r.LoadIndexForReading(ctx)
		WarnIndexDamage(log, dmg)
		if err != nil {
			return err
		}
	}
	if req.Index == StrictIndex || req.Index == ReaderIndex {
		log.Debug(fmt.Sprintf("loaded the index: %s", progress.Counted(r.Index().Len(), "blob")))
	}
	err = fn(ctx, r)
	if req.Observe != nil && ctx.Err() == nil {
		req.Observe(ctx, r)
	}
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, repo.ErrLockLost) {
		if !errors.Is(err, repo.ErrLockLost) {
			err = cause
		}
	} else if err != nil && ctx.Err() != nil {
		indexUploaded(ctx, r, log)
	}
	if err == nil && req.Exclusive {
		compactJournal(ctx, r, req.Command, log)
	}
	return err
}

// ReadLock takes the shared lock of a workflow that only reads (see
// WithLock for what it does on read-only storage or a full disk), and
// returns what releases it. When the lock is lost, req.OnLockLost is
// called.
func ReadLock(ctx context.Context, r *repo.Repository, req LockRequest) (unlock func(), err error) {
	return readLock(ctx, r, req, func(err error) {
		if req.OnLockLost != nil {
			req.OnLockLost(err)
		}
	})
}

// WarnIndexDamage tells log, at slog.LevelError, which damaged index
// files a reader skipped and what it did instead.
func WarnIndexDamage(log *slog.Logger, dmg *repo.IndexDamage) {
	if dmg == nil {
		return
	}
	for _, f := range dmg.Files {
		log.Error(fmt.Sprintf("skipping damaged index file index/%s: %v", f.File, f.Err))
	}
	log.Error(fmt.Sprintf("read the headers of %s that no readable index file names instead; "+
		"`strata check` reports the damage and `strata repair index` rebuilds the index", progress.Counted(dmg.PacksRead, "pack")))
	for _, u := range dmg.Unreadable {
		log.Error(fmt.Sprintf("%v; its blobs are not available", u))
	}
}

// indexUploaded writes an index of the packs an interrupted workflow
// finished uploading, so the next backup reuses them instead of storing
// them again (packs, then index; no snapshot refers to them yet). The
// lock is still held: its refresh does not depend on the cancelled
// context.
func indexUploaded(ctx context.Context, r *repo.Repository, log *slog.Logger) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexUploadedTimeout)
	defer cancel()
	// Packs still uploading in the background are indexed too, or fail
	// on the cancelled context.
	_ = r.WaitUploads(ictx)
	if err := r.SaveIndex(ictx); err != nil {
		log.Error(fmt.Sprintf("indexing the packs uploaded before the interrupt: %v (prune removes them)", err))
	}
}

// compactJournal compacts the journal after a workflow that held the
// exclusive lock succeeded (forget, prune, the repairs, key remove and
// passwd, tag): one base file then stands for the many it wrote, and a
// repository made before the journal gets one (docs/design.md, "The
// journal"). repair index records the index files it replaced that were
// already gone; repair journal compacts on its own. A failure is a
// notice: the workflow did what it was asked, and check reports what the
// journal lacks.
func compactJournal(ctx context.Context, r *repo.Repository, command string, log *slog.Logger) {
	opts := repo.CompactOptions{}
	switch command {
	case "repair journal":
		return
	case "repair index":
		opts.AcceptLoss = []backend.FileType{backend.IndexFile}
	}
	res, err := r.CompactJournal(ctx, opts)
	switch {
	case err != nil:
		log.Warn(fmt.Sprintf("compacting the journal: %v", err))
	case res.Skipped != "":
		log.Warn("the journal was not compacted: " + res.Skipped)
	default:
		log.Debug(fmt.Sprintf("journal compacted into %s: %d older files replaced, %d files recorded that were not",
			res.Base[:16], res.Replaced, len(res.Adopted)))
	}
}

// freesSpace reports whether a workflow frees space: on a full disk it
// may use the reserve, which the others keep (docs/design.md, "A full
// disk"). Prune writes the reserve again when it is done.
func freesSpace(command string) bool { return command == "forget" || command == "prune" }

// lockFromReserve releases the reserve of a full disk and takes the lock
// in the room it leaves.
func lockFromReserve(ctx context.Context, r *repo.Repository, req LockRequest, lost func(error)) (*repo.Lock, error) {
	n, err := r.ReleaseReserve(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w, and the space kept in reserve for this is used up: delete other files on that disk, or move the repository",
			backend.ErrFull)
	}
	logger(req.Logger).Warn(fmt.Sprintf("the disk is full: released the %s kept in reserve so that %s can run", progress.Bytes(uint64(n)), req.Command))
	return takeLock(ctx, r, req, lost)
}

// readLock takes the shared lock of a workflow that only reads, and
// returns what releases it. With NoLock it takes none; and when the
// storage refuses the lock file as read-only, it goes on without one,
// with a notice: nothing can write to such storage, so nothing can change
// under the reader either, unless another host writes through another
// mount. So it does, with a notice, when the disk is full (ENOSPC,
// EDQUOT): the user must be able to list snapshots to follow the advice
// "strata forget, then strata prune".
func readLock(ctx context.Context, r *repo.Repository, req LockRequest, lost func(error)) (func(), error) {
	if req.NoLock {
		return func() {}, nil
	}
	log := logger(req.Logger)
	lock, err := takeLock(ctx, r, req, lost)
	if errors.Is(err, backend.ErrReadOnly) || errors.Is(err, backend.ErrFull) {
		var cause error = err
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			cause = pe.Err
		}
		if errors.Is(err, backend.ErrFull) {
			log.Warn(fmt.Sprintf("the disk of the repository is full, there is no room for the lock file (%v): reading without a lock, as --no-lock does", cause))
		} else {
			log.Warn(fmt.Sprintf("the repository's storage refuses the lock file (%v): reading without a lock, as --no-lock does", cause))
		}
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	return func() {
		if err := lock.Unlock(context.WithoutCancel(ctx)); err != nil {
			log.Warn(err.Error())
		}
	}, nil
}

// takeLock takes a lock, retrying for req.RetryLock while another process
// holds a conflicting one. When the lock is lost, lost is called with the
// reason.
func takeLock(ctx context.Context, r *repo.Repository, req LockRequest, lost func(error)) (*repo.Lock, error) {
	deadline := time.Now().Add(req.RetryLock)
	waiting := false
	for {
		lock, err := r.Lock(ctx, req.Exclusive, req.Command)
		if err == nil {
			context.AfterFunc(lock.Context(), func() {
				if err := lock.Err(); err != nil {
					lost(err)
				}
			})
			return lock, nil
		}
		giveUp := func(err error) error {
			from := req.RetryLockFrom
			if from == "" {
				from = "--retry-lock"
			}
			return fmt.Errorf("%w (gave up after %s %v)", err, from, req.RetryLock)
		}
		if !errors.Is(err, repo.ErrLocked) || time.Now().After(deadline) {
			if waiting {
				err = giveUp(err)
			}
			return nil, err
		}
		if !waiting {
			msg := fmt.Sprintf("%v; waiting up to %v", err, req.RetryLock)
			if req.StepAside != nil {
				msg += ", stepping aside meanwhile so that the repository's other jobs run"
			}
			logger(req.Logger).Info(msg)
			waiting = true
		}
		if req.StepAside != nil {
			req.StepAside.Release()
		}
		wait := min(LockRetryInterval, time.Until(deadline)+time.Millisecond)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if req.StepAside != nil {
			// The turn may take long to come back (another job of the
			// daemon runs): the wait still ends at the deadline.
			rctx, cancel := context.WithDeadline(ctx, deadline)
			rerr := req.StepAside.Reclaim(rctx)
			cancel()
			if rerr != nil {
				if ctx.Err() == nil && errors.Is(rerr, context.DeadlineExceeded) {
					return nil, giveUp(err)
				}
				return nil, rerr
			}
		}
	}
}
