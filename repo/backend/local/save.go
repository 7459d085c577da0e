package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"syscall"

	"strata/repo/backend"
)

// tmpPrefix starts the name of every temporary file. backend.Handle.Valid
// rejects names that start with a dot, so no repository file can look like
// one, and List skips them.
const tmpPrefix = ".tmp-"

// Save implements backend.Storage with the procedure of docs/design.md,
// "The local backend":
//
//  1. write the content of rd to a new temporary file .tmp-<random> (mode 0600) in the
//     folder of h;
//  2. fsync it and close it;
//  3. commit: give it its final name, refusing to replace a file;
//  4. fsync the folder, so the new name survives a crash.
//
// A crash before step 3 leaves at most a temporary file, which every reader
// ignores; an error or a cancelled ctx before step 3 removes it. The context
// is checked between steps and while copying; once step 3 is done the file
// is saved, and Save finishes step 4 whatever ctx says.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) (err error) {
	defer func() {
		err = classify(err)
	}()
	if err := h.Valid(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	final := b.filename(h)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	dir := b.folder(h)
	f, err := os.CreateTemp(dir, tmpPrefix+"*") // mode 0600
	if errors.Is(err, fs.ErrNotExist) && h.Type != backend.ConfigFile {
		if err = b.makeFolder(h); err == nil {
			f, err = os.CreateTemp(dir, tmpPrefix+"*")
		}
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			_ = f.Close() // may be closed already; the write error matters
			if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("removing temporary file: %w", rerr))
			}
		}
	}()

	if _, err := backend.CopyContent(f, ctxReader{ctx, rd}, rd.Length()); err != nil {
		return fmt.Errorf("save %s: writing %s: %w", final, tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := ctx.Err(); err != nil { // the last moment to back out
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := commit(tmp, final); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save %s: the file is written, but syncing its folder failed: %w", final, err)
	}
	return nil
}

// commit gives the complete temporary file tmp its final name, and fails
// with backend.ErrExists if that name is taken.
//
// A hard link does this atomically: link(2) fails with EEXIST if final
// exists, so of two concurrent Saves of one name exactly one wins, with no
// window between check and act; the temporary name is removed afterwards.
// rename(2) cannot be used alone because it silently replaces the target.
//
// Some file systems have no hard links (FAT and exFAT drives, some network
// and FUSE mounts). For any link error other than "exists", commit falls
// back to checking that final is free and renaming: between the check and
// the rename another Save of the same name can slip in, and the later
// rename then replaces the earlier file. That race is accepted because
// every file but the config is named by the hash of its bytes (docs/
// design.md, "IDs"): the replaced file had the same content. The config is
// written once, by init, and two concurrent inits of one folder are
// already a mistake.
func commit(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		// Only a stray name is left if this fails, and readers ignore it;
		// the file itself is saved, so this must not fail the Save.
		_ = os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return backend.ErrExists
	}
	_, serr := os.Lstat(final)
	if serr == nil {
		return backend.ErrExists
	}
	if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	return os.Rename(tmp, final)
}

// syncDir makes the entries of folder dir (new names, renames) durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // folders cannot be opened for syncing; NTFS journals names
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil // the file system cannot sync folders; nothing more to do
	}
	return errors.Join(err, d.Close())
}

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	rd  io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.rd.Read(p)
}

// classify marks a full disk with backend.ErrFull and storage that
// refuses writes with backend.ErrReadOnly, keeping the system's error.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", backend.ErrFull, err)
	case errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: %w", backend.ErrReadOnly, err)
	}
	return err
}
