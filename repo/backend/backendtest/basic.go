package backendtest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"strata/repo/backend"
)

func testSaveLoadStat(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	want := make(map[backend.Handle]int64)
	for i, ft := range backend.FileTypes {
		for j, size := range []int{0, 1, 4097} {
			if ft == backend.ConfigFile && j > 0 {
				break // there is one config
			}
			data := content(uint64(10*i+j), size)
			h := handleFor(ft, data)
			save(t, s, h, data)
			load(t, s, h, data)
			fi, err := s.Stat(ctx, h)
			if err != nil {
				t.Fatalf("Stat(%v): %v", h, err)
			}
			if fi.Handle != h || fi.Size != int64(size) {
				t.Errorf("Stat(%v) = %+v, want size %d", h, fi, size)
			}
			want[h] = int64(size)
		}
	}
	wantFiles(t, s, want)
}

func testLoadRange(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	data := content(1, 1000)
	h := handleFor(backend.PackFile, data)
	save(t, s, h, data)
	tests := []struct {
		offset, length int64
		err            error // nil: success; errAny: some error
	}{
		{0, 0, nil},
		{0, 1000, nil},
		{0, 1, nil},
		{1, 999, nil},
		{10, 100, nil},
		{999, 1, nil},
		{999, 0, nil},
		{1000, 0, nil}, // the empty range at the end
		{1000, 1, backend.ErrRange},
		{1001, 0, backend.ErrRange},
		{0, 1001, backend.ErrRange},
		{999, 2, backend.ErrRange},
		{1 << 62, 1 << 62, backend.ErrRange},
		{-1, 0, errAny},
		{0, -1, errAny},
	}
	for _, tc := range tests {
		got, err := s.Load(ctx, h, tc.offset, tc.length)
		switch {
		case tc.err == errAny:
			if err == nil {
				t.Errorf("Load(%d, %d) succeeded, want an error", tc.offset, tc.length)
			}
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("Load(%d, %d): got error %v, want %v", tc.offset, tc.length, err, tc.err)
			}
		case err != nil:
			t.Errorf("Load(%d, %d): %v", tc.offset, tc.length, err)
		default:
			end := tc.offset + tc.length
			if tc.length == 0 {
				end = int64(len(data))
			}
			if !bytes.Equal(got, data[tc.offset:end]) {
				t.Errorf("Load(%d, %d): got %d bytes, want bytes %d to %d", tc.offset, tc.length, len(got), tc.offset, end)
			}
		}
	}
	missing := handleFor(backend.PackFile, content(2, 10))
	_, err := s.Load(ctx, missing, 1, 2)
	wantErr(t, "Load", missing, err, backend.ErrNotExist)
}

// errAny stands for "any error" in test tables.
var errAny = errors.New("any error")

// testSaveExisting saves each file a second time: the config with other
// bytes must fail with ErrExists; a file named by its content, saved again
// with the same bytes, may succeed or fail with ErrExists. The first
// content stays either way.
func testSaveExisting(t *testing.T, s backend.Storage) {
	for i, ft := range backend.FileTypes {
		first := content(uint64(i), 100)
		h := handleFor(ft, first)
		save(t, s, h, first)
		if ft.NamedByContent() {
			err := s.Save(context.Background(), h, backend.NewByteReader(first))
			if err != nil && !errors.Is(err, backend.ErrExists) {
				t.Errorf("Save(%v) again with the same bytes: got %v, want success or ErrExists", h, err)
			}
		} else {
			err := s.Save(context.Background(), h, backend.NewByteReader(content(99, 50)))
			wantErr(t, "Save", h, err, backend.ErrExists)
		}
		load(t, s, h, first)
	}
}

func testNotExist(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	// One stored file of each type, so "not exist" is not "folder empty".
	for i, ft := range backend.FileTypes {
		if ft != backend.ConfigFile {
			data := content(uint64(100+i), 10)
			save(t, s, handleFor(ft, data), data)
		}
	}
	for i, ft := range backend.FileTypes {
		h := handleFor(ft, content(uint64(i), 10))
		_, err := s.Load(ctx, h, 0, 0)
		wantErr(t, "Load", h, err, backend.ErrNotExist)
		_, err = s.Stat(ctx, h)
		wantErr(t, "Stat", h, err, backend.ErrNotExist)
		err = s.Remove(ctx, h)
		wantErr(t, "Remove", h, err, backend.ErrNotExist)
	}
}

func testRemove(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	for i, ft := range backend.FileTypes {
		data := content(uint64(i), 100)
		h := handleFor(ft, data)
		keep := content(uint64(100+i), 10)
		if ft != backend.ConfigFile {
			save(t, s, handleFor(ft, keep), keep)
		}
		save(t, s, h, data)
		if err := s.Remove(ctx, h); err != nil {
			t.Fatalf("Remove(%v): %v", h, err)
		}
		_, err := s.Stat(ctx, h)
		wantErr(t, "Stat after Remove", h, err, backend.ErrNotExist)
		err = s.Remove(ctx, h)
		wantErr(t, "second Remove", h, err, backend.ErrNotExist)
		// A removed name may be saved again.
		again := content(uint64(200+i), 7)
		save(t, s, h, again)
		load(t, s, h, again)
		if err := s.Remove(ctx, h); err != nil {
			t.Fatalf("Remove(%v): %v", h, err)
		}
		if ft != backend.ConfigFile {
			load(t, s, handleFor(ft, keep), keep)
		}
	}
}

func testInvalidHandles(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	name := fileID([]byte("x"))
	invalid := []backend.Handle{
		{Type: "", Name: name},
		{Type: "bogus", Name: name},
		{Type: "Keys", Name: name},
		{Type: backend.ConfigFile, Name: name},
		{Type: backend.KeyFile, Name: ""},
		{Type: backend.KeyFile, Name: "."},
		{Type: backend.KeyFile, Name: ".."},
		{Type: backend.KeyFile, Name: "../config"},
		{Type: backend.IndexFile, Name: "a/b"},
		{Type: backend.IndexFile, Name: `a\b`},
		{Type: backend.SnapshotFile, Name: ".tmp-123"},
		{Type: backend.SnapshotFile, Name: ".hidden"},
		{Type: backend.LockFile, Name: "a b"},
		{Type: backend.LockFile, Name: "a\x00b"},
		{Type: backend.LockFile, Name: "é"},
		{Type: backend.LockFile, Name: strings.Repeat("a", 256)},
		{Type: backend.PackFile, Name: "ab"},
		{Type: backend.PackFile, Name: "../" + name},
	}
	for _, h := range invalid {
		if err := s.Save(ctx, h, backend.NewByteReader([]byte("data"))); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("Save(%#v): got %v, want ErrInvalid", h, err)
		}
		if _, err := s.Load(ctx, h, 0, 0); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("Load(%#v): got %v, want ErrInvalid", h, err)
		}
		if _, err := s.Stat(ctx, h); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("Stat(%#v): got %v, want ErrInvalid", h, err)
		}
		if err := s.Remove(ctx, h); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("Remove(%#v): got %v, want ErrInvalid", h, err)
		}
	}
	for _, ft := range []backend.FileType{"", "bogus", "data/00"} {
		if err := s.List(ctx, ft, func(backend.FileInfo) error { return nil }); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("List(%q): got %v, want ErrInvalid", ft, err)
		}
	}
	wantFiles(t, s, nil)
}

func testConfigHandle(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	h := backend.Handle{Type: backend.ConfigFile}
	data := content(1, 300)
	save(t, s, h, data)
	// A key file that happens to be named "config" is a different file.
	key := backend.Handle{Type: backend.KeyFile, Name: "config"}
	save(t, s, key, []byte("key"))
	load(t, s, h, data)
	wantFiles(t, s, map[backend.Handle]int64{h: 300, key: 3})
	err := s.Save(ctx, h, backend.NewByteReader([]byte("other")))
	wantErr(t, "Save", h, err, backend.ErrExists)
	if err := s.Remove(ctx, h); err != nil {
		t.Fatalf("Remove(%v): %v", h, err)
	}
	wantFiles(t, s, map[backend.Handle]int64{key: 3})
}

func testNoAliasing(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	data := content(1, 100)
	orig := bytes.Clone(data)
	h := handleFor(backend.IndexFile, data)
	save(t, s, h, data)
	data[0] ^= 0xff // the caller reuses its buffer
	load(t, s, h, orig)
	got, err := s.Load(ctx, h, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	got[1] ^= 0xff // the caller changes what it loaded
	load(t, s, h, orig)
}
