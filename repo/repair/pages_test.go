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

// TestSnapshotsLostChunkOfPagedTable: a table whose chunk list is in
// pages loses the data pack of one chunk in its middle; repair snapshots
// writes the kept chunks as new pages, lowers the rows and size, names
// the lost chunk's first key, and the repaired snapshot restores.
func TestSnapshotsLostChunkOfPagedTable(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	const chunks, lostAt = 200, 100
	var ids []pack.ID
	var size uint64
	save := func(from, to int) {
		for i := from; i < to; i++ {
			b := fmt.Appendf(nil, "%05d\trow %d\n", i, i)
			res, err := r.SaveBlob(ctx, pack.DataBlob, b, pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.ID)
			size += uint64(len(b))
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
		if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: fmt.Sprintf("%05d", i), Rows: 1, Bytes: uint64(len(fmt.Sprintf("%05d\trow %d\n", i, i)))}); err != nil {
			t.Fatal(err)
		}
	}
	root, err := pw.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "db.t", Kind: repo.NodeTable, Mode: 0o600, Size: size, Pages: root,
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
	loc, ok := r.Index().Lookup(ids[lostAt])
	if !ok {
		t.Fatal("lost chunk not indexed")
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
	if len(rep.Damaged) != 1 || rep.Damaged[0].Repaired == nil || len(rep.Damaged[0].Losses) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if text := rep.Damaged[0].Losses[0].Text; !strings.Contains(text, "1 chunks missing, 1 rows") || !strings.Contains(text, `"00100"`) {
		t.Errorf("loss: %s", text)
	}

	r = repotest.Reopen(t, be)
	repaired := rep.Damaged[0].Repaired
	n, err := restore.FindNode(ctx, r, repaired.Tree, "/db.t")
	if err != nil {
		t.Fatal(err)
	}
	if n.Pages == nil || len(n.Content) > 0 || n.Meta[repo.TableMetaRows] != fmt.Sprint(chunks-1) {
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
	want := append(append([]pack.ID(nil), ids[:lostAt]...), ids[lostAt+1:]...)
	if fmt.Sprint(got) != fmt.Sprint(want) || n.Size != keptBytes {
		t.Errorf("repaired list: %d chunks (want %d), size %d (kept %d)", len(got), len(want), n.Size, keptBytes)
	}
	var sb strings.Builder
	if err := restore.Dump(ctx, r, repaired.Tree, "/db.t", &sb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), "00100\t") || strings.Count(sb.String(), "\n") != chunks-1 {
		t.Errorf("restored %d rows", strings.Count(sb.String(), "\n"))
	}
}
