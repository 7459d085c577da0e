package repo_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// clock is a settable Options.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func withClock(c *clock) repotest.Setup {
	return func(_ *repo.Config, o *repo.Options) { o.Now = c.Now }
}

func countFiles(t *testing.T, be backend.Storage, ft backend.FileType) int {
	t.Helper()
	n := 0
	if err := be.List(ctx, ft, func(backend.FileInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPolicyStorage(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	r, be := repotest.New(t, withClock(clk))
	if _, found, err := r.LoadPolicy(ctx); err != nil || found {
		t.Fatalf("LoadPolicy of a new repository: found=%v, %v", found, err)
	}
	if _, err := r.SetPolicy(ctx, json.RawMessage(`{"daily":7}`), "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	clk.now = clk.now.Add(time.Hour)
	set, err := r.SetPolicy(ctx, json.RawMessage(`{"daily":30}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, be, backend.PolicyFile); n != 1 {
		t.Errorf("%d policy files after two SetPolicy, want 1", n)
	}
	got, found, err := repotest.Reopen(t, be).LoadPolicy(ctx)
	if err != nil || !found {
		t.Fatalf("LoadPolicy: found=%v, %v", found, err)
	}
	if string(got.Policy) != `{"daily":30}` || got.Timezone != "" || !got.Time.Equal(clk.now) || got.ID != set.ID {
		t.Errorf("LoadPolicy = %+v, want %+v", got, set)
	}

	// A crash during SetPolicy leaves the old and the new file: the newer
	// counts, whatever the order of the listing.
	clk.now = clk.now.Add(-24 * time.Hour)
	older, _ := json.Marshal(repo.StoredPolicy{Time: clk.now, Policy: json.RawMessage(`{"last":1}`)})
	if _, err := r.SaveFile(ctx, backend.PolicyFile, older); err != nil {
		t.Fatal(err)
	}
	if got, _, err := r.LoadPolicy(ctx); err != nil || got.ID != set.ID {
		t.Errorf("with two policy files LoadPolicy = %+v, %v; want the newer", got, err)
	}
	if n, err := r.ResetPolicy(ctx); err != nil || n != 2 {
		t.Errorf("ResetPolicy removed %d, %v; want 2", n, err)
	}
	if _, found, err := r.LoadPolicy(ctx); err != nil || found {
		t.Errorf("after ResetPolicy: found=%v, %v", found, err)
	}

	if _, err := r.SetPolicy(ctx, json.RawMessage(`[1]`), ""); err == nil {
		t.Error("SetPolicy accepted a policy that is not a JSON object")
	}
}

func TestDamagedPolicyFile(t *testing.T) {
	r, be := repotest.New(t)
	if _, err := r.SetPolicy(ctx, json.RawMessage(`{"daily":7}`), ""); err != nil {
		t.Fatal(err)
	}
	name := flipFile(t, be, backend.PolicyFile, 40)
	_, _, err := r.LoadPolicy(ctx)
	if !errors.Is(err, repo.ErrDamaged) || !strings.Contains(err.Error(), name) {
		t.Fatalf("LoadPolicy of a damaged file: %v; want ErrDamaged naming %s", err, name)
	}
	// Setting a new policy replaces the damaged file.
	if _, err := r.SetPolicy(ctx, json.RawMessage(`{"daily":8}`), ""); err != nil {
		t.Fatal(err)
	}
	if got, found, err := r.LoadPolicy(ctx); err != nil || !found || string(got.Policy) != `{"daily":8}` {
		t.Errorf("after SetPolicy over a damaged file: %+v, %v, %v", got, found, err)
	}
	flipFile(t, be, backend.PolicyFile, 40)
	if n, err := r.ResetPolicy(ctx); err != nil || n != 1 {
		t.Errorf("ResetPolicy of a damaged file removed %d, %v", n, err)
	}
}
