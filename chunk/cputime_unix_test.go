//go:build unix

package chunk

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used. Benchmarks report
// throughput per CPU second too, because wall time on a shared machine
// counts other processes' work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
