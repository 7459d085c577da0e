package main

import (
	"bufio"
	"context"
	"fmt"

	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
	"strata/snapdiff"
)

// diffFiles prints the diff of two file snapshots as restic diff does.
func diffFiles(ctx context.Context, g *globals, r *repo.Repository, a, b *repo.Snapshot, f diffFlags) error {
	if f.format != "stat" || f.tables.Value() != nil || f.exclude.Value() != nil || f.keyRange != "" || f.columns.Value() != nil || f.limit > 0 {
		return fmt.Errorf("snapshots %s and %s hold files: --format, --tables, --exclude-tables, --key-range, --columns and --limit are for table snapshots", a.ID.Short(), b.ID.Short())
	}
	w := bufio.NewWriterSize(g.env.stdout, 64<<10)
	if !f.asJSON {
		fmt.Fprintf(w, "comparing snapshot %s to %s:\n\n", a.ID.Short(), b.ID.Short())
	}
	idx := r.Index()
	rep, err := snapdiff.Files(ctx, r, a.Tree, b.Tree, snapdiff.FileOptions{
		BlobSize: func(id pack.ID) (uint64, bool) {
			locs := idx.LookupAll(id)
			if len(locs) == 0 {
				return 0, false
			}
			return uint64(locs[0].Length), true
		},
		Emit: func(c snapdiff.FileChange) error {
			p := c.Path
			if c.Kind == repo.NodeDir {
				p += "/"
			}
			if f.asJSON {
				return jsonLine(w, fileChangeJSON{MessageType: "change", Path: p, Modifier: string(c.Mark)})
			}
			_, err := fmt.Fprintf(w, "%c    %s\n", c.Mark, p)
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("diff of snapshots %s and %s: %w", a.ID.Short(), b.ID.Short(), err)
	}
	if f.asJSON {
		if err := jsonLine(w, fileStatsJSON{
			MessageType: "statistics", SourceSnapshot: a.ID.String(), TargetSnapshot: b.ID.String(),
			ChangedFiles: rep.Changed.Files, Added: fileCountsJSON(rep.Added), Removed: fileCountsJSON(rep.Removed),
			BlobsAdded: rep.BlobsAdded, BlobsRemoved: rep.BlobsRemoved, BytesAdded: rep.BytesAdded, BytesRemoved: rep.BytesRemoved,
		}); err != nil {
			return err
		}
		return w.Flush()
	}
	fmt.Fprintf(w, "\nFiles:       %5d new, %5d removed, %5d changed\n", rep.Added.Files, rep.Removed.Files, rep.Changed.Files)
	fmt.Fprintf(w, "Dirs:        %5d new, %5d removed\n", rep.Added.Dirs, rep.Removed.Dirs)
	fmt.Fprintf(w, "Others:      %5d new, %5d removed\n", rep.Added.Others, rep.Removed.Others)
	fmt.Fprintf(w, "Data Blobs:  %5d new, %5d removed\n", rep.BlobsAdded, rep.BlobsRemoved)
	fmt.Fprintf(w, "  Added:   %s\n  Removed: %s\n", progress.Bytes(rep.BytesAdded), progress.Bytes(rep.BytesRemoved))
	return w.Flush()
}

// fileChangeJSON and fileStatsJSON are diff --json of file snapshots, as
// restic diff --json writes them.
type fileChangeJSON struct {
	MessageType string `json:"message_type"` // "change"
	Path        string `json:"path"`
	Modifier    string `json:"modifier"`
}

type countsJSON struct {
	Files  uint64 `json:"files"`
	Dirs   uint64 `json:"dirs"`
	Others uint64 `json:"others"`
}

func fileCountsJSON(c snapdiff.FileCounts) countsJSON {
	return countsJSON{Files: c.Files, Dirs: c.Dirs, Others: c.Others}
}

type fileStatsJSON struct {
	MessageType    string     `json:"message_type"` // "statistics"
	SourceSnapshot string     `json:"source_snapshot"`
	TargetSnapshot string     `json:"target_snapshot"`
	ChangedFiles   uint64     `json:"changed_files"`
	Added          countsJSON `json:"added"`
	Removed        countsJSON `json:"removed"`
	BlobsAdded     uint64     `json:"data_blobs_added"`
	BlobsRemoved   uint64     `json:"data_blobs_removed"`
	BytesAdded     uint64     `json:"bytes_added"`
	BytesRemoved   uint64     `json:"bytes_removed"`
}
