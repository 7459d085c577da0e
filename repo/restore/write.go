package restore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"strata/repo"
)

// tempPrefix starts the name of every file a restore is still writing.
// A crash can leave such files behind; they are never a restored file.
const tempPrefix = ".strata-restore-"

// fsWriter applies the entries of a restore to the target folder.
type fsWriter struct {
	target string
	opts   Options
	stats  Stats // only the consumer goroutine touches it
}

func (w *fsWriter) consume(ctx context.Context, p *pipeline, e entry) error {
	dst := filepath.Join(w.target, filepath.FromSlash(e.path[1:]))
	var err error
	switch {
	case e.kind == enterDir:
		err = w.enterDir(dst)
	case e.kind == leaveDir:
		err = setMeta(dst, e.node)
	case e.node.Kind == repo.NodeSymlink:
		err = w.symlink(dst, e.node)
	default:
		err = w.file(ctx, p, e, dst)
	}
	if err != nil {
		return fmt.Errorf("restoring %s: %w", e.path, err)
	}
	return nil
}

// enterDir creates dst 0700, so the restore can write into it whatever
// its final mode; an existing dir is restored into.
func (w *fsWriter) enterDir(dst string) error {
	err := os.Mkdir(dst, 0o700)
	if errors.Is(err, fs.ErrExist) {
		fi, lerr := os.Lstat(dst)
		switch {
		case lerr != nil:
			return lerr
		case fi.IsDir():
			w.stats.Dirs++
			if fi.Mode().Perm()&0o700 != 0o700 {
				return os.Chmod(dst, 0o700)
			}
			return nil
		case !w.opts.Overwrite:
			return existsError(dst)
		}
		// Overwrite: a file or a symlink makes way for the dir. Remove
		// never follows a symlink.
		if err := os.Remove(dst); err != nil {
			return err
		}
		err = os.Mkdir(dst, 0o700)
	}
	if err != nil {
		return err
	}
	w.stats.Dirs++
	return nil
}

// file writes the content of e to a temporary file beside dst and renames
// it to dst only when all of it is written and its metadata set.
func (w *fsWriter) file(ctx context.Context, p *pipeline, e entry, dst string) (err error) {
	if err := w.checkFree(dst); err != nil {
		return err
	}
	tmp, f, err := createTemp(dst)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	size, err := p.readContent(ctx, e, func(b []byte) error {
		if _, err := f.Write(b); err != nil {
			return err
		}
		if w.opts.Progress != nil {
			w.opts.Progress.BytesWritten.Add(uint64(len(b)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := setMeta(tmp, e.node); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	if size != e.node.Size {
		w.opts.Logger.Warn(fmt.Sprintf("restored %s: wrote %d bytes, the snapshot records %d", e.path, size, e.node.Size))
	}
	w.stats.Files++
	w.stats.Bytes += size
	if w.opts.Progress != nil {
		w.opts.Progress.FilesDone.Add(1)
	}
	if w.opts.OnFile != nil {
		w.opts.OnFile(e.path)
	}
	return nil
}

// symlink creates the symlink under a temporary name and renames it.
func (w *fsWriter) symlink(dst string, n *repo.Node) error {
	if err := w.checkFree(dst); err != nil {
		return err
	}
	tmp, err := tempName(dst)
	if err != nil {
		return err
	}
	if err := os.Symlink(n.Target, tmp); err != nil {
		return err
	}
	if !n.ModTime.IsZero() {
		if err := lchtimes(tmp, n.ModTime); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	w.stats.Symlinks++
	return nil
}

// checkFree fails when dst exists, unless Overwrite is set and dst is not
// a dir. The check comes before any content is loaded, so a refused
// restore fails fast; a name created between it and the final rename is
// replaced.
func (w *fsWriter) checkFree(dst string) error {
	fi, err := os.Lstat(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a folder in the target; move it away to restore the file", dst)
	}
	if !w.opts.Overwrite {
		return existsError(dst)
	}
	return nil
}

func existsError(dst string) error {
	return fmt.Errorf("%s %w (restore into an empty folder, or give --overwrite)", dst, ErrExists)
}

// setMeta sets the mode, then the modification time of a file or dir.
func setMeta(name string, n *repo.Node) error {
	if err := os.Chmod(name, fileMode(n)); err != nil {
		return err
	}
	if n.ModTime.IsZero() {
		return nil
	}
	return os.Chtimes(name, n.ModTime, n.ModTime)
}

// fileMode turns a node's Unix mode bits into an os.FileMode. Mode 0 means
// the snapshot recorded none (streams and tables have none).
func fileMode(n *repo.Node) os.FileMode {
	if n.Mode == 0 {
		if n.Kind == repo.NodeDir {
			return 0o700
		}
		return 0o600
	}
	m := os.FileMode(n.Mode & 0o777)
	if n.Mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if n.Mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if n.Mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// createTemp creates a new, empty file 0600 beside dst.
func createTemp(dst string) (string, *os.File, error) {
	tmp, err := tempName(dst)
	if err != nil {
		return "", nil, err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", nil, err
	}
	return tmp, f, nil
}

// maxTempBase keeps temporary names below the usual 255-byte limit.
const maxTempBase = 200

// tempName returns ".strata-restore-<name>-<random>" in dst's folder, the
// name cut at a character boundary when it is long.
func tempName(dst string) (string, error) {
	base := filepath.Base(dst)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
		for !utf8.ValidString(base) && len(base) > maxTempBase-utf8.UTFMax {
			base = base[:len(base)-1]
		}
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	name := tempPrefix + base + "-" + hex.EncodeToString(r[:])
	return filepath.Join(filepath.Dir(dst), name), nil
}
