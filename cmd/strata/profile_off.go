//go:build !profile

package main

// startProfiles does nothing in a release build; profile.go, built with
// `go build -tags profile`, writes pprof profiles.
func startProfiles() func() { return func() {} }
