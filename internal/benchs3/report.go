package main

import (
	"fmt"
	"slices"
	"strings"
)

// report prints a variant's totals, its requests per hourly backup and
// the targets.
func report(v *variant) {
	hours, restoreSecs, restoreReq := v.hours, v.restore, v.restReq
	lastExport := hours[len(hours)-1].exportBytes
	if v.name != "" {
		fmt.Printf("\n%s (%s):", v.name, v.strata)
	} else {
		fmt.Printf("\n%s:", v.strata)
	}
	first := hours[0]
	var bytes int64
	var secs [2]float64
	var req counts = counts{method: map[string]int{}, folder: map[string]int{}}
	for _, h := range hours[1:] {
		bytes += h.exportBytes
		secs[0] += h.secs[0]
		secs[1] += h.secs[1]
		for k, v := range h.requests.method {
			req.method[k] += v
		}
		for k, v := range h.requests.folder {
			req.folder[k] += v
		}
	}
	n := len(hours) - 1
	fmt.Printf("\n%-28s %10s %10s %8s\n", "", "local", "S3", "S3/local")
	line := func(what string, mb float64, s [2]float64) {
		fmt.Printf("%-28s %7.1f MB/s %7.1f MB/s %7.0f%%   (%.2f s, %.2f s)\n", what, mb/s[0], mb/s[1], 100*s[0]/s[1], s[0], s[1])
	}
	line("first backup (hour 0)", float64(first.exportBytes)/1e6, first.secs)
	if n > 0 {
		line(fmt.Sprintf("hourly backups (%d)", n), float64(bytes)/1e6, secs)
	}
	line("restore of the latest state", float64(lastExport)/1e6, restoreSecs)
	fmt.Println("  (throughput: COPY text of the tables backed up or restored, per second of the whole command)")

	if n > 0 {
		fmt.Printf("\nrequests per hourly backup to the bucket (mean of %d): %.1f\n", n, float64(req.total())/float64(n))
		fmt.Printf("  by method: %s\n", perHour(req.method, n))
		fmt.Printf("  by folder: %s\n", perHour(req.folder, n))
	}
	fmt.Printf("requests of the restore: %d (%s)\n", restoreReq.total(), perHour(restoreReq.method, 1))

	backupRatio := secs[0] / secs[1]
	if n == 0 {
		backupRatio = first.secs[0] / first.secs[1]
	}
	restoreRatio := restoreSecs[0] / restoreSecs[1]
	fmt.Printf("\ntargets: S3 backup throughput %.0f%% of local (want >= 80%%): %s; S3 restore %.0f%% of local (want >= 80%%): %s\n",
		100*backupRatio, met(backupRatio >= 0.8), 100*restoreRatio, met(restoreRatio >= 0.8))
}

func perHour(m map[string]int, n int) string {
	var keys []string
	for k, v := range m {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, float64(m[k])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
