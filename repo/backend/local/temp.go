package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strata/repo/backend"
)

var _ backend.TempRemover = (*Backend)(nil)

// RemoveTemp implements backend.TempRemover: it deletes the ".tmp-*" files
// a killed Save left in the repository's folders, when they were last
// modified before cutoff (a live Save keeps writing to its file).
func (b *Backend) RemoveTemp(ctx context.Context, cutoff time.Time) (files int, bytes int64, err error) {
	folders := []string{b.dir}
	for _, t := range backend.FileTypes {
		if t != backend.ConfigFile {
			folders = append(folders, filepath.Join(b.dir, string(t)))
		}
	}
	data := filepath.Join(b.dir, string(backend.PackFile))
	entries, err := b.readFolder(data)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			folders = append(folders, filepath.Join(data, e.Name()))
		}
	}
	for _, folder := range folders {
		if err := ctx.Err(); err != nil {
			return files, bytes, err
		}
		entries, err := b.readFolder(folder)
		if err != nil {
			return files, bytes, err
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), tmpPrefix) || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.ModTime().Before(cutoff) {
				continue
			}
			if err != nil {
				return files, bytes, fmt.Errorf("remove temporary files: %w", err)
			}
			path := filepath.Join(folder, e.Name())
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return files, bytes, fmt.Errorf("remove temporary file %s: %w", path, err)
			}
			files++
			bytes += fi.Size()
		}
	}
	return files, bytes, nil
}
