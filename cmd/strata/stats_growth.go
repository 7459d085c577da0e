package main

import (
	"context"
	"fmt"
	"time"

	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
)

// growthJSON is the shape of `stats --growth --json`. Bytes are stored
// bytes: sealed in packs, compressed or delta, encrypted.
type growthJSON struct {
	Snapshots []growthSnapshotJSON `json:"snapshots"` // oldest first
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

	missing int // needed blobs the index lacks
}

// growthSnapshotJSON is one snapshot of `stats --growth --json`.
type growthSnapshotJSON struct {
	ID         string `json:"id"`
	Time       string `json:"time"` // RFC 3339
	Tier       string `json:"tier"`
	AddedBytes uint64 `json:"added_bytes"` // needed by no older snapshot
	TotalBytes uint64 `json:"total_bytes"` // running total of added_bytes
}

func statsGrowth(ctx context.Context, g *globals, r statsRepository, sns []*repo.Snapshot, asJSON bool) error {
	gr, err := computeGrowth(ctx, r, sns)
	if err != nil {
		return err
	}
	if gr.missing > 0 {
		g.notice(missingNotice(gr.missing))
	}
	if asJSON {
		return printJSON(g.env.stdout, gr)
	}
	w := g.env.stdout
	t := newTable(w, "Time", "ID", "Tier", "Added", "Total")
	for i, s := range gr.Snapshots {
		sn := sns[i]
		t.row(showTime(sn.Time), sn.ID.Short(), s.Tier, progress.Bytes(s.AddedBytes), progress.Bytes(s.TotalBytes))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nAll snapshots (%s) need:  %s\n", counted(len(gr.Snapshots), "snapshot"), progress.Bytes(gr.StoredBytes))
	fmt.Fprintf(w, "Repository size:        %s\n", progress.Bytes(gr.RepositoryBytes))
	fmt.Fprintf(w, "The difference, %s, is\n", signedBytes(int64(gr.RepositoryBytes)-int64(gr.StoredBytes)))
	fmt.Fprintf(w, "  index, snapshot, key and config files:  %s\n", progress.Bytes(gr.MetadataBytes))
	fmt.Fprintf(w, "  pack headers and unindexed packs:       %s\n", signedBytes(gr.PackOverheadBytes))
	fmt.Fprintf(w, "  blobs no snapshot needs, until prune:   %s\n", progress.Bytes(gr.UnusedBytes))
	return nil
}

// computeGrowth walks sns, oldest first, as one group, so each blob's
// stored bytes count for the first snapshot that needs it.
func computeGrowth(ctx context.Context, r statsRepository, sns []*repo.Snapshot) (*growthJSON, error) {
	gr := &growthJSON{Snapshots: make([]growthSnapshotJSON, 0, len(sns))}
	nb := newNeededBlobs(r)
	for _, sn := range sns {
		var added uint64
		if _, _, err := nb.addSnapshot(ctx, sn, 0, func(stored uint64) { added += stored }); err != nil {
			return nil, err
		}
		gr.StoredBytes += added
		gr.Snapshots = append(gr.Snapshots, growthSnapshotJSON{
			ID: sn.ID.String(), Time: sn.Time.Format(time.RFC3339Nano), Tier: sn.Tier,
			AddedBytes: added, TotalBytes: gr.StoredBytes,
		})
	}
	var needed uint64
	sizes, err := nb.eachSize(ctx, func(_ pack.ID, _, stored, _ uint64) { needed += stored })
	if err != nil {
		return nil, err
	}
	gr.missing = sizes.missing
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

// signedBytes is progress.Bytes for a difference that may be negative.
func signedBytes(n int64) string {
	if n < 0 {
		return "-" + progress.Bytes(uint64(-n))
	}
	return progress.Bytes(uint64(n))
}
