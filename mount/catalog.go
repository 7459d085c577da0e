package mount

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// catalog is the set of snapshots the mount shows. A view older than
// Options.Refresh lists the snapshot files again (a listing, no reads):
// snapshots removed since disappear, and new ones are read. The index is
// loaded again only when the index files changed, and then under a
// shared lock held just for that (docs/design.md, "Mount"): a lock held
// for the life of the mount would stop every prune.
type catalog struct {
	r    *repo.Repository
	opts Options

	mu         sync.Mutex
	state      *state
	checked    time.Time                  // when the snapshots were last listed
	loaded     map[pack.ID]*repo.Snapshot // by ID
	bad        map[pack.ID]bool           // snapshot files that could not be read, reported once
	indexFiles []pack.ID                  // the index files listed when the index was last loaded
	indexReady bool
	forcedAt   time.Time // the last reload asked for by a read
	lockedBy   string    // the holder of the lock last in the way, reported once
}

// state is one listing of the snapshots, with their names.
type state struct {
	snaps   []*snap // oldest first
	byName  map[string]*snap
	byShort map[string]*snap
	// made is when this listing replaced the last: a view's mtime, by
	// which the kernel drops the listing it keeps (noopendir.go).
	made time.Time
}

// snap is one snapshot as the mount names it.
type snap struct {
	sn    *repo.Snapshot
	name  string // its time in UTC, 2025-06-02T03-00-00Z, with its short ID when another has the same second
	short string // the shortest prefix of its ID of at least 8 hex digits that no other snapshot shares
}

func newCatalog(r *repo.Repository, opts Options) *catalog {
	return &catalog{r: r, opts: opts, loaded: map[pack.ID]*repo.Snapshot{}, bad: map[pack.ID]bool{}}
}

// current returns the snapshots as listed at most Options.Refresh ago.
// When listing fails, it says so and keeps the last listing.
func (c *catalog) current(ctx context.Context) *state {
	c.mu.Lock()
	fresh := c.state != nil && time.Since(c.checked) < c.opts.Refresh
	st := c.state
	c.mu.Unlock()
	if fresh {
		return st
	}
	if err := c.refresh(ctx, false); err != nil {
		c.opts.Logf("listing the snapshots: %v (showing them as they were)", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// timeName is the layout of snapshot names: RFC 3339 in UTC without
// colons, which SMB and Windows refuse in names.
const timeName = "2006-01-02T15-04-05Z"

// refresh lists the snapshots and index files again. With reload (a read
// found a blob missing) it loads the index again even when the index
// files look the same, at most once per Options.Refresh.
func (c *catalog) refresh(ctx context.Context, reload bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reload {
		if time.Since(c.forcedAt) < c.opts.Refresh {
			return nil
		}
		c.forcedAt = time.Now()
	}
	// Snapshots first, then the index: a backup writes its index before
	// its snapshot, so an index loaded after the listing places the data
	// of every snapshot listed.
	ids, err := c.r.List(ctx, backend.SnapshotFile)
	if err != nil {
		return err
	}
	idxFiles, err := c.r.List(ctx, backend.IndexFile)
	if err != nil {
		return err
	}
	newIndex := reload || !c.indexReady || !slices.Equal(idxFiles, c.indexFiles)
	if newIndex {
		unlock, err := c.loadIndex(ctx)
		if err != nil {
			// New snapshots wait for an index that places their data;
			// removed ones still go.
			c.keep(ids, false)
			c.checked = time.Now()
			return err
		}
		defer unlock()
		c.indexFiles = idxFiles
	}
	c.keep(ids, true)
	c.checked = time.Now()
	return nil
}

// loadIndex loads the index under a shared lock, and returns what
// releases the lock. When another process holds the exclusive lock (a
// prune), it fails with repo.ErrLocked and the mount tries again at its
// next listing. Without a lock (Options.NoLock, storage that refuses the
// lock file) the index is loaded all the same: a reader without a lock
// may find files gone, and then fails the read with EIO, never with
// wrong bytes (docs/design.md, "Reading without a lock").
func (c *catalog) loadIndex(ctx context.Context) (func(), error) {
	unlock := func() {}
	if !c.opts.NoLock {
		// Lock loads the index again itself when it was loaded before
		// (under a lock released since); the first time it is ours.
		lock, err := c.r.Lock(ctx, false, "mount")
		switch {
		case err == nil:
			c.lockedBy = ""
			unlock = func() {
				if err := lock.Unlock(context.WithoutCancel(ctx)); err != nil {
					c.opts.Logf("%v", err)
				}
			}
			if c.indexReady {
				c.indexReady = true
				return unlock, nil
			}
		case errors.Is(err, repo.ErrLocked):
			if msg := err.Error(); msg != c.lockedBy {
				c.lockedBy = msg
				c.opts.Logf("%v: new snapshots appear once it is released", err)
			}
			return nil, err
		case errors.Is(err, backend.ErrReadOnly) || errors.Is(err, backend.ErrFull):
			c.opts.Logf("the repository refuses the lock file (%v): reading without a lock, as --no-lock does", err)
			c.opts.NoLock = true
		default:
			// A damaged index file: the lock's own load is strict.
			c.opts.Logf("%v: loading the index without it, skipping damaged index files", err)
		}
	}
	dmg, err := c.r.LoadIndexForReading(ctx)
	if err != nil {
		unlock()
		return nil, err
	}
	if dmg != nil {
		for _, f := range dmg.Files {
			c.opts.Logf("skipping damaged index file index/%s: %v (strata check reports it, strata repair index rebuilds the index)", f.File, f.Err)
		}
	}
	c.indexReady = true
	return unlock, nil
}

// keep makes the catalog the snapshots ids: it drops the others and,
// with addNew, reads those it lacks. A snapshot file that cannot be
// read is skipped with a message, once.
func (c *catalog) keep(ids []pack.ID, addNew bool) {
	listed := make(map[pack.ID]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	changed := c.state == nil
	for id := range c.loaded {
		if !listed[id] {
			delete(c.loaded, id)
			changed = true
		}
	}
	if addNew {
		var todo []pack.ID
		for _, id := range ids {
			if c.loaded[id] == nil && !c.bad[id] {
				todo = append(todo, id)
			}
		}
		for i, sn := range c.loadSnapshots(todo) {
			if sn.err != nil {
				c.bad[todo[i]] = true
				c.opts.Logf("skipping snapshot file %s: %v", todo[i].Short(), sn.err)
				continue
			}
			c.loaded[todo[i]] = sn.sn
			changed = true
		}
	}
	if changed {
		c.state = newState(c.loaded)
	}
}

// snapshotWorkers is how many snapshot files the catalog reads and
// decrypts at once: a mount of 720 snapshots read them one by one
// (docs/benchmarks.md, "Mount").
const snapshotWorkers = 8

type loadedSnapshot struct {
	sn  *repo.Snapshot
	err error
}

// loadSnapshots reads the snapshot files ids, snapshotWorkers at a
// time; result i is ids[i]'s snapshot or why it could not be read.
func (c *catalog) loadSnapshots(ids []pack.ID) []loadedSnapshot {
	out := make([]loadedSnapshot, len(ids))
	var g errgroup.Group
	g.SetLimit(snapshotWorkers)
	for i, id := range ids {
		g.Go(func() error {
			sn, err := c.r.LoadSnapshot(context.WithoutCancel(context.Background()), id)
			out[i] = loadedSnapshot{sn, err}
			return nil
		})
	}
	_ = g.Wait() // each failure is in out
	return out
}

// newState names the snapshots.
func newState(loaded map[pack.ID]*repo.Snapshot) *state {
	st := &state{byName: map[string]*snap{}, byShort: map[string]*snap{}, made: time.Now()}
	for _, sn := range loaded {
		st.snaps = append(st.snaps, &snap{sn: sn})
	}
	sort.Slice(st.snaps, func(i, j int) bool {
		a, b := st.snaps[i].sn, st.snaps[j].sn
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.ID.String() < b.ID.String()
	})
	seconds := map[string]int{}
	for _, s := range st.snaps {
		s.name = s.sn.Time.UTC().Format(timeName)
		seconds[s.name]++
	}
	for _, s := range st.snaps {
		if seconds[s.name] > 1 {
			s.name += "-" + s.sn.ID.Short()
		}
		st.byName[s.name] = s
	}
	// Short IDs: sorted by ID, a prefix must differ from both neighbours.
	byID := slices.Clone(st.snaps)
	sort.Slice(byID, func(i, j int) bool { return byID[i].sn.ID.String() < byID[j].sn.ID.String() })
	for i, s := range byID {
		full := s.sn.ID.String()
		n := 8
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(byID) {
				n = max(n, commonPrefix(full, byID[j].sn.ID.String())+1)
			}
		}
		s.short = full[:min(n, len(full))]
		st.byShort[s.short] = s
	}
	return st
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// latest is the newest of snaps, nil when there are none.
func latest(snaps []*snap) *snap {
	if len(snaps) == 0 {
		return nil
	}
	return snaps[len(snaps)-1]
}

// escapeName makes a tier, tag or host usable as a folder name that SMB
// and Windows accept too: "%", "/", NUL, control characters and the
// characters Windows refuses in names (\ : * ? " < > |) are
// percent-encoded, "." and ".." get a "%2E", and the empty name is "%".
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(`%/\:*?"<>|`, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	switch s = b.String(); s {
	case "":
		return "%" // as an empty table name's node name; "%" alone is no other name's
	case ".", "..":
		return "%2E" + s[1:]
	}
	return s
}

// describe names a snapshot in messages.
func (s *snap) describe() string {
	return fmt.Sprintf("snapshot %s (%s)", s.sn.ID.Short(), s.name)
}
