package faulty_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/faulty"
	"strata/repo/backend/local"
	"strata/repo/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Storage { return faulty.New(mem.New()) })
}

var ctx = context.Background()

func pack(name string) backend.Handle { return backend.Handle{Type: backend.PackFile, Name: name} }

func isPack(h backend.Handle) bool { return h.Type == backend.PackFile }

func saveErr(b backend.Storage, h backend.Handle, data string) error {
	return b.Save(ctx, h, backend.NewByteReader([]byte(data)))
}

// stored reports whether h exists, failing on any other error.
func stored(t *testing.T, b backend.Storage, h backend.Handle) bool {
	t.Helper()
	_, err := b.Stat(ctx, h)
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("Stat(%v): %v", h, err)
	}
	return err == nil
}

func TestFailSaveAfter(t *testing.T) {
	b := faulty.New(mem.New())
	b.FailSaveAfter(3, faulty.ErrDiskFull)
	for i, name := range []string{"aa1", "aa2", "aa3", "aa4"} {
		err := saveErr(b, pack(name), "data")
		if i < 2 {
			if err != nil {
				t.Fatalf("Save %d: %v", i+1, err)
			}
			continue
		}
		if !errors.Is(err, faulty.ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Save %d: got %v, want ENOSPC", i+1, err)
		}
		if stored(t, b, pack(name)) {
			t.Errorf("Save %d failed but stored %s", i+1, name)
		}
	}
	if got := b.Saves(); got != 4 {
		t.Errorf("Saves() = %d, want 4", got)
	}
	b.Clear()
	if err := saveErr(b, pack("aa3"), "data"); err != nil {
		t.Errorf("Save after Clear: %v", err)
	}
}

func TestShortWrite(t *testing.T) {
	inners := map[string]func(t *testing.T) (backend.Storage, string){
		"mem": func(*testing.T) (backend.Storage, string) { return mem.New(), "" },
		"local": func(t *testing.T) (backend.Storage, string) {
			dir := t.TempDir()
			l, err := local.Create(dir)
			if err != nil {
				t.Fatal(err)
			}
			return l, dir
		},
	}
	for name, newInner := range inners {
		t.Run(name, func(t *testing.T) {
			inner, dir := newInner(t)
			b := faulty.New(inner)
			b.ShortWrite(isPack, 5, faulty.ErrDiskFull)
			err := saveErr(b, pack("ab1"), "0123456789")
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("torn Save: got %v, want ENOSPC", err)
			}
			if stored(t, b, pack("ab1")) {
				t.Error("a torn write is visible under its final name")
			}
			if dir != "" {
				entries, err := os.ReadDir(filepath.Join(dir, "data", "ab"))
				if err != nil || len(entries) != 0 {
					t.Errorf("pack folder after a torn write: %v entries, error %v", len(entries), err)
				}
			}
			idx := backend.Handle{Type: backend.IndexFile, Name: "ab2"}
			if err := saveErr(b, idx, "index"); err != nil {
				t.Errorf("Save of an unmatched handle: %v", err)
			}
			b.Clear()
			if err := saveErr(b, pack("ab1"), "0123456789"); err != nil {
				t.Errorf("Save after Clear: %v", err)
			}
		})
	}
}

// keepAll is a broken inner storage that ignores its source's error and
// keeps what it got, which Save must still report.
type keepAll struct{ *mem.Backend }

func (k keepAll) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	data, _ := io.ReadAll(rd)
	return k.Backend.Save(ctx, h, backend.NewByteReader(data))
}

func TestShortWriteKept(t *testing.T) {
	b := faulty.New(keepAll{mem.New()})
	b.ShortWrite(isPack, 5, faulty.ErrDiskFull)
	if err := saveErr(b, pack("ab1"), "0123456789"); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Save: got %v, want ENOSPC", err)
	}
}

func TestFailAndCorruptLoad(t *testing.T) {
	b := faulty.New(mem.New())
	for _, name := range []string{"ab1", "ab2"} {
		if err := saveErr(b, pack(name), "content"); err != nil {
			t.Fatal(err)
		}
	}
	is := func(name string) func(backend.Handle) bool {
		return func(h backend.Handle) bool { return h == pack(name) }
	}
	broken := errors.New("broken sector")
	b.FailLoad(is("ab1"), broken)
	b.CorruptLoad(is("ab2"), func(p []byte) { p[0] ^= 0xff })

	if _, err := b.Load(ctx, pack("ab1"), 0, 0); !errors.Is(err, broken) {
		t.Errorf("Load(ab1): got %v, want the injected error", err)
	}
	if _, err := b.Stat(ctx, pack("ab1")); err != nil {
		t.Errorf("Stat is not affected by FailLoad: %v", err)
	}
	got, err := b.Load(ctx, pack("ab2"), 0, 0)
	if err != nil || string(got) == "content" || string(got[1:]) != "ontent" {
		t.Errorf("Load(ab2) = %q, %v; want the first byte changed", got, err)
	}
	b.Clear()
	for _, name := range []string{"ab1", "ab2"} {
		got, err := b.Load(ctx, pack(name), 0, 0)
		if err != nil || string(got) != "content" {
			t.Errorf("Load(%s) after Clear = %q, %v; want the stored content", name, got, err)
		}
	}
}
