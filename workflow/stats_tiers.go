package workflow

import (
	"context"
	"fmt"
	"math/bits"
	"sort"

	"strata/pack"
	"strata/repo"
)

// TierStats are the stats of all snapshots by tier (`stats --by tier
// --json`). Stored bytes
// are the sealed bytes in packs (compressed or delta, encrypted) of the
// distinct blobs some snapshots need, trees and delta bases included;
// unique bytes and blobs, as in plain stats, are the plaintext and count
// of those that are some snapshot's content (not trees).
type TierStats struct {
	Tiers           []TierStatsEntry `json:"tiers"`
	Snapshots       int              `json:"snapshots"`
	StoredBytes     uint64           `json:"stored_bytes"` // all snapshots need
	UniqueBytes     uint64           `json:"unique_bytes"`
	Blobs           int              `json:"blobs"`
	RepositoryBytes uint64           `json:"repository_bytes"`

	// Missing counts the needed blobs the index lacks.
	Missing int `json:"-"`
}

// TierStatsEntry is one tier of TierStats.
type TierStatsEntry struct {
	Tier      string `json:"tier"` // "" for snapshots without a tier
	Snapshots int    `json:"snapshots"`
	// StoredBytes is what the tier's snapshots need ("referenced");
	// OnlyStoredBytes the part no snapshot of another tier needs;
	// SharedStoredBytes the rest.
	StoredBytes       uint64 `json:"stored_bytes"`
	OnlyStoredBytes   uint64 `json:"only_stored_bytes"`
	SharedStoredBytes uint64 `json:"shared_stored_bytes"`
	UniqueBytes       uint64 `json:"unique_bytes"`
	OnlyUniqueBytes   uint64 `json:"only_unique_bytes"`
	SharedUniqueBytes uint64 `json:"shared_unique_bytes"`
	Blobs             int    `json:"blobs"`
	OnlyBlobs         int    `json:"only_blobs"`
}

// ComputeTierStats groups sns by tier, one bit of a neededBlobs mask per
// tier.
func ComputeTierStats(ctx context.Context, r StatsRepository, sns []*repo.Snapshot) (*TierStats, error) {
	byTier := map[string]int{}
	var names []string
	for _, sn := range sns {
		if _, ok := byTier[sn.Tier]; !ok {
			byTier[sn.Tier] = 0
			names = append(names, sn.Tier)
		}
	}
	if len(names) > maxGroups {
		return nil, fmt.Errorf("the snapshots have %d tiers and stats --by tier tells at most %d apart; see them with `strata snapshots`", len(names), maxGroups)
	}
	// Named tiers by name, then the snapshots without one.
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		return a != "" && (b == "" || a < b)
	})
	st := &TierStats{Snapshots: len(sns), Tiers: make([]TierStatsEntry, len(names))}
	for i, name := range names {
		byTier[name] = i
		st.Tiers[i].Tier = name
	}
	nb := newNeededBlobs(r)
	nb.content = map[pack.ID]struct{}{}
	for _, sn := range sns {
		i := byTier[sn.Tier]
		st.Tiers[i].Snapshots++
		if _, _, err := nb.addSnapshot(ctx, sn, i, nil); err != nil {
			return nil, err
		}
	}
	sizes, err := nb.eachSize(ctx, func(id pack.ID, groups, stored, raw uint64) {
		// Unique data are content blobs, as in plain stats: trees and
		// blobs that are only delta bases count as stored bytes alone.
		_, content := nb.content[id]
		blobs := 0
		if !content {
			raw = 0
		} else {
			blobs = 1
		}
		st.Blobs += blobs
		st.StoredBytes += stored
		st.UniqueBytes += raw
		only := bits.OnesCount64(groups) == 1
		for m := groups; m != 0; m &= m - 1 {
			t := &st.Tiers[bits.TrailingZeros64(m)]
			t.Blobs += blobs
			t.StoredBytes += stored
			t.UniqueBytes += raw
			if only {
				t.OnlyBlobs += blobs
				t.OnlyStoredBytes += stored
				t.OnlyUniqueBytes += raw
			}
		}
	})
	if err != nil {
		return nil, err
	}
	st.Missing = sizes.missing
	for i := range st.Tiers {
		t := &st.Tiers[i]
		t.SharedStoredBytes = t.StoredBytes - t.OnlyStoredBytes
		t.SharedUniqueBytes = t.UniqueBytes - t.OnlyUniqueBytes
	}
	rb, err := measureRepository(ctx, r.Backend())
	if err != nil {
		return nil, err
	}
	st.RepositoryBytes = rb.total()
	return st, nil
}
