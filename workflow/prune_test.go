package workflow_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"strata/repo/repotest"
	"strata/workflow"
)

func TestPrune(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	var ids []string
	for range 2 {
		data := make([]byte, 256<<10)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		rep, err := workflow.Backup(ctx, r, workflow.BackupRequest{Stdin: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rep.Snapshot.ID.String())
	}
	sn, err := r.FindSnapshot(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveSnapshot(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}

	plan, err := workflow.Prune(ctx, r, workflow.PruneRequest{MaxUnused: 0.05, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.DryRun || plan.Freed() <= 0 || plan.UnusedBlobs == 0 {
		t.Fatalf("dry run: %+v, want a plan that frees the forgotten snapshot's data", plan.Report)
	}
	if _, err := workflow.Prune(ctx, r, workflow.PruneRequest{MaxUnused: 2}); err == nil {
		t.Error("prune with max unused 2 succeeded")
	}
	done, err := workflow.Prune(ctx, r, workflow.PruneRequest{MaxUnused: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if done.DryRun || done.Freed() != plan.Freed() || done.Snapshots != 1 || done.SpaceShort {
		t.Fatalf("prune freed %d (plan %d), %d snapshots, short %v", done.Freed(), plan.Freed(), done.Snapshots, done.SpaceShort)
	}
	again, err := workflow.Prune(ctx, r, workflow.PruneRequest{MaxUnused: 0.05})
	if err != nil || again.Freed() != 0 {
		t.Fatalf("second prune: freed %d, %v; want nothing left to free", again.Freed(), err)
	}
}
