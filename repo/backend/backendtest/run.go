package backendtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"strata/repo/backend"
)

// Run checks the contract of backend.Storage (see package backend) on
// storages made by newStorage, one per subtest; the subtests run in
// parallel. newStorage must return a new, empty storage each time (for an
// object store, a new bucket or prefix), and may be called concurrently;
// it may use t for temporary folders and cleanups. Every backend package
// calls Run from its own tests, unchanged.
func Run(t *testing.T, newStorage func(t *testing.T) backend.Storage) {
	RunWith(t, Options{}, newStorage)
}

// Options names the promises of the contract a storage keeps in a weaker
// form, for a backend's documented fallbacks; the zero Options is the
// whole contract.
type Options struct {
	// NoConditionalWrites: the storage cannot refuse an existing name
	// atomically (an object store without conditional writes, which
	// checks before it writes: docs/design.md, "The contract"). Of
	// concurrent Saves of the config more than one may then succeed;
	// the one stored must still be whole, and the bytes of a Save that
	// succeeded. Every other check is the same.
	NoConditionalWrites bool
}

// RunWith is Run with the weaker promises of opts.
func RunWith(t *testing.T, opts Options, newStorage func(t *testing.T) backend.Storage) {
	concurrentConfig := testConcurrentSavesOfOneFile
	if opts.NoConditionalWrites {
		concurrentConfig = testConcurrentSavesOfOneFileUnconditional
	}
	tests := []struct {
		name string
		fn   func(*testing.T, backend.Storage)
	}{
		{"SaveLoadStat", testSaveLoadStat},
		{"LoadRange", testLoadRange},
		{"SaveExisting", testSaveExisting},
		{"NotExist", testNotExist},
		{"Remove", testRemove},
		{"InvalidHandles", testInvalidHandles},
		{"ConfigHandle", testConfigHandle},
		{"NoAliasing", testNoAliasing},
		{"List", testList},
		{"ListStops", testListStops},
		{"ListAndRemove", testListAndRemove},
		{"ConcurrentSaves", testConcurrentSaves},
		{"ConcurrentSavesOfOneFile", concurrentConfig},
		{"ConcurrentSavesOfSameBytes", testConcurrentSavesOfSameBytes},
		{"LargeFile", testLargeFile},
		{"CancelledContext", testCancelledContext},
		{"CancelDuringSave", testCancelDuringSave},
		{"ReaderError", testReaderError},
		{"ShortContent", testShortContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStorage(t)
			if s.Location() == "" {
				t.Fatal("Location() is empty")
			}
			tc.fn(t, s)
		})
	}
}

// content returns n deterministic pseudo-random bytes for seed.
func content(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	buf := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(buf)
	return buf
}

// fileID names data like a repository file: hex of its SHA-256, so pack
// names spread over the pack folders.
func fileID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// handleFor is the handle of type t for data (the config has no name).
func handleFor(t backend.FileType, data []byte) backend.Handle {
	if t == backend.ConfigFile {
		return backend.Handle{Type: t}
	}
	return backend.Handle{Type: t, Name: fileID(data)}
}

func save(t *testing.T, s backend.Storage, h backend.Handle, data []byte) {
	t.Helper()
	if err := s.Save(context.Background(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

// load checks that h holds exactly want.
func load(t *testing.T, s backend.Storage, h backend.Handle, want []byte) {
	t.Helper()
	got, err := s.Load(context.Background(), h, 0, 0)
	if err != nil {
		t.Fatalf("Load(%v): %v", h, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Load(%v): got %d bytes, want %d bytes (content differs)", h, len(got), len(want))
	}
}

// wantErr checks that err wraps target and names the file of h.
func wantErr(t *testing.T, op string, h backend.Handle, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s(%v): got error %v, want %v", op, h, err, target)
	}
	name := h.Name
	if h.Type == backend.ConfigFile {
		name = "config"
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("%s(%v): error %q does not name the file", op, h, err)
	}
}

// listAll returns every listed file of every type, checking that no file
// is listed twice or under the wrong type.
func listAll(t *testing.T, s backend.Storage) map[backend.Handle]int64 {
	t.Helper()
	all := make(map[backend.Handle]int64)
	for _, ft := range backend.FileTypes {
		err := s.List(context.Background(), ft, func(fi backend.FileInfo) error {
			if fi.Handle.Type != ft {
				t.Errorf("List(%s) reported %v", ft, fi.Handle)
			}
			if _, dup := all[fi.Handle]; dup {
				t.Errorf("List(%s) reported %v twice", ft, fi.Handle)
			}
			all[fi.Handle] = fi.Size
			return nil
		})
		if err != nil {
			t.Fatalf("List(%s): %v", ft, err)
		}
	}
	return all
}

// wantFiles checks that exactly the files of want (handle to size) are
// stored.
func wantFiles(t *testing.T, s backend.Storage, want map[backend.Handle]int64) {
	t.Helper()
	got := listAll(t, s)
	for h, size := range want {
		gotSize, ok := got[h]
		switch {
		case !ok:
			t.Errorf("List: %v is missing", h)
		case gotSize != size:
			t.Errorf("List: %v has size %d, want %d", h, gotSize, size)
		}
	}
	for h := range got {
		if _, ok := want[h]; !ok {
			t.Errorf("List: unexpected %v", h)
		}
	}
}
