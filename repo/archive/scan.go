package archive

import (
	"context"
	"os"
	"path/filepath"
)

// scan walks paths and adds the size and number of the regular files a
// backup with the exclusions ex would read to c.TotalBytes and
// c.TotalFiles, then sets c.Scanned, unless ctx ends first. It reads only
// directories and file metadata, never content. Errors are skipped: the
// backup itself meets and reports them.
func scan(ctx context.Context, paths []string, ex Exclusions, c *Counters) {
	for _, p := range paths {
		if err := scanEntry(ctx, p, ex, 0, c); err != nil {
			return
		}
	}
	c.Scanned.Store(true)
}

func scanEntry(ctx context.Context, path string, ex Exclusions, parentDev uint64, c *Counters) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	if err != nil || ex.skip(path, fi, parentDev) {
		return nil
	}
	switch {
	case fi.Mode().IsRegular():
		c.TotalFiles.Add(1)
		c.TotalBytes.Add(uint64(fi.Size()))
	case fi.IsDir():
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil
		}
		cache := ex.Caches && isCacheDir(path)
		for _, e := range entries {
			if cache && e.Name() != CacheDirTag {
				continue
			}
			if err := scanEntry(ctx, filepath.Join(path, e.Name()), ex, device(fi), c); err != nil {
				return err
			}
		}
	}
	return nil
}
