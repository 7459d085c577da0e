package repair_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/restore"
)

// TestSnapshotsLostChunkOfPagedTable: a table whose chunk list is in
// pages loses the data pack of one chunk in its middle; repair snapshots
// writes the kept chunks as new pages, lowers the rows and size, names
// the lost chunk's first key, and the repaired snapshot restores.
func TestSnapshotsLostChunkOfPagedTable(t *testing.T) {
	ctx := context.Background()
	p := newPagedTable(t)
	p.snapshot(t, nil)
	rep, r, n := p.loseAndRepair(t, p.ids[pagedLostAt])
	if len(rep.Damaged[0].Losses) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if text := rep.Damaged[0].Losses[0].Text; !strings.Contains(text, "1 chunks missing, 1 rows") || !strings.Contains(text, `"00100"`) {
		t.Errorf("loss: %s", text)
	}
	if n.Pages == nil || len(n.Content) > 0 || n.Meta[repo.TableMetaRows] != fmt.Sprint(pagedChunks-1) {
		t.Errorf("repaired node: pages %v, %d content, rows %s", n.Pages, len(n.Content), n.Meta[repo.TableMetaRows])
	}
	var got []pack.ID
	var keptBytes uint64
	w := repo.Walker{Loader: r, Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
		got = append(got, c.ID)
		keptBytes += c.Info.Bytes
		return nil
	}}
	if err := w.WalkContent(ctx, "/db.t", n); err != nil {
		t.Fatal(err)
	}
	want := append(append([]pack.ID(nil), p.ids[:pagedLostAt]...), p.ids[pagedLostAt+1:]...)
	if fmt.Sprint(got) != fmt.Sprint(want) || n.Size != keptBytes {
		t.Errorf("repaired list: %d chunks (want %d), size %d (kept %d)", len(got), len(want), n.Size, keptBytes)
	}
	var sb strings.Builder
	if err := restore.Dump(ctx, r, rep.Damaged[0].Repaired.Tree, "/db.t", &sb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), "00100\t") || strings.Count(sb.String(), "\n") != pagedChunks-1 {
		t.Errorf("restored %d rows", strings.Count(sb.String(), "\n"))
	}
}
