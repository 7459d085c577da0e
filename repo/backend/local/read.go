package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"strata/repo/backend"
)

// Load implements backend.Storage with one ReadAt of exactly the range; a
// file that ends early is an error, never a short slice.
func (b *Backend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	if err := h.Valid(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	name := b.filename(h)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, notExist(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("load %s: not a regular file (%v)", name, fi.Mode())
	}
	n, err := backend.RangeLength(fi.Size(), offset, length)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, offset)
	if got < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the file shrank since Stat
		}
		return nil, fmt.Errorf("load %s: read %d of %d bytes at offset %d: %w", name, got, n, offset, err)
	}
	return buf, nil
}

// Stat implements backend.Storage.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := h.Valid(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat: %w", err)
	}
	name := b.filename(h)
	if err := ctx.Err(); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %s: %w", name, err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %s: %w", name, notExist(err))
	}
	if !fi.Mode().IsRegular() {
		return backend.FileInfo{}, fmt.Errorf("stat %s: not a regular file (%v)", name, fi.Mode())
	}
	return backend.FileInfo{Handle: h, Size: fi.Size()}, nil
}

// List implements backend.Storage. It reports regular files (following
// symbolic links, like Load) whose names are valid handles in the right
// folder, and skips everything else: temporary files, stray files, and
// packs in the wrong pack folder. A missing type folder inside a repository
// lists as empty (see makeFolder).
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if !slices.Contains(backend.FileTypes, t) {
		return fmt.Errorf("list: %w: file type %q", backend.ErrInvalid, t)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", t, err)
	}
	switch t {
	case backend.ConfigFile:
		return b.listFile(ctx, backend.Handle{Type: t}, fn)
	case backend.PackFile:
		return b.listPacks(ctx, fn)
	default:
		return b.listFolder(ctx, t, "", filepath.Join(b.dir, string(t)), fn)
	}
}

// listPacks lists every pack folder data/<2 chars>/.
func (b *Backend) listPacks(ctx context.Context, fn func(backend.FileInfo) error) error {
	data := filepath.Join(b.dir, string(backend.PackFile))
	entries, err := b.readFolder(data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		sub := filepath.Join(data, e.Name())
		if len(e.Name()) != 2 || strings.HasPrefix(e.Name(), ".") || !isFolder(sub) {
			continue
		}
		if err := b.listFolder(ctx, backend.PackFile, e.Name(), sub, fn); err != nil {
			return err
		}
	}
	return nil
}

// isFolder reports whether path is a folder, following symbolic links.
func isFolder(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// listFolder lists the files of type t in folder; for packs, prefix is the
// pack folder's name, which every name in it must start with.
func (b *Backend) listFolder(ctx context.Context, t backend.FileType, prefix, folder string, fn func(backend.FileInfo) error) error {
	entries, err := b.readFolder(folder)
	if err != nil {
		return err
	}
	for _, e := range entries {
		h := backend.Handle{Type: t, Name: e.Name()}
		if h.Valid() != nil || !strings.HasPrefix(h.Name, prefix) {
			continue // includes .tmp-* files: valid names never start with a dot
		}
		if err := b.listFile(ctx, h, fn); err != nil {
			return err
		}
	}
	return nil
}

// readFolder reads the entries of folder; a folder missing inside a
// repository has none.
func (b *Backend) readFolder(folder string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(folder)
	switch {
	case err == nil:
		return entries, nil
	case errors.Is(err, fs.ErrNotExist):
		if err := b.checkRepository(); err != nil {
			return nil, fmt.Errorf("list %s: %w", folder, err)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("list %s: %w", folder, err)
	}
}

// listFile calls fn for h if it is a regular file; a file removed since the
// folder was read is skipped.
func (b *Backend) listFile(ctx context.Context, h backend.Handle, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", h.Type, err)
	}
	name := b.filename(h)
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	return fn(backend.FileInfo{Handle: h, Size: fi.Size()})
}

// Remove implements backend.Storage. The folder is not synced: a file
// removed just before a crash may come back, which every caller must
// tolerate anyway (a crash can also come just before the Remove).
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	name := b.filename(h)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	fi, err := os.Lstat(name)
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, notExist(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("remove %s: is a folder, not a repository file", name)
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("remove %s: %w", name, classify(notExist(err)))
	}
	return nil
}
