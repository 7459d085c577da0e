package main

import (
	"runtime/debug"
	"testing"
)

// A database backup collects garbage at GOGC=25 unless the environment
// sets GOGC.
func TestTuneGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	tuneGC(func(string) string { return "" }, dbBackupGCPercent)
	if got := debug.SetGCPercent(100); got != dbBackupGCPercent {
		t.Errorf("GOGC unset: collector target %d, want %d", got, dbBackupGCPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	}, dbBackupGCPercent)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=200 in the environment: collector target changed to %d", got)
	}
}
