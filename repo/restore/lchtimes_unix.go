//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package restore

import (
	"time"

	"golang.org/x/sys/unix"
)

// lchtimes sets the access and modification time of a symlink itself.
func lchtimes(name string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
