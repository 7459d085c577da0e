//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startProfiles, in a binary built with `go build -tags profile`, writes a
// CPU profile to the file STRATA_CPUPROFILE names and a heap profile (taken
// at exit, after a garbage collection, with every allocation sampled) to
// the file STRATA_MEMPROFILE names, for `go tool pprof`. The returned
// function finishes them. A release build has no profiling
// (profile_off.go).
func startProfiles() func() {
	var stops []func()
	if name := os.Getenv("STRATA_CPUPROFILE"); name != "" {
		f, err := os.Create(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "strata: cpu profile:", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "strata: cpu profile:", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if name := os.Getenv("STRATA_MEMPROFILE"); name != "" {
		runtime.MemProfileRate = 4096
		stops = append(stops, func() {
			f, err := os.Create(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "strata: heap profile:", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "strata: heap profile:", err)
			}
		})
	}
	if name := os.Getenv("STRATA_PEAKPROFILE"); name != "" {
		stops = append(stops, peakProfile(name))
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// peakProfile writes a heap profile to the file name each time a garbage
// collection leaves more live heap than any before it (by 1 MiB), so that
// the file holds what was live at the largest heap of the run. It forces
// a collection for each, so the run's peak memory is not the same as
// without it. The returned function stops it.
func peakProfile(name string) func() {
	runtime.MemProfileRate = 4096
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+1<<20 {
				peak = live
				// The profile shows the heap as of the cycle before the
				// last: one more makes it show this peak's.
				runtime.GC()
				f, err := os.Create(name)
				if err != nil {
					fmt.Fprintln(os.Stderr, "strata: peak heap profile:", err)
					return
				}
				if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
					fmt.Fprintln(os.Stderr, "strata: peak heap profile:", err)
				}
				f.Close()
			}
		}
	}()
	return func() { close(done); <-stopped }
}
