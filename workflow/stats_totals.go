package workflow

import (
	"context"

	"strata/pack"
	"strata/repo"
)

// StatsTotals are the sizes of some snapshots (`stats --json`). The ratios are defined so
// that each is at least 1 unless the data really grew:
//
//	dedup_ratio       = raw_bytes / unique_bytes
//	compression_ratio = unique_bytes / stored_data_bytes
//	total_ratio       = raw_bytes / stored_bytes
//
// unique_bytes never exceed raw_bytes: they are the plaintext of the
// distinct content blobs the snapshots' files name, each counted once.
type StatsTotals struct {
	Snapshots        int     `json:"snapshots"`
	Files            uint64  `json:"files"`
	RawBytes         uint64  `json:"raw_bytes"`         // what a restore writes
	UniqueBytes      uint64  `json:"unique_bytes"`      // distinct content, uncompressed
	Blobs            int     `json:"blobs"`             // distinct content blobs
	StoredDataBytes  uint64  `json:"stored_data_bytes"` // content blobs and their delta bases, as stored
	StoredTreeBytes  uint64  `json:"stored_tree_bytes"` // the trees (file metadata), as stored
	StoredBytes      uint64  `json:"stored_bytes"`      // both: what keeps the snapshots restorable
	DedupRatio       float64 `json:"dedup_ratio"`       // raw / unique
	CompressionRatio float64 `json:"compression_ratio"` // unique / stored data (compression and deltas)
	TotalRatio       float64 `json:"total_ratio"`       // raw / stored
	RepositoryBytes  uint64  `json:"repository_bytes"`  // every file of the repository, locks aside

	// Missing counts the needed blobs the index lacks.
	Missing int `json:"-"`
}

// ComputeStats counts the sizes of sns in r, whose index is loaded.
func ComputeStats(ctx context.Context, r StatsRepository, sns []*repo.Snapshot) (*StatsTotals, error) {
	st := &StatsTotals{Snapshots: len(sns)}
	nb := newNeededBlobs(r)
	nb.content = map[pack.ID]struct{}{}
	nb.patched = map[[2]pack.ID]uint64{}
	for _, sn := range sns {
		files, raw, err := nb.addSnapshot(ctx, sn, 0, nil)
		if err != nil {
			return nil, err
		}
		st.Files += files
		st.RawBytes += raw
	}
	sizes, err := nb.eachSize(ctx, func(id pack.ID, _, stored, raw uint64) {
		_, isTree := nb.trees[id]
		if _, ok := nb.content[id]; ok {
			st.Blobs++
			st.UniqueBytes += raw
		}
		if isTree {
			st.StoredTreeBytes += stored
		} else {
			st.StoredDataBytes += stored
		}
	})
	if err != nil {
		return nil, err
	}
	for _, b := range nb.patched {
		st.UniqueBytes += b
	}
	st.Missing = sizes.missing
	st.StoredBytes = st.StoredDataBytes + st.StoredTreeBytes
	st.DedupRatio = ratio(st.RawBytes, st.UniqueBytes)
	st.CompressionRatio = ratio(st.UniqueBytes, st.StoredDataBytes)
	st.TotalRatio = ratio(st.RawBytes, st.StoredBytes)
	rb, err := measureRepository(ctx, r.Backend())
	if err != nil {
		return nil, err
	}
	st.RepositoryBytes = rb.total()
	return st, nil
}

// ratio is a / b, or 0 when b is 0 (nothing to compare).
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
