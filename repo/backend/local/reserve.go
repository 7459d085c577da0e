package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"strata/repo/backend"
)

// reserveName is the reserve file at the top of the repository folder
// (docs/design.md, "A full disk"). It is no repository file: no reader
// lists it, and losing it loses nothing.
const reserveName = "reserve"

var _ backend.Reserver = (*Backend)(nil)

// Reserve makes sure the reserve file holds at least size bytes, so that
// on a full disk forget and prune can release it and still write their
// lock and index. A missing or smaller reserve is written anew: random
// bytes (a compressing or deduplicating file system must allocate them),
// to a temporary file that is synced and renamed over the old one, so a
// crash leaves the old reserve, the new one, or a temporary file that
// RemoveTemp deletes. It fails with an error wrapping backend.ErrFull
// when there is no room, and leaves any old reserve in place.
func (b *Backend) Reserve(ctx context.Context, size int64) (err error) {
	defer func() { err = classify(err) }()
	path := filepath.Join(b.dir, reserveName)
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() >= size {
		return nil
	}
	f, err := os.CreateTemp(b.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("writing the reserve %s: %w", path, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := io.CopyN(f, ctxReader{ctx, rand.Reader}, size); err != nil {
		return fmt.Errorf("writing the reserve %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing the reserve %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the reserve %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing the reserve %s: %w", path, err)
	}
	committed = true
	return syncDir(b.dir)
}

// ReleaseReserve truncates the reserve file to 0 bytes and returns how
// many bytes it held (0 when there was none). Truncating frees the space
// without writing anything, so it works on a full disk, and the empty
// file is the mark that the reserve was released.
func (b *Backend) ReleaseReserve(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	path := filepath.Join(b.dir, reserveName)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Size() == 0 {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("releasing the reserve %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		// Truncating through a symbolic link would empty the file it
		// points to, anywhere this user may write.
		return 0, fmt.Errorf("releasing the reserve %s: it is not a regular file (%v), so it is left alone; remove it", path, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return 0, classify(fmt.Errorf("releasing the reserve %s: %w", path, err))
	}
	err = f.Truncate(0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, classify(fmt.Errorf("releasing the reserve %s: %w", path, err))
	}
	return fi.Size(), nil
}

// Reserved returns the size of the reserve file, and whether it was
// released (it is there, but empty).
func (b *Backend) Reserved(ctx context.Context) (int64, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	fi, err := os.Lstat(filepath.Join(b.dir, reserveName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("the reserve: %w", err)
	case !fi.Mode().IsRegular():
		return 0, false, nil // no reserve: Reserve writes one over it
	}
	return fi.Size(), fi.Size() == 0, nil
}
