package procgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrOutputHeld is sent by EndLeftovers when, after the command and its
// group have ended, processes that left the group (setsid, a daemon it
// started) still hold the command's output open.
var ErrOutputHeld = errors.New("a process that left the command's process group still holds its output")

// killSettle is how long the output may stay open after the group's
// SIGKILL: time for the killed processes to close it.
const killSettle = time.Second

// waitLeftovers waits, after the group's SIGTERM, until drained is
// closed or grace has passed; or until the output is held
// only by processes outside group pgid (escaped), which no signal to the
// group will end. It looks for those with a growing interval, from
// 10 ms to a quarter of a second: the output is seldom held long.
func waitLeftovers(pgid int, grace time.Duration, drained <-chan struct{}, outputs []*os.File) (escaped bool) {
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	interval := 10 * time.Millisecond
	for {
		look := time.NewTimer(interval)
		select {
		case <-drained:
		case <-deadline.C:
		case <-look.C:
			if outsideOnly(pgid, holders(outputs)) {
				return true
			}
			interval = min(2*interval, 250*time.Millisecond)
			continue
		}
		look.Stop()
		return false
	}
}

// outsideOnly reports whether pids, the processes holding the output,
// are some and none of them is in group pgid.
func outsideOnly(pgid int, pids []int) bool {
	for _, pid := range pids {
		if g, err := unix.Getpgid(pid); err != nil || g == pgid {
			return false
		}
	}
	return len(pids) > 0
}

// release closes outputs when processes, past the reach of the group's
// signals, still hold them, and says which. With none, what is left in
// the pipes is only not read yet (a backup busy elsewhere): the readers
// will reach its end, and outputs stay open. (A holder this process may
// not look at in /proc, another user's, is not seen: it is waited for.)
func release(outputs []*os.File) error {
	pids := holders(outputs)
	if len(pids) == 0 {
		return nil
	}
	for _, f := range outputs {
		f.Close()
	}
	s := make([]string, len(pids))
	for i, pid := range pids {
		s[i] = strconv.Itoa(pid)
	}
	return fmt.Errorf("%w (PID %s); strata stopped reading it", ErrOutputHeld, strings.Join(s, ", "))
}

// holders lists the processes other than this one that have one of
// outputs' pipes open, read from /proc (processes of other users are
// not seen).
func holders(outputs []*os.File) []int {
	want := map[string]bool{}
	for _, f := range outputs {
		// Stat, not Fd: Fd would make the pipe blocking, and Close
		// would then not end a Read waiting on it.
		if fi, err := f.Stat(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				want[fmt.Sprintf("pipe:[%d]", st.Ino)] = true
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(p, "fd"))
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(p, "fd", fd.Name())); err == nil && want[l] {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
