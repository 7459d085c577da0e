package prune_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/backend/local"
	"strata/repo/backend/mem"
	"strata/repo/prune"
	"strata/repo/repotest"
)

// fileName matches a pack or index file as errors name it.
var fileName = regexp.MustCompile(`(data/[0-9a-f]{2}/|index/)[0-9a-f]{64}`)

// pruneFault is a fault injected into the n-th step of its kind, and what
// prune's error must then hold.
type pruneFault struct {
	name  string
	local bool // on the local backend, which must leave no temporary file
	// removes: the fault hits after prune began removing files, so files
	// it no longer needs may be gone.
	removes bool
	// every: test steps 1, 1+every, 1+2*every, ... (TestPruneStoppedAtEveryStep
	// stops prune at each one); 0 means 1.
	every  int
	inject func(be *faulty.Backend, n int)
	is     error    // the cause, compared with errors.Is
	says   []string // phrases the message must hold, besides the file's name
}

// nth returns a handle matcher that accepts the n-th file of type ft it
// is asked about and every file first seen after it, as a disk that fails
// from some point on; files seen before keep working.
func nth(ft backend.FileType, n int) func(backend.Handle) bool {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(h backend.Handle) bool {
		if h.Type != ft {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		i, ok := seen[h.Name]
		if !ok {
			i = len(seen) + 1
			seen[h.Name] = i
		}
		return i >= n
	}
}

// TestPruneFaults makes each save, load of a pack, torn write and removal
// of a prune fail in turn, as a full disk, a failing disk or a crash
// would: prune returns the cause with the file's name and what to do, has
// deleted nothing it still needs, every snapshot restores, and the next
// prune leaves a repository that checks clean (repotest's check).
func TestPruneFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	eio := fmt.Errorf("injected fault: %w", syscall.EIO)
	eacces := fmt.Errorf("injected fault: %w", syscall.EACCES)
	// One history, copied for each step.
	tmpl := mem.New()
	h := newHistory(repotest.NewOn(t, tmpl), 60)
	for i := range 8 {
		h.replace(8)
		h.snapshot(t, hour(i), 8)
	}
	h.forget(t, 5)
	plan, err := prune.Run(context.Background(), repotest.Reopen(t, tmpl), prune.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.PacksRepacked == 0 || plan.PacksDeleted == 0 {
		t.Fatalf("prune would repack %d and delete %d packs; the test needs both", plan.PacksRepacked, plan.PacksDeleted)
	}
	for _, f := range []pruneFault{
		{name: "disk-full", inject: func(be *faulty.Backend, n int) { be.FailSaveAfter(n, faulty.ErrDiskFull) },
			is: syscall.ENOSPC, says: []string{"nothing was deleted"}},
		{name: "pack-load-error", inject: func(be *faulty.Backend, n int) { be.FailLoad(nth(backend.PackFile, n), eio) },
			is: syscall.EIO, says: []string{"nothing was"}},
		{name: "torn-pack", local: true, inject: func(be *faulty.Backend, n int) {
			be.ShortWrite(nth(backend.PackFile, n), 100, faulty.ErrDiskFull)
		}, is: syscall.ENOSPC, says: []string{"nothing was deleted"}},
		{name: "torn-index", local: true, inject: func(be *faulty.Backend, n int) {
			be.ShortWrite(nth(backend.IndexFile, n), 10, faulty.ErrDiskFull)
		}, is: syscall.ENOSPC, says: []string{"writing the new index", "nothing was deleted"}},
		{name: "remove-denied", removes: true, every: 5, inject: func(be *faulty.Backend, n int) { be.FailRemoveAfter(n, eacces) },
			is: syscall.EACCES, says: []string{"the repository is consistent; the next prune removes it"}},
	} {
		t.Run(f.name, func(t *testing.T) {
			steps := 0
			for n, failed := 1, true; failed; n += max(f.every, 1) {
				t.Run(fmt.Sprint(n), func(t *testing.T) { failed = pruneWithFault(t, f, n, tmpl, h) })
				if failed {
					steps++
				}
			}
			if steps == 0 {
				t.Fatal("the fault never hit prune")
			}
			t.Logf("prune failed cleanly at each of %d steps tried", steps)
		})
	}
}

// pruneWithFault runs one prune of a copy of tmpl, whose snapshots h
// knows, with f injected at step n, and reports whether the fault made it
// fail. The copy is checked when t ends.
func pruneWithFault(t *testing.T, f pruneFault, n int, tmpl backend.Storage, h *history) bool {
	ctx := context.Background()
	var inner backend.Storage = mem.New()
	dir := t.TempDir()
	if f.local {
		var err error
		if inner, err = local.Create(dir); err != nil {
			t.Fatal(err)
		}
	}
	repotest.CopyFiles(t, tmpl, inner)
	be := faulty.New(inner)
	t.Cleanup(func() { repotest.CheckClean(t, be) })
	before := files(t, be)

	f.inject(be, n)
	_, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{})
	be.Clear()
	if err != nil {
		msg := err.Error()
		if !errors.Is(err, f.is) {
			t.Errorf("prune failed with %v, want %v", err, f.is)
		}
		if !fileName.MatchString(msg) {
			t.Errorf("the error names no pack or index file: %v", err)
		}
		for _, s := range f.says {
			if !strings.Contains(msg, s) {
				t.Errorf("the error does not say %q: %v", s, err)
			}
		}
		after := files(t, be)
		for name := range before {
			if _, ok := after[name]; !ok && !f.removes {
				t.Errorf("prune failed before its removals, but removed %s", name)
			}
		}
		if t.Failed() || n == 1 {
			t.Logf("prune: %v", err)
		}
	}
	if f.local {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
				t.Errorf("a failed save left %s", p)
			}
			return err
		})
	}
	h.verify(t, repotest.Reopen(t, be))
	if _, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{}); err != nil {
		t.Fatalf("prune after the fault: %v", err)
	}
	h.verify(t, repotest.Reopen(t, be))
	return err != nil
}

// replace gives n slots new content, stored whole: the delta chains of
// their old versions end there, so once the snapshots that need those are
// forgotten, the packs holding them hold unused blobs beside used ones.
func (h *history) replace(n int) {
	for range n {
		k := h.rng.IntN(len(h.slots))
		h.slots[k], h.ids[k] = h.block(), pack.ID{}
	}
}
