package workflow_test

import (
	"context"
	"strings"
	"testing"

	"strata/repo/repotest"
	"strata/workflow"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	r, _ := repotest.New(t)
	data := strings.Repeat("the same line again\n", 2000)
	for _, tier := range []string{"hourly", "hourly", "daily"} {
		if _, err := workflow.Backup(ctx, r, workflow.BackupRequest{Stdin: strings.NewReader(data), Tier: tier, Host: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := workflow.Stats(ctx, r, workflow.StatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	st := all.Totals
	if st == nil || all.Tiers != nil || all.Growth != nil || st.Snapshots != 3 || len(all.Snapshots) != 3 {
		t.Fatalf("stats of all: %+v", all)
	}
	if st.RawBytes != 3*uint64(len(data)) || st.UniqueBytes != uint64(len(data)) || st.DedupRatio != 3 || st.StoredBytes == 0 || st.RepositoryBytes < st.StoredBytes {
		t.Fatalf("totals %+v: want 3 copies of %d bytes deduplicated into one", st, len(data))
	}

	tiers, err := workflow.Stats(ctx, r, workflow.StatsRequest{ByTier: true})
	if err != nil {
		t.Fatal(err)
	}
	if tiers.Tiers == nil || len(tiers.Tiers.Tiers) != 2 || tiers.Tiers.Tiers[0].Tier != "daily" || tiers.Tiers.Tiers[1].Snapshots != 2 ||
		tiers.Tiers.Tiers[0].OnlyUniqueBytes != 0 || tiers.Tiers.Tiers[0].SharedUniqueBytes != uint64(len(data)) {
		t.Fatalf("by tier: %+v; want daily then hourly (2 snapshots), sharing all their data", tiers.Tiers)
	}

	gr, err := workflow.Stats(ctx, r, workflow.StatsRequest{Growth: true})
	if err != nil {
		t.Fatal(err)
	}
	if g := gr.Growth; g == nil || len(g.Snapshots) != 3 || g.Snapshots[0].AddedBytes == 0 || g.StoredBytes != st.StoredBytes ||
		g.Snapshots[2].TotalBytes != g.StoredBytes || g.Snapshots[0].RawBytes != uint64(len(data)) {
		t.Fatalf("growth %+v: the first snapshot adds the data, the rest little", gr.Growth)
	}

	one, err := workflow.Stats(ctx, r, workflow.StatsRequest{Snapshot: "latest"})
	if err != nil || one.Totals.Snapshots != 1 || one.Snapshots[0].Tier != "daily" {
		t.Fatalf("stats of latest: %+v, %v", one, err)
	}
	for _, bad := range []workflow.StatsRequest{{ByTier: true, Growth: true}, {Snapshot: "latest", Growth: true}} {
		if _, err := workflow.Stats(ctx, r, bad); err == nil {
			t.Errorf("Stats(%+v) succeeded", bad)
		}
	}
}
