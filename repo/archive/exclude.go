package archive

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"strata/filter"
)

// Exclusions say which entries a backup of paths leaves out, as restic's
// backup flags do. The zero value leaves out nothing.
type Exclusions struct {
	// Patterns are matched against absolute paths (package filter); an
	// excluded dir is left out with all its content.
	Patterns filter.List
	// Caches leaves out the content of dirs tagged as caches by a
	// CACHEDIR.TAG file that starts with CacheDirSignature
	// (bford.info/cachedir); the dir and its tag file are kept.
	Caches bool
	// OneFileSystem stays on the file system of each path given: a dir on
	// another file system (a mount point) is left out.
	OneFileSystem bool
}

// CacheDirTag and CacheDirSignature mark a cache dir (Cache Directory
// Tagging Specification).
const (
	CacheDirTag       = "CACHEDIR.TAG"
	CacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55"
)

// skip reports whether the entry at path, with info fi, is left out.
// parentDev is the device of the dir that holds it; 0 for a path given
// on the command line, which is never on "another" file system.
func (e Exclusions) skip(path string, fi fs.FileInfo, parentDev uint64) bool {
	if e.Patterns.Match(path) {
		return true
	}
	if e.OneFileSystem && parentDev != 0 && fi.IsDir() && device(fi) != parentDev {
		return true
	}
	return false
}

// isCacheDir reports whether the dir holds a valid CACHEDIR.TAG.
func isCacheDir(dir string) bool {
	f, err := os.Open(filepath.Join(dir, CacheDirTag))
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(CacheDirSignature))
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, []byte(CacheDirSignature))
}

// device returns the device of fi, or 0 where the system does not say.
func device(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}
