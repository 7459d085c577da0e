//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
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
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
