//go:build !unix

package chunk

import "time"

// cpuTime is not measured on this system; benchmarks then report wall-time
// throughput only.
func cpuTime() time.Duration { return 0 }
