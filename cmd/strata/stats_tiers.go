package main

import (
	"context"

	"fmt"
	"strata/repo"
	"strconv"

	"strata/internal/progress"
	"strata/workflow"
)

// tierStatsJSON is the shape of `stats --by tier --json`.
// maxGroups is how many tiers stats --by tier tells apart.
const maxGroups = workflow.MaxTiers

type (
	tierStatsJSON = workflow.TierStats
	tierJSON      = workflow.TierStatsEntry
)

func printTierStats(g *globals, st *tierStatsJSON, asJSON bool) error {
	if asJSON {
		return printJSON(g.env.stdout, st)
	}
	w := g.env.stdout
	t := newTable(w, "Tier", "Snapshots", "Stored", "Only", "Shared", "Unique", "Unique only")
	for _, tier := range st.Tiers {
		name := tier.Tier
		if name == "" {
			name = "(none)"
		}
		t.row(name, strconv.Itoa(tier.Snapshots), progress.Bytes(tier.StoredBytes), progress.Bytes(tier.OnlyStoredBytes),
			progress.Bytes(tier.SharedStoredBytes), progress.Bytes(tier.UniqueBytes), progress.Bytes(tier.OnlyUniqueBytes))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nAll snapshots (%s) need %s stored (%s unique in %s).\n",
		counted(st.Snapshots, "snapshot"), progress.Bytes(st.StoredBytes), progress.Bytes(st.UniqueBytes), counted(st.Blobs, "blob"))
	fmt.Fprintf(w, "Repository size: %s\n", progress.Bytes(st.RepositoryBytes))
	fmt.Fprintln(w, `
Stored: bytes in packs of the blobs the tier's snapshots need, delta bases
included. Only: needed by no other tier (freed by forgetting the tier and
pruning). Shared: also needed by another tier. Unique: their plaintext.`)
	return nil
}

func computeTierStats(ctx context.Context, r workflow.StatsRepository, sns []*repo.Snapshot) (*tierStatsJSON, error) {
	return workflow.ComputeTierStats(ctx, r, sns)
}
