package objectlock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/prune"
)

// ErrNotLocked: the repository is not under object lock.
var ErrNotLocked = errors.New("the repository is not under object lock (strata init --object-lock makes one that is)")

// Needs returns the files the snapshots sns need, sorted by path: their
// snapshot files, every pack holding a copy of one of their blobs (delta
// bases included), the index files in force, the key files and the
// config. The index must be loaded.
func Needs(ctx context.Context, r *repo.Repository, sns []*repo.Snapshot) ([]backend.Handle, error) {
	used, err := prune.MarkUsed(ctx, r, sns)
	if err != nil {
		return nil, err
	}
	packs := map[pack.ID]bool{}
	r.Index().Each(func(id pack.ID, loc index.Location) bool {
		if used.Has(id) {
			packs[loc.Pack] = true
		}
		return true
	})
	hs := []backend.Handle{{Type: backend.ConfigFile}}
	keys, err := r.List(ctx, backend.KeyFile)
	if err != nil {
		return nil, err
	}
	for _, id := range keys {
		hs = append(hs, backend.Handle{Type: backend.KeyFile, Name: id.String()})
	}
	for _, id := range r.IndexFiles() {
		hs = append(hs, backend.Handle{Type: backend.IndexFile, Name: id.String()})
	}
	for _, sn := range sns {
		hs = append(hs, backend.Handle{Type: backend.SnapshotFile, Name: sn.ID.String()})
	}
	for id := range packs {
		hs = append(hs, backend.Handle{Type: backend.PackFile, Name: id.String()})
	}
	slices.SortFunc(hs, func(a, b backend.Handle) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(hs), nil
}

// Options tune ExtendLocks and Hold.
type Options struct {
	// Workers is how many files are asked about at once; 0 means 8.
	Workers int
	// Progress receives one line per phase; nil discards them.
	Progress func(msg string)
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return o
}

// ExtendReport says what ExtendLocks did.
type ExtendReport struct {
	Snapshots int       `json:"snapshots"`
	Mode      string    `json:"mode"`
	Until     time.Time `json:"until"` // the date every needed file is now kept to, at least
	Files     int       `json:"files"` // the files the snapshots need
	Extended  int       `json:"extended"`
	// Unchanged are the files already kept to Until or later (a second
	// run on the same day extends none).
	Unchanged int `json:"unchanged"`
	// ByType counts the extended files by folder (data, index,
	// snapshots, keys, config).
	ByType map[backend.FileType]int `json:"by_type"`
}

// ExtendLocks renews the retention of every file a snapshot of r needs to
// the repository's lock days from now, rounded up to the next midnight
// UTC, so that runs on one day set one date and a second run changes
// nothing. A retention is never shortened. The caller holds a lock
// (shared is enough: a backup writes its own files with a retention) and
// loaded the index.
func ExtendLocks(ctx context.Context, r *repo.Repository, opts Options) (*ExtendReport, error) {
	opts = opts.withDefaults()
	lock := r.ObjectLock()
	if lock == nil {
		return nil, ErrNotLocked
	}
	l := r.Locker()
	if l == nil {
		return nil, fmt.Errorf("extend-locks: %w", backend.ErrNoObjectLock)
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, fmt.Errorf("extend-locks: %w", err)
	}
	opts.Progress(fmt.Sprintf("finding the files %d snapshots need", len(sns)))
	hs, err := Needs(ctx, r, sns)
	if err != nil {
		return nil, fmt.Errorf("extend-locks: %w", err)
	}
	target := lock.Retention(r.Now())
	target.Until = target.Until.Truncate(24 * time.Hour).Add(24 * time.Hour)
	rep := &ExtendReport{Snapshots: len(sns), Mode: lock.Mode, Until: target.Until, Files: len(hs), ByType: map[backend.FileType]int{}}
	opts.Progress(fmt.Sprintf("extending the retention of %d files to %s", len(hs), target.Until.Format(time.RFC3339)))
	var mu sync.Mutex
	err = forEach(ctx, hs, opts.Workers, func(ctx context.Context, h backend.Handle) error {
		moved, err := l.ExtendRetention(ctx, h, target)
		if errors.Is(err, backend.ErrNotExist) && h.Type == backend.PackFile {
			return fmt.Errorf("%v, which a snapshot needs, is missing: %w; run strata check", h, err)
		}
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if moved {
			rep.Extended++
			rep.ByType[h.Type]++
		} else {
			rep.Unchanged++
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("extend-locks (%d of %d files extended so far; run it again): %w", rep.Extended, len(hs), err)
	}
	return rep, nil
}

// forEach calls fn for every handle, workers at a time; the first error
// stops it.
func forEach(ctx context.Context, hs []backend.Handle, workers int, fn func(context.Context, backend.Handle) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, h := range hs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, h) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// HoldReport says what Hold did.
type HoldReport struct {
	Held     int `json:"held"`     // files a legal hold was placed on
	Released int `json:"released"` // files whose legal hold was lifted
	// Kept are the files left held because another protected snapshot
	// needs them.
	Kept int `json:"kept"`
}

// Hold places a legal hold on every file snapshot sn needs (on), or lifts
// it (off) from those no snapshot of others needs: others are the other
// snapshots that are protected, whose files stay held. Lifting also lifts
// the hold from superseded index files, which held when they were in
// force, except from those that name a pack one of others needs: index
// files written after a protect (by prune, repair index) hold no hold
// and supersede the held ones only while they exist, so a protected
// snapshot restores from its held files alone only while an index file
// naming its packs stays held (docs/design.md, "Object lock"). The index
// must be loaded.
func Hold(ctx context.Context, r *repo.Repository, sn *repo.Snapshot, on bool, others []*repo.Snapshot, opts Options) (*HoldReport, error) {
	opts = opts.withDefaults()
	l := r.Locker()
	if l == nil {
		return nil, backend.ErrNoObjectLock
	}
	hs, err := Needs(ctx, r, []*repo.Snapshot{sn})
	if err != nil {
		return nil, err
	}
	rep := &HoldReport{}
	if !on {
		keep := map[backend.Handle]bool{}
		if len(others) > 0 {
			kept, err := Needs(ctx, r, others)
			if err != nil {
				return nil, err
			}
			for _, h := range kept {
				keep[h] = true
			}
		}
		all, err := r.List(ctx, backend.IndexFile)
		if err != nil {
			return nil, err
		}
		othersPacks := map[string]bool{}
		for h := range keep {
			if h.Type == backend.PackFile {
				othersPacks[h.Name] = true
			}
		}
		for _, id := range all {
			h := backend.Handle{Type: backend.IndexFile, Name: id.String()}
			hs = append(hs, h)
			if !keep[h] && len(othersPacks) > 0 && namesAnyPack(ctx, r, id, othersPacks) {
				// Held for another protected snapshot when it was in
				// force: once the index files written since are gone,
				// it is what restores that snapshot from its held files.
				keep[h] = true
			}
		}
		slices.SortFunc(hs, func(a, b backend.Handle) int { return strings.Compare(a.String(), b.String()) })
		hs = slices.Compact(hs)
		hs = slices.DeleteFunc(hs, func(h backend.Handle) bool {
			if keep[h] {
				rep.Kept++
			}
			return keep[h]
		})
	}
	var mu sync.Mutex
	err = forEach(ctx, hs, opts.Workers, func(ctx context.Context, h backend.Handle) error {
		if err := l.SetLegalHold(ctx, h, on); err != nil {
			return err
		}
		mu.Lock()
		if on {
			rep.Held++
		} else {
			rep.Released++
		}
		mu.Unlock()
		return nil
	})
	return rep, err
}

// Ending is a file a snapshot needs whose object lock ends before a date:
// no legal hold, and a retention that runs out before it (or none).
type Ending struct {
	Handle backend.Handle
	State  backend.LockState
}

// RetentionsEnding returns, sorted by date, the files the snapshots of r
// need (Needs) whose object lock ends before the date before, and how
// many files they need in all: those strata maintenance extend-locks
// should renew before then. One HEAD per file, opts.Workers at a time.
// The index must be loaded.
func RetentionsEnding(ctx context.Context, r *repo.Repository, before time.Time, opts Options) ([]Ending, int, error) {
	opts = opts.withDefaults()
	l := r.Locker()
	if l == nil {
		return nil, 0, backend.ErrNoObjectLock
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return nil, 0, err
	}
	hs, err := Needs(ctx, r, sns)
	if err != nil {
		return nil, 0, err
	}
	var mu sync.Mutex
	var ending []Ending
	err = forEach(ctx, hs, opts.Workers, func(ctx context.Context, h backend.Handle) error {
		st, err := l.LockState(ctx, h)
		if errors.Is(err, backend.ErrNotExist) {
			return nil // check reports a missing file on its own
		}
		if err != nil {
			return err
		}
		if !st.Locked(before) {
			mu.Lock()
			ending = append(ending, Ending{Handle: h, State: st})
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, len(hs), err
	}
	slices.SortFunc(ending, func(a, b Ending) int {
		if c := a.State.Until.Compare(b.State.Until); c != 0 {
			return c
		}
		return strings.Compare(a.Handle.String(), b.Handle.String())
	})
	return ending, len(hs), nil
}

// namesAnyPack reports whether index file id lists one of packs. A file
// that does not read names none.
func namesAnyPack(ctx context.Context, r *repo.Repository, id pack.ID, packs map[string]bool) bool {
	plain, err := r.LoadFile(ctx, backend.IndexFile, id)
	if err != nil {
		return false
	}
	f, err := index.Decode(plain)
	if err != nil {
		return false
	}
	for _, p := range f.Packs {
		if packs[p.PackID.String()] {
			return true
		}
	}
	return false
}
