package repo_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// TestRenameMisnamed stores files under wrong names in every way
// RenameMisnamed distinguishes: three files in a cycle (each holds the
// next one's content), a duplicate under a bogus name, and an intact copy
// under a bogus name of a file whose own name holds damaged bytes. After
// it every content is stored under its own name, once, unchanged.
func TestRenameMisnamed(t *testing.T) {
	repotest.SkipCheck(t) // the files are not snapshots
	ctx := context.Background()
	r, be := repotest.New(t)
	const ft = backend.SnapshotFile
	plains := []string{"a", "b", "c", "d", "e"}
	ids := make([]pack.ID, len(plains))
	sealed := make([][]byte, len(plains))
	for i, p := range plains {
		id, err := r.SaveFile(ctx, ft, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		sealed[i] = load(t, be, ft, id.String())
	}
	put := func(name string, b []byte) {
		t.Helper()
		h := backend.Handle{Type: ft, Name: name}
		if err := be.Remove(ctx, h); err != nil && !isNotExist(err) {
			t.Fatal(err)
		}
		if err := be.Save(ctx, h, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	// The cycle a -> b -> c -> a.
	put(ids[0].String(), sealed[1])
	put(ids[1].String(), sealed[2])
	put(ids[2].String(), sealed[0])
	// d twice.
	bogus1 := bytes.Repeat([]byte{0xab}, pack.IDSize)
	put(pack.ID(bogus1).String(), sealed[3])
	// e: damaged under its name, intact under a bogus one.
	bogus2 := bytes.Repeat([]byte{0xcd}, pack.IDSize)
	put(pack.ID(bogus2).String(), sealed[4])
	damaged := slices.Clone(sealed[4])
	damaged[len(damaged)/2] ^= 1
	put(ids[4].String(), damaged)

	done, err := r.RenameMisnamed(ctx, ft, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(done) < 5 {
		t.Errorf("renamed %d files, want at least 5: %+v", len(done), done)
	}
	listed, err := r.List(ctx, ft)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(listed, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	want := slices.Clone(ids)
	slices.SortFunc(want, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(listed, want) {
		t.Fatalf("stored after the rename: %v, want %v", listed, want)
	}
	for i, id := range ids {
		plain, err := r.LoadFile(ctx, ft, id)
		if err != nil || string(plain) != plains[i] {
			t.Errorf("file %s: %q, %v; want %q", id.Short(), plain, err, plains[i])
		}
	}
	if again, err := r.RenameMisnamed(ctx, ft, func([]byte) error { return nil }); err != nil || len(again) != 0 {
		t.Errorf("a second run renamed %v, %v; want nothing", again, err)
	}
}

func load(t *testing.T, be backend.Storage, ft backend.FileType, name string) []byte {
	t.Helper()
	b, err := be.Load(context.Background(), backend.Handle{Type: ft, Name: name}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func isNotExist(err error) bool { return errors.Is(err, backend.ErrNotExist) }
