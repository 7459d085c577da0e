// Package repotest builds repositories for tests: the mem backend, a fixed
// chunker polynomial, cheap key derivation, small packs, and a full
// `check --read-data` when the test ends, so no test can leave silent
// damage behind.
package repotest

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"strata/chunk"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/crypto"
	"strata/verify"
)

// Password opens every repository made here.
const Password = "repotest-password"

// Polynomial is a fixed irreducible polynomial so chunk boundaries are
// the same in every run.
const Polynomial chunk.Pol = 0x3DA3358B4DC173

// Config returns a valid config with the fixed polynomial and 1 MiB packs.
func Config(t testing.TB) repo.Config {
	t.Helper()
	cfg, err := repo.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ChunkerPolynomial = Polynomial
	cfg.PackSize = 1 << 20
	return cfg
}

// Options returns repository options with cheap key derivation and the
// test's temporary folder for packs in progress.
func Options(t testing.TB) repo.Options {
	return repo.Options{KDF: crypto.CheapKDFParams(), TempDir: t.TempDir(), Logger: Notices(func(msg string) { t.Log("notice:", msg) })}
}

// Notices returns a logger that hands each record's message to fn: a
// test's view of the notices a repository (or a storage) gives.
func Notices(fn func(msg string)) *slog.Logger { return slog.New(noticeHandler{fn}) }

type noticeHandler struct{ fn func(string) }

func (h noticeHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h noticeHandler) Handle(_ context.Context, r slog.Record) error {
	h.fn(r.Message)
	return nil
}
func (h noticeHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h noticeHandler) WithGroup(string) slog.Handler      { return h }

// Setup adjusts a repository before it is created.
type Setup func(*repo.Config, *repo.Options)

// New creates a repository on a fresh mem backend. When the test ends it
// checks the repository (reading all data) and fails the test on any
// finding; call SkipCheck for tests that damage the repository on purpose.
func New(t testing.TB, setups ...Setup) (*repo.Repository, backend.Storage) {
	t.Helper()
	be := mem.New()
	return NewOn(t, be, setups...), be
}

// NewOn is New on a given backend.
func NewOn(t testing.TB, be backend.Storage, setups ...Setup) *repo.Repository {
	t.Helper()
	cfg, opts := Config(t), Options(t)
	for _, s := range setups {
		s(&cfg, &opts)
	}
	r, err := repo.Init(context.Background(), be, Password, cfg, opts)
	if err != nil {
		t.Fatalf("init repository: %v", err)
	}
	t.Cleanup(func() {
		skippedMu.Lock()
		skip := skipped[t]
		delete(skipped, t)
		skippedMu.Unlock()
		if !skip {
			CheckClean(t, be)
		}
	})
	return r
}

var (
	skippedMu sync.Mutex
	skipped   = map[testing.TB]bool{}
)

// SkipCheck turns off the check at the end of t, for tests that damage the
// repository on purpose.
func SkipCheck(t testing.TB) {
	skippedMu.Lock()
	skipped[t] = true
	skippedMu.Unlock()
}

// Reopen opens the repository in be again and loads its index, as a new
// process would. The index is loaded without a lock; a test that takes one
// on the handle gets it reloaded by Lock.
func Reopen(t testing.TB, be backend.Storage) *repo.Repository {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, be, Password, Options(t))
	if err != nil {
		t.Fatalf("reopen repository: %v", err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatalf("reopen repository: %v", err)
	}
	return r
}

// CheckClean runs check with --read-data on a fresh handle and fails t on
// any finding.
func CheckClean(t testing.TB, be backend.Storage) {
	t.Helper()
	r, err := repo.Open(context.Background(), be, Password, Options(t))
	if err != nil {
		t.Errorf("check after test: open: %v", err)
		return
	}
	rep, err := verify.Check(context.Background(), r, verify.CheckOptions{ReadData: true})
	if err != nil {
		t.Errorf("check after test: %v", err)
		return
	}
	for _, f := range rep.Findings {
		t.Errorf("check after test: %v", f)
	}
}

// CopyFiles copies every file of src into dst, so each step of a test can
// start from one repository built once.
func CopyFiles(t testing.TB, src, dst backend.Storage) {
	t.Helper()
	ctx := context.Background()
	for _, ft := range backend.FileTypes {
		err := src.List(ctx, ft, func(fi backend.FileInfo) error {
			data, err := src.Load(ctx, fi.Handle, 0, 0)
			if err == nil {
				err = dst.Save(ctx, fi.Handle, backend.NewByteReader(data))
			}
			return err
		})
		if err != nil {
			t.Fatalf("copy repository: %v", err)
		}
	}
}

// LargePacks uses the default 16 MiB packs, for tests with much data.
func LargePacks(c *repo.Config, _ *repo.Options) { c.PackSize = 16 << 20 }
