package backend

import (
	"context"
	"errors"
	"fmt"
)

// StoredBytes is the size of every file l lists but the locks (a
// command's passing lock is not what the repository holds): what health's
// and the metrics' stored bytes count. A folder that does not exist holds
// none.
func StoredBytes(ctx context.Context, l Lister) (int64, error) {
	var stored int64
	for _, t := range FileTypes {
		if t == LockFile {
			continue
		}
		err := l.List(ctx, t, func(fi FileInfo) error {
			stored += fi.Size
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotExist) {
			return stored, fmt.Errorf("listing the repository's %s files: %w", t, err)
		}
	}
	return stored, nil
}
