package repo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

func TestProtections(t *testing.T) {
	r, be, sn := snapshotRepo(t)
	clk := &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	r = reopenWithClock(t, be, clk)

	until := clk.now.Add(48 * time.Hour)
	p1, err := r.Protect(ctx, sn.ID, until, "billing November")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := r.Protect(ctx, sn.ID, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := repotest.Reopen(t, be).Protections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Both were made at the same time on the test clock, so their order is
	// by ID.
	if len(got) == 2 && got[0].ID == p2.ID {
		got[0], got[1] = got[1], got[0]
	}
	if len(got) != 2 || got[0].ID != p1.ID || got[1].ID != p2.ID {
		t.Fatalf("Protections = %+v, want %+v and %+v", got, p1, p2)
	}
	if got[0].Snapshot != sn.ID || got[0].Reason != "billing November" || !got[0].Until.Equal(until) || got[0].Host == "" {
		t.Errorf("protection read back as %+v", got[0])
	}
	for _, tt := range []struct {
		p    repo.Protection
		at   time.Time
		want bool
	}{
		{p1, clk.now, true},
		{p1, until.Add(-time.Second), true},
		{p1, until, false},
		{p2, until.AddDate(100, 0, 0), true},
	} {
		if tt.p.Active(tt.at) != tt.want {
			t.Errorf("protection until %v active at %v: %v, want %v", tt.p.Until, tt.at, !tt.want, tt.want)
		}
	}

	if _, err := r.Protect(ctx, pack.ID{9}, time.Time{}, ""); !errors.Is(err, repo.ErrSnapshotNotFound) {
		t.Errorf("protecting a missing snapshot: %v, want ErrSnapshotNotFound", err)
	}
	if _, err := r.Protect(ctx, sn.ID, clk.now, ""); err == nil {
		t.Error("protecting until now succeeded")
	}

	removed, err := r.Unprotect(ctx, sn.ID)
	if err != nil || len(removed) != 2 {
		t.Errorf("Unprotect removed %d, %v; want 2", len(removed), err)
	}
	if n := countFiles(t, be, backend.ProtectFile); n != 0 {
		t.Errorf("%d protect files left", n)
	}
	if removed, err := r.Unprotect(ctx, sn.ID); err != nil || len(removed) != 0 {
		t.Errorf("Unprotect of an unprotected snapshot: %d, %v", len(removed), err)
	}
}

func reopenWithClock(t *testing.T, be backend.Storage, clk *clock) *repo.Repository {
	t.Helper()
	opts := repotest.Options(t)
	opts.Now = clk.Now
	r, err := repo.Open(ctx, be, repotest.Password, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDamagedProtectFile: a protect file that cannot be read is an error
// naming it, never a snapshot silently left unprotected.
func TestDamagedProtectFile(t *testing.T) {
	r, be, sn := snapshotRepo(t)
	if _, err := r.Protect(ctx, sn.ID, time.Time{}, "keep"); err != nil {
		t.Fatal(err)
	}
	name := flipFile(t, be, backend.ProtectFile, 60)
	if _, err := r.Protect(ctx, sn.ID, time.Time{}, "second"); err != nil {
		t.Fatal(err)
	}
	got, err := r.Protections(ctx)
	if !errors.Is(err, repo.ErrDamaged) || !strings.Contains(err.Error(), name) {
		t.Errorf("Protections with a damaged file: %v; want ErrDamaged naming %s", err, name)
	}
	if len(got) != 1 || got[0].Reason != "second" {
		t.Errorf("Protections returned %+v beside the error, want the readable one", got)
	}
	if _, err := r.Unprotect(ctx, sn.ID); !errors.Is(err, repo.ErrDamaged) {
		t.Errorf("Unprotect with a damaged protect file: %v, want ErrDamaged", err)
	}
	removed, err := r.RemoveDamagedProtections(ctx)
	if err != nil || len(removed) != 1 || removed[0].String() != name[len("protect/"):] {
		t.Errorf("RemoveDamagedProtections: %v, %v; want only %s", removed, err, name)
	}
	if got, err := r.Protections(ctx); err != nil || len(got) != 1 {
		t.Errorf("after removing the damaged file: %+v, %v; want the readable protection", got, err)
	}
}

func TestRemoveSnapshot(t *testing.T) {
	r, _, sn := snapshotRepo(t)
	if err := r.RemoveSnapshot(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadSnapshot(ctx, sn.ID); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("LoadSnapshot after RemoveSnapshot: %v", err)
	}
	if err := r.RemoveSnapshot(ctx, sn.ID); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("removing it again: %v, want ErrNotExist", err)
	}
}
