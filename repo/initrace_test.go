package repo_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/repotest"
)

// keyGate holds every save of a key file until two have arrived, so two
// inits both pass the "is there a repository here" check before either
// writes anything.
type keyGate struct {
	backend.Storage
	arrived sync.WaitGroup
}

func (g *keyGate) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.KeyFile {
		g.arrived.Done()
		g.arrived.Wait()
	}
	return g.Storage.Save(ctx, h, rd)
}

// Two inits at the same place: the one whose config is not saved fails
// with ErrRepositoryExists and leaves nothing behind. Before, it left its
// key file and journal file, so its password opened the other's
// repository (through the config copy in its key file), and a backup with
// it wrote data the winner's key could not read.
func TestInitRace(t *testing.T) {
	be := mem.New()
	gate := &keyGate{Storage: be}
	gate.arrived.Add(2)
	passwords := []string{"first password", "second password"}
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i, pw := range passwords {
		done.Add(1)
		go func() {
			defer done.Done()
			_, errs[i] = repo.Init(ctx, gate, pw, repotest.Config(t), repotest.Options(t))
		}()
	}
	done.Wait()
	winner, loser := 0, 1
	if errs[0] != nil {
		winner, loser = 1, 0
	}
	if errs[winner] != nil {
		t.Fatalf("both inits failed: %v; %v", errs[0], errs[1])
	}
	if !errors.Is(errs[loser], repo.ErrRepositoryExists) {
		t.Fatalf("the second init: err = %v, want ErrRepositoryExists", errs[loser])
	}
	for _, ft := range []backend.FileType{backend.KeyFile, backend.JournalFile} {
		n := 0
		if err := be.List(ctx, ft, func(backend.FileInfo) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d %s files after the race, want the winner's one", n, ft)
		}
	}
	if _, err := repo.Open(ctx, be, passwords[loser], repotest.Options(t)); !errors.Is(err, repo.ErrWrongPassword) {
		t.Errorf("opening with the losing init's password: err = %v, want ErrWrongPassword", err)
	}
	if _, err := repo.Open(ctx, be, passwords[winner], repotest.Options(t)); err != nil {
		t.Errorf("opening with the winning init's password: %v", err)
	}
}
