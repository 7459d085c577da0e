package main

import (
	"fmt"

	"strata/internal/progress"
	"strata/repo"
	"strata/workflow"
)

// growthJSON is the shape of `stats --growth --json`.
type growthJSON = workflow.Growth

func printGrowth(g *globals, gr *growthJSON, sns []*repo.Snapshot, asJSON bool) error {
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

// signedBytes is progress.Bytes for a difference that may be negative.
func signedBytes(n int64) string {
	if n < 0 {
		return "-" + progress.Bytes(uint64(-n))
	}
	return progress.Bytes(uint64(n))
}
