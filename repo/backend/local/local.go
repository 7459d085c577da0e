package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"strata/repo/backend"
)

// Backend stores a repository in a folder; it is safe for concurrent use.
// Files are created with mode 0600 and folders with mode 0700.
type Backend struct {
	dir string // absolute and clean, so every message names a full path
}

var _ backend.Storage = (*Backend)(nil)

// Open opens the repository in dir. It fails with an error wrapping
// backend.ErrNotExist when dir or dir/config is missing.
func Open(dir string) (*Backend, error) {
	b, err := newBackend(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(b.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no repository at %s: %w", b.dir, backend.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("open repository at %s: %w", b.dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("no repository at %s: not a folder", b.dir)
	}
	if err := b.checkRepository(); err != nil {
		return nil, err
	}
	return b, nil
}

// Create makes the folders of a new repository in dir (dir itself may
// exist) and returns its backend: keys/, data/00 to data/ff, index/,
// snapshots/, locks/, policy/ and protect/. The config file is not written here; the caller
// saves it last (until it exists Open finds no repository). Create fails
// with an error wrapping backend.ErrExists if dir/config exists.
func Create(dir string) (*Backend, error) {
	b, err := newBackend(dir)
	if err != nil {
		return nil, err
	}
	cfg := b.filename(backend.Handle{Type: backend.ConfigFile})
	if _, err := os.Lstat(cfg); err == nil {
		return nil, fmt.Errorf("create repository at %s: %s: %w", b.dir, cfg, backend.ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create repository at %s: %w", b.dir, err)
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create repository at %s: %w", b.dir, err)
	}
	for _, t := range backend.FileTypes {
		if t == backend.ConfigFile {
			continue
		}
		if err := mkdir(filepath.Join(b.dir, string(t))); err != nil {
			return nil, fmt.Errorf("create repository at %s: %w", b.dir, err)
		}
	}
	data := filepath.Join(b.dir, string(backend.PackFile))
	for i := range 256 {
		if err := mkdir(filepath.Join(data, fmt.Sprintf("%02x", i))); err != nil {
			return nil, fmt.Errorf("create repository at %s: %w", b.dir, err)
		}
	}
	// A new folder is durable once the folder holding its entry is synced.
	for _, d := range []string{data, b.dir, filepath.Dir(b.dir)} {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("create repository at %s: %w", b.dir, err)
		}
	}
	return b, nil
}

func newBackend(dir string) (*Backend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("repository folder %q: %w", dir, err)
	}
	return &Backend{dir: abs}, nil
}

// Location implements backend.Storage: the absolute repository folder.
func (b *Backend) Location() string { return b.dir }

// folder is the folder that holds h.
func (b *Backend) folder(h backend.Handle) string {
	switch h.Type {
	case backend.ConfigFile:
		return b.dir
	case backend.PackFile:
		return filepath.Join(b.dir, string(h.Type), h.Name[:2])
	default:
		return filepath.Join(b.dir, string(h.Type))
	}
}

// filename is the final name of h; h must be valid.
func (b *Backend) filename(h backend.Handle) string {
	if h.Type == backend.ConfigFile {
		return filepath.Join(b.dir, "config")
	}
	return filepath.Join(b.folder(h), h.Name)
}

// checkRepository fails with backend.ErrNotExist unless the config exists
// or, when it is missing (damage a key file's copy of the config stands in
// for: docs/design.md, "Keys"), keys/ holds a file. It guards the two places where a missing folder is tolerated (see
// makeFolder): an unmounted drive leaves an empty mount point behind, and
// strata must then neither write backups to the wrong disk nor report an
// empty repository.
func (b *Backend) checkRepository() error {
	cfg := b.filename(backend.Handle{Type: backend.ConfigFile})
	_, err := os.Stat(cfg)
	if errors.Is(err, fs.ErrNotExist) {
		if b.hasKeyFile() {
			return nil
		}
		return fmt.Errorf("no repository at %s (%s is missing): %w", b.dir, cfg, backend.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("repository at %s: %w", b.dir, err)
	}
	return nil
}

// hasKeyFile reports whether keys/ holds a file other than a temporary one.
func (b *Backend) hasKeyFile() bool {
	entries, err := os.ReadDir(filepath.Join(b.dir, string(backend.KeyFile)))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), tmpPrefix) {
			return true
		}
	}
	return false
}

// makeFolder recreates the missing folder of h. Tools that copy
// repositories may drop empty folders, so inside a repository a missing
// type or pack folder is normal; outside one (no config), it is an error.
func (b *Backend) makeFolder(h backend.Handle) error {
	if err := b.checkRepository(); err != nil {
		return err
	}
	top := filepath.Join(b.dir, string(h.Type))
	if err := mkdir(top); err != nil {
		return err
	}
	if h.Type == backend.PackFile {
		if err := mkdir(b.folder(h)); err != nil {
			return err
		}
		if err := syncDir(top); err != nil {
			return err
		}
	}
	return syncDir(b.dir)
}

// mkdir makes one folder with mode 0700; an existing folder is fine.
func mkdir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// notExist turns the file system's "does not exist" into
// backend.ErrNotExist; the caller's message names the file.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return backend.ErrNotExist
	}
	return err
}
