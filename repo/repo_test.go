package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/crypto"
	"strata/repo/repotest"
)

var ctx = context.Background()

// csvChunk returns CSV-like rows, deterministic for a seed.
func csvChunk(seed int64, rows int) []byte {
	rng := rand.New(rand.NewSource(seed))
	var b bytes.Buffer
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%d\tcustomer-%d\tuser%d@example.com\t%d.%02d\tactive\n", i, rng.Intn(1e6), rng.Intn(1e6), rng.Intn(1e4), rng.Intn(100))
	}
	return b.Bytes()
}

func TestSaveLoadBlob(t *testing.T) {
	r, be := repotest.New(t)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"small", []byte("hello")},
		{"csv", csvChunk(1, 2000)},
		{"random", randomBytes(2, 300<<10)},
	}
	ids := map[string]pack.ID{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.SaveBlob(ctx, pack.DataBlob, tt.data, pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != r.Key().BlobID(tt.data) {
				t.Fatalf("ID %s is not the keyed hash of the data", res.ID)
			}
			again, err := r.SaveBlob(ctx, pack.DataBlob, tt.data, pack.ID{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Stored != 0 {
				t.Errorf("saving the same blob twice stored %d more bytes", again.Stored)
			}
			ids[tt.name] = res.ID
		})
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := repotest.Reopen(t, be)
	for _, tt := range tests {
		got, err := r2.LoadBlob(ctx, ids[tt.name])
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !bytes.Equal(got, tt.data) {
			t.Errorf("%s: loaded blob differs", tt.name)
		}
	}
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestDeltaBlobs(t *testing.T) {
	r, be := repotest.New(t)
	base := csvChunk(7, 1500)
	changed := bytes.Replace(base, []byte("\t"), []byte("\tX"), 1)
	baseRes, err := r.SaveBlob(ctx, pack.DataBlob, base, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := r.SaveBlob(ctx, pack.DataBlob, changed, baseRes.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Compression != pack.Delta {
		t.Fatalf("compression = %v, want delta", res.Compression)
	}
	if res.Stored*10 > baseRes.Stored {
		t.Errorf("delta stored %d bytes, base stored %d: want under a tenth", res.Stored, baseRes.Stored)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	loc, _ := r.Index().Lookup(res.ID)
	if loc.Base != baseRes.ID {
		t.Errorf("index base = %s, want %s", loc.Base.Short(), baseRes.ID.Short())
	}
	got, err := repotest.Reopen(t, be).LoadBlob(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, changed) {
		t.Error("delta blob does not restore its plaintext")
	}
}

func TestDeltaChainDepthIsBounded(t *testing.T) {
	r, _ := repotest.New(t, func(c *repo.Config, _ *repo.Options) { c.MaxDeltaDepth = 3 })
	data := csvChunk(9, 1000)
	prev := pack.ID{}
	var (
		comps []pack.Compression
		ids   []pack.ID
	)
	for i := 0; i < 6; i++ {
		data = append(append([]byte(nil), data...), fmt.Sprintf("%d\tnew row\n", 100000+i)...)
		res, err := r.SaveBlob(ctx, pack.DataBlob, data, prev)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		comps = append(comps, res.Compression)
		ids = append(ids, res.ID)
		prev = res.ID
	}
	// The fifth blob would make the chain 4 long: it starts a new chain
	// from the plain root instead.
	want := []pack.Compression{pack.Zstd, pack.Delta, pack.Delta, pack.Delta, pack.Delta, pack.Delta}
	for i := range want {
		if comps[i] != want[i] {
			t.Fatalf("compressions = %v, want %v", comps, want)
		}
	}
	for i, id := range ids {
		if d := depthOf(r, id); d > 3 {
			t.Errorf("blob %d has a chain of %d deltas, more than the limit 3", i, d)
		}
	}
}

// Delta bases are decoded into pooled buffers that many savers share:
// chains saved side by side, each link against the one before, must all
// load back exactly, whether the loads share a cache or not.
func TestDeltaChainsSavedConcurrentlyLoadBack(t *testing.T) {
	r, be := repotest.New(t)
	const chains, links = 6, 12
	want := make([][][]byte, chains)
	ids := make([][]pack.ID, chains)
	data := make([][]byte, chains)
	for c := range chains {
		data[c] = csvChunk(int64(100+c), 800)
	}
	// Round i saves link i of every chain side by side, each against
	// link i-1, which the previous round's flush put in the index.
	for i := range links {
		var wg sync.WaitGroup
		errs := make([]error, chains)
		for c := range chains {
			wg.Go(func() {
				d := bytes.Replace(data[c], []byte(fmt.Sprintf("\n%d\t", 10*i+c)), []byte(fmt.Sprintf("\n%d\tchanged %d\t", 10*i+c, i)), 1)
				d = append(d, fmt.Sprintf("%d\tchain %d link %d\n", 900000+i, c, i)...)
				prev := pack.ID{}
				if i > 0 {
					prev = ids[c][i-1]
				}
				res, err := r.SaveBlob(ctx, pack.DataBlob, d, prev)
				if err == nil && i > 0 && res.Compression != pack.Delta {
					err = fmt.Errorf("chain %d link %d stored as %v, want delta", c, i, res.Compression)
				}
				errs[c] = err
				data[c] = d
				want[c] = append(want[c], d)
				ids[c] = append(ids[c], res.ID)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, loader := range []*repo.Repository{r, repotest.Reopen(t, be)} {
		var lwg sync.WaitGroup
		for c := range chains {
			lwg.Go(func() {
				for i := links - 1; i >= 0; i-- {
					got, err := loader.LoadBlob(ctx, ids[c][i])
					if err != nil {
						t.Error(err)
						return
					}
					if !bytes.Equal(got, want[c][i]) {
						t.Errorf("chain %d link %d (depth %d) loads %d bytes that differ from the %d saved", c, i, depthOf(loader, ids[c][i]), len(got), len(want[c][i]))
					}
				}
			})
		}
		lwg.Wait()
	}
}

func TestPacksAreSplitByTypeAndSize(t *testing.T) {
	r, be := repotest.New(t)
	for i := 0; i < 40; i++ {
		if _, err := r.SaveBlob(ctx, pack.DataBlob, randomBytes(int64(i), 100<<10), pack.ID{}); err != nil {
			t.Fatal(err)
		}
	}
	tree := &repo.Tree{Nodes: []repo.Node{{Name: "a", Kind: repo.NodeFile, Size: 1}}}
	treeID, err := r.SaveTree(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var packs int
	_ = be.List(ctx, backend.PackFile, func(backend.FileInfo) error { packs++; return nil })
	if packs < 4 {
		t.Errorf("%d packs for 4 MiB of data with 1 MiB packs, want at least 4", packs)
	}
	loc, ok := r.Index().Lookup(treeID)
	if !ok {
		t.Fatal("tree not indexed")
	}
	data := 0
	r.Index().Each(func(id pack.ID, l index.Location) bool {
		if l.Pack == loc.Pack && id != treeID {
			data++
		}
		return true
	})
	if data != 0 {
		t.Errorf("tree pack holds %d other blobs, want a pack of trees only", data)
	}
}

func TestOpenErrors(t *testing.T) {
	_, be := repotest.New(t)
	tests := []struct {
		name string
		be   backend.Storage
		pw   string
		want error
	}{
		{"wrong password", be, "nope", repo.ErrWrongPassword},
		{"no repository", mem.New(), repotest.Password, repo.ErrNoRepository},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := repo.Open(ctx, tt.be, tt.pw, repotest.Options(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// The message says how many key files the password was tried on.
			if tt.want == repo.ErrWrongPassword && !strings.HasPrefix(err.Error(), "wrong password or no key found: the password opens none of the 1 key file in ") {
				t.Errorf("message = %q", err)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	r, be := repotest.New(t)
	name, err := r.AddKey(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := repo.Open(ctx, be, "second", repotest.Options(t))
	if err != nil {
		t.Fatalf("open with the added password: %v", err)
	}
	if r2.KeyName() != name {
		t.Errorf("opened with key %s, want %s", r2.KeyName(), name)
	}
	keys, err := r.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys = %v, %v; want 2", keys, err)
	}
	if err := r2.RemoveKey(ctx, name); err == nil {
		t.Error("removing the key in use succeeded")
	}
	if err := r.RemoveKey(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(ctx, be, "second", repotest.Options(t)); !errors.Is(err, repo.ErrWrongPassword) {
		t.Errorf("removed password still opens: %v", err)
	}
	if _, err := r.ChangePassword(ctx, "third"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t)); !errors.Is(err, repo.ErrWrongPassword) {
		t.Errorf("old password still opens after passwd: %v", err)
	}
	if _, err := repo.Open(ctx, be, "third", repotest.Options(t)); err != nil {
		t.Errorf("new password: %v", err)
	}
	// repotest's check at the end uses the original password.
	if _, err := r.AddKey(ctx, repotest.Password); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFileKeepsKDFParams(t *testing.T) {
	_, be := repotest.New(t)
	var data []byte
	_ = be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		data, _ = be.Load(ctx, fi.Handle, 0, 0)
		return nil
	})
	want := fmt.Sprintf(`"memory": %d`, crypto.CheapKDFParams().Memory)
	if !strings.Contains(string(data), want) || !strings.Contains(string(data), `"kdf": "argon2id"`) {
		t.Errorf("key file does not record its argon2id parameters:\n%s", data)
	}
}

// depthOf counts the delta blobs on id's chain.
func depthOf(r *repo.Repository, id pack.ID) int {
	d := 0
	for ; d < 100; d++ {
		loc, ok := r.Index().Lookup(id)
		if !ok || loc.Compression != pack.Delta {
			return d
		}
		id = loc.Base
	}
	return d
}
