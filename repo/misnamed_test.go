package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/repotest"
)

const misnamedType = backend.SnapshotFile

func acceptAll([]byte) error { return nil }

// misnamedScenario stores files under wrong names in every way
// RenameMisnamed distinguishes: three files in a cycle (each holds the
// next one's content), a duplicate under a bogus name, and an intact copy
// under a bogus name of a file whose own name holds damaged bytes. It
// returns the IDs and plaintexts the files must end up with.
func misnamedScenario(t *testing.T, r *repo.Repository, be backend.Storage) ([]pack.ID, []string) {
	t.Helper()
	ctx := context.Background()
	plains := []string{"a", "b", "c", "d", "e"}
	ids := make([]pack.ID, len(plains))
	sealed := make([][]byte, len(plains))
	for i, p := range plains {
		id, err := r.SaveFile(ctx, misnamedType, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		sealed[i] = load(t, be, id.String())
	}
	put := func(name string, b []byte) {
		t.Helper()
		h := backend.Handle{Type: misnamedType, Name: name}
		if err := be.Remove(ctx, h); err != nil && !errors.Is(err, backend.ErrNotExist) {
			t.Fatal(err)
		}
		if err := be.Save(ctx, h, backend.NewByteReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	put(ids[0].String(), sealed[1])
	put(ids[1].String(), sealed[2])
	put(ids[2].String(), sealed[0])
	put(pack.ID(bytes.Repeat([]byte{0xab}, pack.IDSize)).String(), sealed[3])
	put(pack.ID(bytes.Repeat([]byte{0xcd}, pack.IDSize)).String(), sealed[4])
	damaged := slices.Clone(sealed[4])
	damaged[len(damaged)/2] ^= 1
	put(ids[4].String(), damaged)
	return ids, plains
}

// renamedAll checks that every file is stored under its own name, once,
// with its content.
func renamedAll(t *testing.T, r *repo.Repository, ids []pack.ID, plains []string) {
	t.Helper()
	ctx := context.Background()
	listed, err := r.List(ctx, misnamedType)
	if err != nil {
		t.Fatal(err)
	}
	cmp := func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) }
	slices.SortFunc(listed, cmp)
	want := slices.Clone(ids)
	slices.SortFunc(want, cmp)
	if !slices.Equal(listed, want) {
		t.Fatalf("stored after the rename: %v, want %v", listed, want)
	}
	for i, id := range ids {
		plain, err := r.LoadFile(ctx, misnamedType, id)
		if err != nil || string(plain) != plains[i] {
			t.Errorf("file %s: %q, %v; want %q", id.Short(), plain, err, plains[i])
		}
	}
}

// TestRenameMisnamed: after RenameMisnamed every content is stored under
// its own name, once, unchanged, and a second run finds nothing to do.
func TestRenameMisnamed(t *testing.T) {
	repotest.SkipCheck(t) // the files are not snapshots
	ctx := context.Background()
	r, be := repotest.New(t)
	ids, plains := misnamedScenario(t, r, be)
	done, err := r.RenameMisnamed(ctx, misnamedType, acceptAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) < 5 {
		t.Errorf("renamed %d files, want at least 5: %+v", len(done), done)
	}
	renamedAll(t, r, ids, plains)
	if again, err := r.RenameMisnamed(ctx, misnamedType, acceptAll); err != nil || len(again) != 0 {
		t.Errorf("a second run renamed %v, %v; want nothing", again, err)
	}
}

// TestRenameMisnamedStopped stops RenameMisnamed at each of its saves and
// removals in turn, as a kill would: every content is still stored under
// some name, intact, and a second run completes the rename.
func TestRenameMisnamedStopped(t *testing.T) {
	stop := errors.New("stopped")
	for _, step := range []struct {
		name string
		set  func(*faulty.Backend, int)
	}{
		{"save", func(b *faulty.Backend, n int) { b.FailSaveAfter(n, stop) }},
		{"remove", func(b *faulty.Backend, n int) { b.FailRemoveAfter(n, stop) }},
	} {
		for n := 1; n < 50; n++ {
			finished := false
			t.Run(fmt.Sprintf("%s%d", step.name, n), func(t *testing.T) {
				ctx := context.Background()
				r0, mem := repotest.New(t)
				repotest.SkipCheck(t)
				ids, plains := misnamedScenario(t, r0, mem)
				fb := faulty.New(mem)
				r := repotest.Reopen(t, fb)
				step.set(fb, n)
				_, err := r.RenameMisnamed(ctx, misnamedType, acceptAll)
				if err == nil {
					finished = true // fewer than n steps of this kind
					return
				}
				if !errors.Is(err, stop) {
					t.Fatal(err)
				}
				fb.Clear()
				have := map[string]bool{}
				listed, _ := r.List(ctx, misnamedType)
				for _, name := range listed {
					if plain, err := r.LoadFile(ctx, misnamedType, name); err == nil {
						have[string(plain)] = true
					} else if plain, _, err := r.LoadMisnamed(ctx, misnamedType, name); err == nil {
						have[string(plain)] = true
					}
				}
				for _, p := range plains {
					if !have[p] {
						t.Errorf("content %q is in no file", p)
					}
				}
				if _, err := r.RenameMisnamed(ctx, misnamedType, acceptAll); err != nil {
					t.Fatalf("the run after stopping: %v", err)
				}
				renamedAll(t, r, ids, plains)
			})
			if finished {
				break
			}
		}
	}
}

func load(t *testing.T, be backend.Storage, name string) []byte {
	t.Helper()
	b, err := be.Load(context.Background(), backend.Handle{Type: misnamedType, Name: name}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
