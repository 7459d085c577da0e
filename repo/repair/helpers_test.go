package repair_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
	"strata/repo/restore"
	"strata/verify"
)

// fixture is a small repository with three snapshots, each group of blobs
// in packs of its own so that a test can remove exactly what it means to:
//
//	S1: /srv/a.bin = [a1 a2 a3]   /srv/db.t (table) = [t1 t2 t3]   /dump.sql (stream) = [s1]
//	S2: /c.bin = [d1]   /x.bin = [x1 a1]
//	S3: /deep/y.bin = [x1]
//
// Data packs: pA holds a1 a2 t1 t2, pB a3 t3 s1, pC d1 (a delta blob on
// a3) and x1. Tree packs: pSrv the tree of /srv, pRoots the roots of S1
// and S2, pDeep the tree of S3's /deep, pRoot3 S3's root; each has a twin
// holding the second copy of its trees (twin). Each group was flushed on
// its own, so each has its own index file too.
type fixture struct {
	be backend.Storage

	a1, a2, a3, t1, t2, t3, s1, d1, x1 pack.ID
	data                               map[pack.ID][]byte

	s1ID, s2ID, s3ID                        pack.ID // snapshots
	pA, pB, pC, pSrv, pRoots, pDeep, pRoot3 pack.ID
	twin                                    map[pack.ID]pack.ID
}

// The table node's definition, as dbexport writes it (rows = 249).
const tableDef = `{"name":"t","columns":[{"name":"id","type":"integer","kind":"int"}],"primary_key":["id"],"ddl":"CREATE TABLE t (id integer PRIMARY KEY)","rows":249,"consistent":true}`

func newFixture(t *testing.T, be backend.Storage) *fixture {
	t.Helper()
	ctx := context.Background()
	r := repotest.NewOn(t, be)
	f := &fixture{be: be, data: map[pack.ID][]byte{}}
	rng := rand.New(rand.NewPCG(1, 2))
	blob := func(n int, base pack.ID) pack.ID {
		t.Helper()
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(4)) // compressible, yet each blob differs
		}
		if !base.IsNull() {
			b = bytes.Clone(f.data[base])
			b[len(b)/2] ^= 1
		}
		res, err := r.SaveBlob(ctx, pack.DataBlob, b, base)
		if err != nil {
			t.Fatal(err)
		}
		f.data[res.ID] = b
		return res.ID
	}
	flush := func() {
		t.Helper()
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tree := func(nodes ...repo.Node) pack.ID {
		t.Helper()
		id, err := r.SaveTree(ctx, &repo.Tree{Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	size := func(ids ...pack.ID) uint64 {
		var n uint64
		for _, id := range ids {
			n += uint64(len(f.data[id]))
		}
		return n
	}
	file := func(name, kind string, ids ...pack.ID) repo.Node {
		return repo.Node{Name: name, Kind: kind, Mode: 0o600, Size: size(ids...), Content: ids}
	}
	dir := func(name string, sub pack.ID) repo.Node {
		return repo.Node{Name: name, Kind: repo.NodeDir, Mode: 0o700, Subtree: &sub}
	}

	f.a1, f.a2, f.t1, f.t2 = blob(3000, pack.ID{}), blob(2000, pack.ID{}), blob(1500, pack.ID{}), blob(1500, pack.ID{})
	flush()
	f.a3, f.t3, f.s1 = blob(1000, pack.ID{}), blob(700, pack.ID{}), blob(900, pack.ID{})
	flush()
	f.d1, f.x1 = blob(0, f.a3), blob(1200, pack.ID{})
	flush()

	table := file("db.t", repo.NodeTable, f.t1, f.t2, f.t3)
	table.Chunks = []repo.ChunkInfo{
		{FirstKey: "1", Rows: 99, Bytes: size(f.t1)},
		{FirstKey: "100", Rows: 100, Bytes: size(f.t2)},
		{FirstKey: "200", Rows: 50, Bytes: size(f.t3)},
	}
	table.Meta = map[string]string{"engine": "sqlite", repo.TableMetaRows: "249", repo.TableMetaTable: tableDef}
	srv := tree(file("a.bin", repo.NodeFile, f.a1, f.a2, f.a3), table)
	flush()
	root1 := tree(dir("srv", srv), file("dump.sql", repo.NodeStream, f.s1))
	root2 := tree(file("c.bin", repo.NodeFile, f.d1), file("x.bin", repo.NodeFile, f.x1, f.a1))
	flush()
	deep := tree(file("y.bin", repo.NodeFile, f.x1))
	flush()
	root3 := tree(dir("deep", deep))
	flush()

	snapshot := func(root pack.ID, day int) pack.ID {
		t.Helper()
		sn := &repo.Snapshot{
			Time: time.Date(2025, 6, day, 3, 0, 0, 0, time.UTC), Host: "db1", Source: "files:/srv",
			Paths: []string{"/srv"}, Tree: root, Tier: "daily", Tags: []string{"nightly"},
		}
		if err := r.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}
	f.s1ID, f.s2ID, f.s3ID = snapshot(root1, 1), snapshot(root2, 2), snapshot(root3, 3)

	packOf := func(id pack.ID) pack.ID {
		t.Helper()
		loc, ok := r.Index().Lookup(id)
		if !ok {
			t.Fatalf("blob %s is not indexed", id.Short())
		}
		return loc.Pack
	}
	f.pA, f.pB, f.pC = packOf(f.a1), packOf(f.a3), packOf(f.d1)
	f.pSrv, f.pRoots, f.pDeep, f.pRoot3 = packOf(srv), packOf(root1), packOf(deep), packOf(root3)
	f.twin = map[pack.ID]pack.ID{}
	for _, tree := range []pack.ID{srv, root1, deep, root3} {
		locs := r.Index().LookupAll(tree)
		if len(locs) != repo.TreeCopies || locs[0].Pack == locs[1].Pack {
			t.Fatalf("tree %s is stored in %d packs, want %d different ones", tree.Short(), len(locs), repo.TreeCopies)
		}
		f.twin[locs[0].Pack], f.twin[locs[1].Pack] = locs[1].Pack, locs[0].Pack
	}
	if loc, ok := r.Index().Lookup(f.d1); !ok || loc.Compression != pack.Delta {
		t.Fatalf("d1 is stored as %v, want a delta blob", loc.Compression)
	}
	if n := len(r.Index().Packs()); n != 11 {
		t.Fatalf("fixture has %d packs, want 11 (3 data packs, 4 tree packs and their twins)", n)
	}
	return f
}

// open opens the repository as the repair commands do: without loading
// the index.
func (f *fixture) open(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, repotest.Password, repotest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// removeTrees removes tree pack id and its twin: both copies of its trees.
func (f *fixture) removeTrees(t *testing.T, id pack.ID) {
	t.Helper()
	f.remove(t, backend.PackFile, id)
	f.remove(t, backend.PackFile, f.twin[id])
}

func (f *fixture) remove(t *testing.T, typ backend.FileType, id pack.ID) {
	t.Helper()
	if err := f.be.Remove(context.Background(), backend.Handle{Type: typ, Name: id.String()}); err != nil {
		t.Fatal(err)
	}
}

// replace stores data as the file typ/id, in place of what was there.
func (f *fixture) replace(t *testing.T, typ backend.FileType, id pack.ID, data []byte) {
	t.Helper()
	f.remove(t, typ, id)
	if err := f.be.Save(context.Background(), backend.Handle{Type: typ, Name: id.String()}, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) load(t *testing.T, typ backend.FileType, id pack.ID) []byte {
	t.Helper()
	b, err := f.be.Load(context.Background(), backend.Handle{Type: typ, Name: id.String()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flip inverts one bit of the file typ/id at pos (negative: from the end).
func (f *fixture) flip(t *testing.T, typ backend.FileType, id pack.ID, pos int) {
	t.Helper()
	b := bytes.Clone(f.load(t, typ, id))
	if pos < 0 {
		pos += len(b)
	}
	b[pos] ^= 1
	f.replace(t, typ, id, b)
}

// files lists the files of type typ.
func (f *fixture) files(t *testing.T, typ backend.FileType) []pack.ID {
	t.Helper()
	var ids []pack.ID
	err := f.be.List(context.Background(), typ, func(fi backend.FileInfo) error {
		id, err := pack.ParseID(fi.Handle.Name)
		if err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ids, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// indexFileOf returns the index file that lists pack p.
func (f *fixture) indexFileOf(t *testing.T, p pack.ID) pack.ID {
	t.Helper()
	r := f.open(t)
	for _, id := range f.files(t, backend.IndexFile) {
		for _, pb := range decodeIndexFile(t, r, id).Packs {
			if pb.PackID == p {
				return id
			}
		}
	}
	t.Fatalf("no index file lists pack %s", p.Short())
	return pack.ID{}
}

// check runs check on a fresh handle and returns its findings.
func (f *fixture) check(t *testing.T) []verify.Finding {
	t.Helper()
	rep, err := verify.Check(context.Background(), f.open(t), verify.CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Findings
}

// indexedBlobs returns every blob the index lists, loaded as a new process
// loads it.
func (f *fixture) indexedBlobs(t *testing.T) map[pack.ID]bool {
	t.Helper()
	r := repotest.Reopen(t, f.be)
	blobs := map[pack.ID]bool{}
	for _, id := range []pack.ID{f.a1, f.a2, f.a3, f.t1, f.t2, f.t3, f.s1, f.d1, f.x1} {
		if r.HasBlob(id) {
			blobs[id] = true
		}
	}
	return blobs
}

// restores dumps the whole snapshot id, which loads every blob it
// references and compares every file's length with its node's size.
func (f *fixture) restores(t *testing.T, id pack.ID) {
	t.Helper()
	r := repotest.Reopen(t, f.be)
	sn, err := r.LoadSnapshot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := restore.Dump(context.Background(), r, sn.Tree, "/", io.Discard); err != nil {
		t.Errorf("snapshot %s does not restore: %v", id.Short(), err)
	}
}

// dump returns the content at snapshot path p of snapshot id.
func (f *fixture) dump(t *testing.T, id pack.ID, p string) []byte {
	t.Helper()
	r := repotest.Reopen(t, f.be)
	sn, err := r.LoadSnapshot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := restore.Dump(context.Background(), r, sn.Tree, p, &buf); err != nil {
		t.Fatalf("dumping %s of snapshot %s: %v", p, id.Short(), err)
	}
	return buf.Bytes()
}

// node returns the node at snapshot path p of snapshot id.
func (f *fixture) node(t *testing.T, id pack.ID, p string) *repo.Node {
	t.Helper()
	r := repotest.Reopen(t, f.be)
	sn, err := r.LoadSnapshot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n, err := restore.FindNode(context.Background(), r, sn.Tree, p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) concat(ids ...pack.ID) []byte {
	var b []byte
	for _, id := range ids {
		b = append(b, f.data[id]...)
	}
	return b
}
