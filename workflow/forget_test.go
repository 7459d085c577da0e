package workflow_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"strata/repo"
	"strata/repo/repotest"
	"strata/repo/retention"
	"strata/workflow"
)

// backups saves n snapshots of random data an hour apart, oldest first.
func backups(t *testing.T, r *repo.Repository, n int) []string {
	t.Helper()
	var ids []string
	start := time.Now().Add(-time.Duration(n+1) * time.Hour).Truncate(time.Hour)
	for i := range n {
		data := make([]byte, 64<<10)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		rep, err := workflow.Backup(context.Background(), r, workflow.BackupRequest{Stdin: bytes.NewReader(data), Time: start.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rep.Snapshot.ID.String())
	}
	return ids
}

// TestForgetPolicy: the library applies the given rules, keeps a
// protected snapshot, reports its decisions before removing (Decided
// sees nothing removed yet) and prunes under the same lock.
func TestForgetPolicy(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	ids := backups(t, r, 4)
	oldest, err := r.FindSnapshot(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Protect(ctx, oldest.ID, time.Time{}, "audit"); err != nil {
		t.Fatal(err)
	}
	rules := retention.Policy{Last: 1}
	choice := workflow.PolicyChoice{Rules: &rules, Source: workflow.PolicyFromConfig, From: "strata.yaml", Timezone: "UTC", TimezoneFrom: "strata.yaml"}

	plan, err := workflow.Forget(ctx, r, workflow.ForgetRequest{Policy: choice, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Total != 4 || plan.Kept != 2 || plan.KeptProtected != 1 || len(plan.Removed) != 2 || plan.Policy.Source != "config" || plan.Policy.Location != time.UTC || plan.Policy.ZoneFrom != "strata.yaml" {
		t.Fatalf("dry run: total %d kept %d (%d protected) remove %d, policy %+v", plan.Total, plan.Kept, plan.KeptProtected, len(plan.Removed), plan.Policy)
	}
	if n := len(snapshots(t, r)); n != 4 {
		t.Fatalf("dry run removed snapshots: %d left", n)
	}

	decided := false
	rep, err := workflow.Forget(ctx, r, workflow.ForgetRequest{Policy: choice, Prune: &workflow.PruneRequest{MaxUnused: 0.05},
		Decided: func(rep *workflow.ForgetReport) {
			decided = true
			if n := len(snapshots(t, r)); n != 4 {
				t.Errorf("Decided called after removing: %d snapshots left", n)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !decided || len(rep.Removed) != 2 || rep.Prune == nil || rep.Prune.Freed() <= 0 {
		t.Fatalf("forget: decided %v, removed %d, prune %+v", decided, len(rep.Removed), rep.Prune)
	}
	left := snapshots(t, r)
	if len(left) != 2 || !left[ids[0]] || !left[ids[3]] {
		t.Fatalf("left %v, want the protected oldest and the newest", left)
	}
}

// TestForgetNoPolicy: without rules and without a stored policy, forget
// removes nothing and says so (source none).
func TestForgetNoPolicy(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	backups(t, r, 2)
	rep, err := workflow.Forget(ctx, r, workflow.ForgetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Policy.Source != workflow.PolicyNone || rep.Total != 2 || len(rep.Removed) != 0 || len(snapshots(t, r)) != 2 {
		t.Fatalf("forget without a policy: %+v", rep)
	}
}

// TestForgetSnapshots: named snapshots are removed all or none; a
// protected one refuses the lot.
func TestForgetSnapshots(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	ids := backups(t, r, 3)
	sn, err := r.FindSnapshot(ctx, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Protect(ctx, sn.ID, time.Time{}, "keep"); err != nil {
		t.Fatal(err)
	}
	_, err = workflow.Forget(ctx, r, workflow.ForgetRequest{Snapshots: []string{ids[0], ids[2]}})
	if err == nil || !strings.Contains(err.Error(), "is protected (keep (no end date)); nothing removed") {
		t.Fatalf("forget of a protected snapshot: %v", err)
	}
	if n := len(snapshots(t, r)); n != 3 {
		t.Fatalf("%d snapshots after a refused forget, want 3", n)
	}
	rep, err := workflow.Forget(ctx, r, workflow.ForgetRequest{Snapshots: []string{ids[0], ids[0][:8]}})
	if err != nil || len(rep.Removed) != 1 {
		t.Fatalf("forget ID: %v, %+v", err, rep)
	}
	if left := snapshots(t, r); len(left) != 2 || left[ids[0]] {
		t.Fatalf("left %v", left)
	}
	if _, err := workflow.Forget(ctx, r, workflow.ForgetRequest{Snapshots: []string{ids[1]}, DryRun: true, Prune: &workflow.PruneRequest{}}); err == nil {
		t.Fatal("forget --prune --dry-run accepted")
	}
}

func snapshots(t *testing.T, r *repo.Repository) map[string]bool {
	t.Helper()
	sns, err := r.Snapshots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, sn := range sns {
		out[sn.ID.String()] = true
	}
	return out
}
