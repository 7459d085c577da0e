package prune_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/prune"
	"strata/repo/repotest"
)

// lockStore is mem storage with object lock as S3 has it, for prune's
// tests: files the test locks refuse removal with a *backend.LockedError
// until it unlocks them. The S3 backend's own locks are tested against
// MinIO (repo/backend/s3, cmd/strata TestObjectLockRepository).
type lockStore struct {
	*mem.Backend
	mu     sync.Mutex
	locked map[backend.Handle]time.Time
}

func newLockStore() *lockStore {
	return &lockStore{Backend: mem.New(), locked: map[backend.Handle]time.Time{}}
}

// lockAll locks every file of type t stored now, until an hour from now.
func (s *lockStore) lockAll(t *testing.T, ft backend.FileType) []backend.Handle {
	t.Helper()
	var hs []backend.Handle
	err := s.List(context.Background(), ft, func(fi backend.FileInfo) error {
		hs = append(hs, fi.Handle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hs {
		s.locked[h] = time.Now().Add(time.Hour)
	}
	return hs
}

func (s *lockStore) unlockAll() {
	s.mu.Lock()
	clear(s.locked)
	s.mu.Unlock()
}

func (s *lockStore) state(h backend.Handle) backend.LockState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.locked[h]; ok {
		return backend.LockState{Retention: backend.Retention{Mode: backend.Governance, Until: until}}
	}
	return backend.LockState{}
}

func (s *lockStore) Remove(ctx context.Context, h backend.Handle) error {
	if st := s.state(h); st.Locked(time.Now()) {
		return &backend.LockedError{Handle: h, State: st}
	}
	return s.Backend.Remove(ctx, h)
}

func (s *lockStore) ObjectLock(context.Context) (backend.ObjectLockConfig, error) {
	return backend.ObjectLockConfig{Enabled: true}, nil
}

func (s *lockStore) SaveRetained(ctx context.Context, h backend.Handle, rd backend.RewindReader, r backend.Retention) error {
	return errors.New("not used by these tests")
}

func (s *lockStore) LockState(ctx context.Context, h backend.Handle) (backend.LockState, error) {
	if _, err := s.Stat(ctx, h); err != nil {
		return backend.LockState{}, err
	}
	return s.state(h), nil
}

func (s *lockStore) ExtendRetention(context.Context, backend.Handle, backend.Retention) (bool, error) {
	return false, errors.New("not used by these tests")
}

func (s *lockStore) SetLegalHold(context.Context, backend.Handle, bool) error {
	return errors.New("not used by these tests")
}

// TestPruneLeavesLockedFiles: the packs and index files of the first
// hours are under object lock when those hours are forgotten. Prune
// keeps the locked packs as they are (none repacked or removed), leaves
// the locked index files superseded, reports them all, and every
// remaining snapshot restores and check finds nothing, though the packs
// hold delta chains whose bases prune would otherwise drop. Once the
// locks run out, the next prune removes them.
func TestPruneLeavesLockedFiles(t *testing.T) {
	ctx := context.Background()
	be := newLockStore()
	r := repotest.NewOn(t, be)
	h := newHistory(r, 120)
	for i := range 4 {
		h.snapshot(t, hour(i), 30)
	}
	lockedPacks := be.lockAll(t, backend.PackFile)
	lockedIndex := be.lockAll(t, backend.IndexFile)
	for i := 4; i < 8; i++ {
		h.snapshot(t, hour(i), 30)
	}
	h.forget(t, 5)

	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: 0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksLocked == 0 || rep.IndexFilesLocked != len(lockedIndex) || len(rep.Locked) != rep.PacksLocked+rep.IndexFilesLocked {
		t.Errorf("report %+v: want locked packs and %d locked index files, each listed", *rep, len(lockedIndex))
	}
	for _, l := range rep.Locked {
		if l.Until.IsZero() || l.Mode != "governance" {
			t.Errorf("locked file reported as %+v", l)
		}
	}
	for _, hd := range append(lockedPacks, lockedIndex...) {
		if _, err := be.Stat(ctx, hd); err != nil {
			t.Errorf("locked %v: %v", hd, err)
		}
	}
	h.verify(t, repotest.Reopen(t, be))
	repotest.CheckClean(t, be)

	// The locks run out: the next prune removes what no snapshot needs.
	be.unlockAll()
	rep, err = prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: 0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksLocked != 0 || len(rep.Locked) != 0 || rep.PacksDeleted+rep.PacksRepacked == 0 {
		t.Errorf("prune after the locks ran out: %+v", *rep)
	}
	for _, hd := range lockedIndex {
		if _, err := be.Stat(ctx, hd); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("old index file %v left after the locks ran out: %v", hd, err)
		}
	}
	h.verify(t, repotest.Reopen(t, be))
}

// TestPruneKeepsBasesOfLockedDeltas: only the packs of a middle hour are
// locked; they hold delta blobs that later hours no longer use, stored
// against bases in older packs no snapshot needs. Prune cannot repack the
// locked packs, so it keeps the packs holding those bases too: the new
// index lists no blob that cannot be decoded, and check finds nothing.
func TestPruneKeepsBasesOfLockedDeltas(t *testing.T) {
	ctx := context.Background()
	be := newLockStore()
	r := repotest.NewOn(t, be)
	h := newHistory(r, 120)
	for i := range 2 {
		h.snapshot(t, hour(i), 30)
	}
	before := files(t, be)
	h.snapshot(t, hour(2), 30)
	var middle []backend.Handle
	err := be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if _, old := before[fi.Handle.String()]; !old {
			middle = append(middle, fi.Handle)
		}
		return nil
	})
	if err != nil || len(middle) == 0 {
		t.Fatalf("packs of hour 2: %v, %v", middle, err)
	}
	be.mu.Lock()
	for _, hd := range middle {
		be.locked[hd] = time.Now().Add(time.Hour)
	}
	be.mu.Unlock()
	// Hour 3 stores its changed slots whole, not as deltas: the deltas
	// of hour 2 it replaces are then no base of anything.
	for k := range h.ids {
		h.ids[k] = pack.ID{}
	}
	for i := 3; i < 8; i++ {
		h.snapshot(t, hour(i), 30)
	}
	h.forget(t, 3)

	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: 0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksLocked == 0 || rep.PacksLocked > len(middle) {
		t.Errorf("report %+v: want some of the %d packs of hour 2 locked", *rep, len(middle))
	}
	h.verify(t, repotest.Reopen(t, be))
	repotest.CheckClean(t, be)
}
