package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/crypto"
	"strata/repo/repotest"
	"strata/verify"
)

const password = "pw"

// fixture is a small repository on the mem backend with two snapshots:
//
//	S1: /db/a.csv = [base]   /raw.bin = [plain1]
//	S2: /b.csv = [delta]     /only2.csv = [plain2]
//
// delta is a delta blob on base, so S2 depends on base without naming it.
// Packs: P1 holds base and plain1 (index file I1), P2 delta and plain2
// (I2), P3 the three trees and P3b their second copies (both in I3). Blobs are a few hundred bytes, so every
// byte of every pack can be damaged in turn.
type fixture struct {
	be *mem.Backend

	base, plain1, delta, plain2 pack.ID // data blobs
	sub, root1, root2           pack.ID // tree blobs
	s1, s2                      pack.ID // snapshots
	p1, p2, p3, p3b             pack.ID // packs
	i1, i2, i3                  pack.ID // index files
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg, err := repo.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.PackSize = 1 << 20
	f := &fixture{be: mem.New()}
	var notices []string
	r, err := repo.Init(ctx, f.be, password, cfg, repo.Options{
		KDF:     crypto.CheapKDFParams(),
		TempDir: t.TempDir(),
		Logger:  repotest.Notices(func(msg string) { notices = append(notices, msg) }),
	})
	if err != nil {
		t.Fatal(err)
	}
	save := func(plain []byte, base pack.ID) (pack.ID, pack.Compression) {
		t.Helper()
		res, err := r.SaveBlob(ctx, pack.DataBlob, plain, base)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID, res.Compression
	}
	flush := func() pack.ID {
		t.Helper()
		before := r.IndexFiles()
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		after := r.IndexFiles()
		if len(after) != len(before)+1 {
			t.Fatalf("Flush wrote %d index files, want 1", len(after)-len(before))
		}
		return after[len(after)-1]
	}

	baseData := csvRows(1, 400)
	f.base, _ = save(baseData, pack.ID{})
	f.plain1, _ = save(randomBytes(2, 64), pack.ID{})
	f.i1 = flush()

	deltaData := bytes.Replace(baseData, []byte("paid"), []byte("PAID"), 1)
	var c pack.Compression
	f.delta, c = save(deltaData, f.base)
	if c != pack.Delta {
		t.Fatalf("delta blob stored as %v, want delta (notices: %q)", c, notices)
	}
	f.plain2, _ = save(csvRows(3, 300), pack.ID{})
	f.i2 = flush()

	tree := func(nodes ...repo.Node) pack.ID {
		t.Helper()
		id, err := r.SaveTree(ctx, &repo.Tree{Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	file := func(name string, blobs ...pack.ID) repo.Node {
		return repo.Node{Name: name, Kind: repo.NodeFile, Mode: 0o600, Size: 1, Content: blobs}
	}
	f.sub = tree(file("a.csv", f.base))
	f.root1 = tree(repo.Node{Name: "db", Kind: repo.NodeDir, Mode: 0o700, Subtree: &f.sub}, file("raw.bin", f.plain1))
	f.root2 = tree(file("b.csv", f.delta), file("only2.csv", f.plain2))
	f.i3 = flush()

	snapshot := func(root pack.ID, at int) pack.ID {
		t.Helper()
		sn := &repo.Snapshot{
			Time: time.Date(2024, 5, at, 3, 0, 0, 0, time.UTC), Host: "db1", Source: "files",
			Paths: []string{"/srv"}, Tree: root,
		}
		if err := r.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}
	f.s1 = snapshot(f.root1, 1)
	f.s2 = snapshot(f.root2, 2)

	f.p1 = f.packOf(t, r, f.base)
	f.p2 = f.packOf(t, r, f.delta)
	f.p3 = f.packOf(t, r, f.root1)
	if f.packOf(t, r, f.plain1) != f.p1 || f.packOf(t, r, f.plain2) != f.p2 || f.packOf(t, r, f.root2) != f.p3 {
		t.Fatal("blobs are not in the packs the fixture expects")
	}
	for _, tree := range []pack.ID{f.sub, f.root1, f.root2} {
		locs := r.Index().LookupAll(tree)
		if len(locs) != 2 || locs[0].Pack != f.p3 || locs[1].Pack == f.p3 || (!f.p3b.IsNull() && locs[1].Pack != f.p3b) {
			t.Fatalf("tree %s is stored in %+v, want P3 and one other pack", tree.Short(), locs)
		}
		f.p3b = locs[1].Pack
	}
	return f
}

func (f *fixture) packOf(t *testing.T, r *repo.Repository, id pack.ID) pack.ID {
	t.Helper()
	loc, ok := r.Index().Lookup(id)
	if !ok {
		t.Fatalf("blob %s not indexed", id.Short())
	}
	return loc.Pack
}

// open returns a fresh handle with its index, so no cache hides damage
// done since.
func (f *fixture) open(t *testing.T) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, password, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// check runs Check on a fresh handle opened as `strata check` opens it:
// without loading the index, which Check loads tolerantly itself.
func (f *fixture) check(t *testing.T, opts verify.CheckOptions) *verify.Report {
	t.Helper()
	r, err := repo.Open(context.Background(), f.be, password, repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Check(context.Background(), r, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return rep
}

// load returns the stored bytes of a file.
func (f *fixture) load(t *testing.T, typ backend.FileType, id pack.ID) []byte {
	t.Helper()
	b, err := f.be.Load(context.Background(), backend.Handle{Type: typ, Name: id.String()}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replace stores data as the file typ/id, in place of what was there.
func (f *fixture) replace(t *testing.T, typ backend.FileType, id pack.ID, data []byte) {
	t.Helper()
	f.remove(t, typ, id)
	if err := f.be.Save(context.Background(), backend.Handle{Type: typ, Name: id.String()}, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) remove(t *testing.T, typ backend.FileType, id pack.ID) {
	t.Helper()
	if err := f.be.Remove(context.Background(), backend.Handle{Type: typ, Name: id.String()}); err != nil {
		t.Fatal(err)
	}
}

// flip changes one byte of the file typ/id and returns a function that
// puts the original back.
func (f *fixture) flip(t *testing.T, typ backend.FileType, id pack.ID, pos int) (undo func()) {
	t.Helper()
	orig := f.load(t, typ, id)
	damaged := bytes.Clone(orig)
	damaged[pos] ^= 0x01
	f.replace(t, typ, id, damaged)
	return func() { f.replace(t, typ, id, orig) }
}

// flipInBlob damages the first byte of blob id's payload (after its
// nonce), in the copy readers try first (for a tree, the one in P3).
func (f *fixture) flipInBlob(t *testing.T, id pack.ID) {
	t.Helper()
	loc, ok := f.open(t).Index().Lookup(id)
	if !ok {
		t.Fatalf("blob %s not indexed", id.Short())
	}
	f.flip(t, backend.PackFile, loc.Pack, int(loc.Offset)+crypto.NonceSize)
}

// flipInCopies damages every copy of blob id as flipInBlob does one.
func (f *fixture) flipInCopies(t *testing.T, id pack.ID) {
	t.Helper()
	for _, loc := range f.open(t).Index().LookupAll(id) {
		f.flip(t, backend.PackFile, loc.Pack, int(loc.Offset)+crypto.NonceSize)
	}
}

// header returns the header entries of a stored pack.
func (f *fixture) header(t *testing.T, r *repo.Repository, p pack.ID) []pack.Blob {
	t.Helper()
	data := f.load(t, backend.PackFile, p)
	blobs, err := pack.ReadHeader(func(off, n int64) ([]byte, error) { return data[off : off+n], nil }, int64(len(data)), r.Key())
	if err != nil {
		t.Fatal(err)
	}
	return blobs
}

// ids returns its arguments sorted, as findings list them.
func ids(list ...pack.ID) []pack.ID {
	out := append([]pack.ID(nil), list...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && bytes.Compare(out[j-1][:], out[j][:]) > 0; j-- {
			out[j-1], out[j] = out[j], out[j-1]
		}
	}
	return out
}

// normalize returns a copy of a finding with its Err (or Detail) cleared,
// so findings can be compared with reflect.DeepEqual; it fails the test if
// a finding that should carry an error or detail does not.
func normalize(t *testing.T, f verify.Finding) verify.Finding {
	t.Helper()
	need := func(err error) {
		if err == nil {
			t.Errorf("%T has no Err", f)
		}
	}
	switch f := f.(type) {
	case *verify.DamagedIndexFile:
		c := *f
		need(c.Err)
		c.Err = nil
		return &c
	case *verify.DamagedPack:
		c := *f
		need(c.Err)
		c.Err = nil
		return &c
	case *verify.DamagedBlob:
		c := *f
		need(c.Err)
		c.Err = nil
		return &c
	case *verify.DamagedSnapshot:
		c := *f
		need(c.Err)
		c.Err = nil
		return &c
	case *verify.DamagedTree:
		c := *f
		need(c.Err)
		c.Err = nil
		return &c
	case *verify.PackHeaderMismatch:
		c := *f
		if c.Detail == "" {
			t.Errorf("%T has no Detail", f)
		}
		c.Detail = ""
		return &c
	}
	return f
}

func assertFindings(t *testing.T, rep *verify.Report, want []verify.Finding) {
	t.Helper()
	got := make([]verify.Finding, len(rep.Findings))
	for i, f := range rep.Findings {
		got[i] = normalize(t, f)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", describe(got), describe(want))
	}
}

func describe(fs []verify.Finding) string {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&b, "  %T %+v\n", f, f)
	}
	if len(fs) == 0 {
		b.WriteString("  (none)\n")
	}
	return b.String()
}

// csvRows returns about size bytes of CSV rows, deterministic for a seed:
// the table data strata backs up, which zstd compresses.
func csvRows(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for row := 0; b.Len() < size; row++ {
		fmt.Fprintf(&b, "%d,2024-%02d-%02d,%s,%d.%02d\n", 1000+row, 1+rng.IntN(12), 1+rng.IntN(28),
			[]string{"paid", "open", "refunded"}[rng.IntN(3)], rng.IntN(1000), rng.IntN(100))
	}
	return b.Bytes()
}

// randomBytes returns n incompressible bytes, deterministic for a seed.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}
