package repair_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repair"
	"strata/repo/repotest"
	"strata/repo/restore"
)

// A paged table's fixture: the table db.t of pagedChunks rows, one a
// chunk (pagedRow), its chunk list in pages; chunk pagedLostAt is in a
// data pack of its own, so that a test can lose exactly that chunk.
const pagedChunks, pagedLostAt = 200, 100

// pagedRow is row i of the paged table, without its newline.
func pagedRow(i int) string { return fmt.Sprintf("%05d\trow %d", i, i) }

// pagedTable is a repository holding the paged table's chunks and pages.
type pagedTable struct {
	r    *repo.Repository
	be   backend.Storage
	ids  []pack.ID // the chunks, in order
	size uint64    // the table's bytes
	root *pack.ID  // the pages' root
}

// newPagedTable saves the paged table's chunks and pages in a new
// repository.
func newPagedTable(t *testing.T) *pagedTable {
	t.Helper()
	ctx := context.Background()
	r, be := repotest.New(t)
	p := &pagedTable{r: r, be: be}
	save := func(from, to int) {
		for i := from; i < to; i++ {
			res, err := r.SaveBlob(ctx, pack.DataBlob, []byte(pagedRow(i)+"\n"), pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			p.ids = append(p.ids, res.ID)
			p.size += uint64(len(pagedRow(i)) + 1)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	save(0, pagedLostAt)
	save(pagedLostAt, pagedLostAt+1) // a pack of its own
	save(pagedLostAt+1, pagedChunks)
	pw := repo.NewPageWriter(r.SaveTreeBlob)
	for i, id := range p.ids {
		if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: fmt.Sprintf("%05d", i), Rows: 1, Bytes: uint64(len(pagedRow(i)) + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	root, err := pw.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.root = root
	return p
}

// snapshot saves a snapshot of the table as /db.t, with the change log
// log (none if nil).
func (p *pagedTable) snapshot(t *testing.T, log *pack.ID) *repo.Snapshot {
	t.Helper()
	ctx := context.Background()
	tree, err := p.r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "db.t", Kind: repo.NodeTable, Mode: 0o600, Size: p.size, Pages: p.root, Log: log,
		Meta: map[string]string{repo.TableMetaRows: fmt.Sprint(pagedChunks)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &repo.Snapshot{Time: time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC), Host: "db1", Source: "sqlite:///t.db", Paths: []string{"/db.t"}, Tree: tree}
	if err := p.r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	return sn
}

// loseAndRepair removes the pack of blob lost, then repairs the index
// and the snapshots (forgetting the damaged one) as repair does, and
// returns the report, whose one damaged snapshot was repaired, and the
// repaired snapshot's /db.t on a fresh handle.
func (p *pagedTable) loseAndRepair(t *testing.T, lost pack.ID) (*repair.SnapshotsReport, *repo.Repository, *repo.Node) {
	t.Helper()
	ctx := context.Background()
	loc, ok := p.r.Index().Lookup(lost)
	if !ok {
		t.Fatal("lost blob not indexed")
	}
	if err := p.be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}); err != nil {
		t.Fatal(err)
	}
	open := func() *repo.Repository {
		r, err := repo.Open(ctx, p.be, repotest.Password, repotest.Options(t))
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
	r := repotest.Reopen(t, p.be)
	n, err := restore.FindNode(ctx, r, rep.Damaged[0].Repaired.Tree, "/db.t")
	if err != nil {
		t.Fatal(err)
	}
	return rep, r, n
}
