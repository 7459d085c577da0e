package benchrepo

import (
	"io/fs"
	"path/filepath"
)

// Size returns the bytes of the files below dir: a repository's size on
// disk, strata's or restic's.
func Size(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		return nil
	})
	return n, err
}
