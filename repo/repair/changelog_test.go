package repair_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repair"
	"strata/repo/repotest"
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
			r, be := repotest.New(t)
			const chunks, lostAt = 200, 100
			row := func(i int) string { return fmt.Sprintf("%05d\trow %d", i, i) }
			var ids []pack.ID
			var size uint64
			save := func(from, to int) {
				for i := from; i < to; i++ {
					res, err := r.SaveBlob(ctx, pack.DataBlob, []byte(row(i)+"\n"), pack.ID{})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, res.ID)
					size += uint64(len(row(i)) + 1)
				}
				if err := r.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			save(0, lostAt)
			save(lostAt, lostAt+1) // a pack of its own
			save(lostAt+1, chunks)
			pw := repo.NewPageWriter(r.SaveTreeBlob)
			for i, id := range ids {
				if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: fmt.Sprintf("%05d", i), Rows: 1, Bytes: uint64(len(row(i)) + 1)}); err != nil {
					t.Fatal(err)
				}
			}
			root, err := pw.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lg := &repo.TableLog{BaseChunks: chunks, BaseRows: chunks, Depth: 1, Runs: []repo.LogRun{
				{FirstChunk: 5, BaseCount: 1, ExportCount: 1, Ops: []repo.LogOp{{Kind: repo.LogReplace, Chunk: 5, Row: 0, OldLen: uint64(len(row(5))), Line: []byte("00005\tchanged")}}},
				{FirstChunk: 150, BaseCount: 1, ExportCount: 0, Ops: []repo.LogOp{{Kind: repo.LogDelete, Chunk: 150, Row: 0, OldLen: uint64(len(row(150)))}}},
				{FirstChunk: 200, BaseCount: 0, ExportCount: 1, Ops: []repo.LogOp{{Kind: repo.LogInsert, Chunk: 199, Row: 1, Line: []byte("00200\tnew")}}},
			}}
			b, err := repo.EncodeLog(lg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.SaveBlob(ctx, pack.DataBlob, b, pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			logID := res.ID
			tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "db.t", Kind: repo.NodeTable, Mode: 0o600, Size: size, Pages: root, Log: &logID,
				Meta: map[string]string{repo.TableMetaRows: fmt.Sprint(chunks)}}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			sn := &repo.Snapshot{Time: time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC), Host: "db1", Source: "sqlite:///t.db", Paths: []string{"/db.t"}, Tree: tree}
			if err := r.SaveSnapshot(ctx, sn); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := 0; i < chunks; i++ {
				switch {
				case i == 5:
					want = append(want, "00005\tchanged")
				case i == 150:
				case lose == "chunk" && i == lostAt:
				default:
					want = append(want, row(i))
				}
			}
			want = append(want, "00200\tnew")
			var sb strings.Builder
			if err := restore.Dump(ctx, r, sn.Tree, "/db.t", &sb); err != nil {
				t.Fatal(err)
			}
			if lose == "chunk" && sb.String() != strings.Join(append(append(append([]string(nil), want[:lostAt]...), row(lostAt)), want[lostAt:]...), "\n")+"\n" {
				t.Fatalf("the log's rows before the loss:\n%.200s", sb.String())
			}
			lost := ids[lostAt]
			if lose == "log" {
				lost = logID
				want = nil
			}
			loc, ok := r.Index().Lookup(lost)
			if !ok {
				t.Fatal("lost blob not indexed")
			}
			if err := be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}); err != nil {
				t.Fatal(err)
			}
			open := func() *repo.Repository {
				r, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t))
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if _, err := repair.Index(ctx, open(), repair.IndexOptions{}); err != nil {
				t.Fatal(err)
			}
			rep, err := repair.Snapshots(ctx, open(), repair.SnapshotsOptions{Forget: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Damaged) != 1 || rep.Damaged[0].Repaired == nil {
				t.Fatalf("report: %+v", rep)
			}
			r = repotest.Reopen(t, be)
			repaired := rep.Damaged[0].Repaired
			n, err := restore.FindNode(ctx, r, repaired.Tree, "/db.t")
			if err != nil {
				t.Fatal(err)
			}
			if n.Log != nil || n.Meta[repo.TableMetaRows] != fmt.Sprint(len(want)) {
				t.Errorf("repaired node: log %v, rows %s, want %d", n.Log, n.Meta[repo.TableMetaRows], len(want))
			}
			sb.Reset()
			if err := restore.Dump(ctx, r, repaired.Tree, "/db.t", &sb); err != nil {
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
