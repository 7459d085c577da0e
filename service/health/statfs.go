package health

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// filesystemUsage is the use of the filesystem holding dir as df reports
// it: used blocks, and used plus those available to unprivileged users
// (the blocks reserved for root are not space a backup can use).
func filesystemUsage(dir string) (used, total int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize)
	used = int64(st.Blocks-st.Bfree) * bs
	total = used + int64(st.Bavail)*bs
	return used, total, nil
}
