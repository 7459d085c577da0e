package archive

import (
	"context"
	"io/fs"
	"path/filepath"
)

// scan walks paths and adds the size and number of their regular files to
// c.TotalBytes and c.TotalFiles, then sets c.Scanned, unless ctx ends
// first. It reads only directories and file metadata, never content.
// Errors are skipped: the backup itself meets and reports them.
func scan(ctx context.Context, paths []string, c *Counters) {
	for _, p := range paths {
		err := filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			c.TotalFiles.Add(1)
			c.TotalBytes.Add(uint64(fi.Size()))
			return nil
		})
		if err != nil {
			return
		}
	}
	c.Scanned.Store(true)
}
