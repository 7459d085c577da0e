package workflow

import (
	"context"
	"fmt"
	"time"

	"strata/pack"
	"strata/repo"
)

// Growth is what each snapshot added, oldest first (`stats --growth
// --json`). Bytes are stored
// bytes: sealed in packs, compressed or delta, encrypted.
type Growth struct {
	Snapshots []GrowthSnapshot `json:"snapshots"` // oldest first
	// StoredBytes is what all snapshots need: the last running total.
	StoredBytes     uint64 `json:"stored_bytes"`
	RepositoryBytes uint64 `json:"repository_bytes"`
	// The difference between the two: MetadataBytes (config, index,
	// snapshot and key files), PackOverheadBytes (pack bytes outside the
	// indexed blobs: headers, and unindexed packs; negative if
	// indexed packs are missing) and UnusedBytes (indexed blobs no
	// snapshot needs: duplicates and data awaiting prune).
	MetadataBytes     uint64 `json:"metadata_bytes"`
	PackOverheadBytes int64  `json:"pack_overhead_bytes"`
	UnusedBytes       uint64 `json:"unused_bytes"`

	// Missing counts the needed blobs the index lacks.
	Missing int `json:"-"`
}

// GrowthSnapshot is one snapshot of Growth.
type GrowthSnapshot struct {
	ID         string `json:"id"`
	Time       string `json:"time"` // RFC 3339
	Tier       string `json:"tier"`
	AddedBytes uint64 `json:"added_bytes"` // needed by no older snapshot
	TotalBytes uint64 `json:"total_bytes"` // running total of added_bytes
	// RawBytes is what a restore of the snapshot writes.
	RawBytes uint64 `json:"-"`
}

// ComputeGrowth walks sns, oldest first, as one group, so each blob's
// stored bytes count for the first snapshot that needs it.
func ComputeGrowth(ctx context.Context, r StatsRepository, sns []*repo.Snapshot) (*Growth, error) {
	nb := newNeededBlobs(r)
	snaps, err := snapshotGrowth(ctx, nb, sns)
	if err != nil {
		return nil, err
	}
	gr := &Growth{Snapshots: snaps}
	if len(snaps) > 0 {
		gr.StoredBytes = snaps[len(snaps)-1].TotalBytes
	}
	var needed uint64
	sizes, err := nb.eachSize(ctx, func(_ pack.ID, _, stored, _ uint64) { needed += stored })
	if err != nil {
		return nil, err
	}
	gr.Missing = sizes.missing
	rb, err := measureRepository(ctx, r.Backend())
	if err != nil {
		return nil, err
	}
	gr.RepositoryBytes = rb.total()
	gr.MetadataBytes = rb.metadata
	gr.PackOverheadBytes = int64(rb.packs) - int64(sizes.indexedBytes)
	gr.UnusedBytes = sizes.indexedBytes - needed
	return gr, nil
}

// SnapshotGrowth walks sns, oldest first, and returns for each the stored
// bytes no older one needs and its raw bytes, without the repository's
// totals that ComputeGrowth adds (a dashboard's chart).
func SnapshotGrowth(ctx context.Context, r StatsRepository, sns []*repo.Snapshot) ([]GrowthSnapshot, error) {
	out, err := snapshotGrowth(ctx, newNeededBlobs(r), sns)
	if err != nil {
		return nil, fmt.Errorf("snapshot growth: %w", err)
	}
	return out, nil
}

func snapshotGrowth(ctx context.Context, nb *neededBlobs, sns []*repo.Snapshot) ([]GrowthSnapshot, error) {
	out := make([]GrowthSnapshot, 0, len(sns))
	var total uint64
	for _, sn := range sns {
		var added uint64
		_, raw, err := nb.addSnapshot(ctx, sn, 0, func(stored uint64) { added += stored })
		if err != nil {
			return nil, err
		}
		total += added
		out = append(out, GrowthSnapshot{
			ID: sn.ID.String(), Time: sn.Time.Format(time.RFC3339Nano), Tier: sn.Tier,
			AddedBytes: added, TotalBytes: total, RawBytes: raw,
		})
	}
	return out, nil
}
