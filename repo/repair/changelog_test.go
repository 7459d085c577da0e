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

// TestSnapshotsChangeLog: a table node with a change log (docs/design.md,
// "Table change logs") loses its log, or a chunk of its base. Without the
// log no row of the snapshot is known: the repaired node holds none. With
// a base chunk lost, the kept chunks are written as they read (the log's
// patches applied) into new pages without a log, and the repaired
// snapshot restores every row but the lost chunk's.
func TestSnapshotsChangeLog(t *testing.T) {
	for _, lose := range []string{"log", "chunk"} {
		t.Run(lose, func(t *testing.T) {
			ctx := context.Background()
			p := newPagedTable(t)
			lg := &repo.TableLog{BaseChunks: pagedChunks, BaseRows: pagedChunks, Depth: 1, Runs: []repo.LogRun{
				{FirstChunk: 5, BaseCount: 1, ExportCount: 1, Ops: []repo.LogOp{{Kind: repo.LogReplace, Chunk: 5, Row: 0, OldLen: uint64(len(pagedRow(5))), Line: []byte("00005\tchanged")}}},
				{FirstChunk: 150, BaseCount: 1, ExportCount: 0, Ops: []repo.LogOp{{Kind: repo.LogDelete, Chunk: 150, Row: 0, OldLen: uint64(len(pagedRow(150)))}}},
				{FirstChunk: 200, BaseCount: 0, ExportCount: 1, Ops: []repo.LogOp{{Kind: repo.LogInsert, Chunk: 199, Row: 1, Line: []byte("00200\tnew")}}},
			}}
			b, err := repo.EncodeLog(lg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.r.SaveBlob(ctx, pack.DataBlob, b, pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			logID := res.ID
			sn := p.snapshot(t, &logID)
			var want []string
			for i := 0; i < pagedChunks; i++ {
				switch {
				case i == 5:
					want = append(want, "00005\tchanged")
				case i == 150:
				case lose == "chunk" && i == pagedLostAt:
				default:
					want = append(want, pagedRow(i))
				}
			}
			want = append(want, "00200\tnew")
			var sb strings.Builder
			if err := restore.Dump(ctx, p.r, sn.Tree, "/db.t", &sb); err != nil {
				t.Fatal(err)
			}
			if lose == "chunk" && sb.String() != strings.Join(append(append(append([]string(nil), want[:pagedLostAt]...), pagedRow(pagedLostAt)), want[pagedLostAt:]...), "\n")+"\n" {
				t.Fatalf("the log's rows before the loss:\n%.200s", sb.String())
			}
			lost := p.ids[pagedLostAt]
			if lose == "log" {
				lost = logID
				want = nil
			}
			rep, r, n := p.loseAndRepair(t, lost)
			if n.Log != nil || n.Meta[repo.TableMetaRows] != fmt.Sprint(len(want)) {
				t.Errorf("repaired node: log %v, rows %s, want %d", n.Log, n.Meta[repo.TableMetaRows], len(want))
			}
			sb.Reset()
			if err := restore.Dump(ctx, r, rep.Damaged[0].Repaired.Tree, "/db.t", &sb); err != nil {
				t.Fatal(err)
			}
			wantText := ""
			if len(want) > 0 {
				wantText = strings.Join(want, "\n") + "\n"
			}
			if sb.String() != wantText || n.Size != uint64(len(wantText)) {
				t.Errorf("repaired snapshot restores %d bytes (size %d), want %d", sb.Len(), n.Size, len(wantText))
			}
		})
	}
}
