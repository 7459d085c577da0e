package main

import "fmt"

// The targets.
const (
	maxTotalRatio   = 0.8 // strata backup+restore / the dump tool's
	maxRestoreRatio = 1.0 // strata restore / the dump tool's restore
)

// result is one engine's measurements, in seconds.
type result struct {
	engine                      string
	rows                        int64
	build                       float64
	strataBackup, strataRestore float64
	dump, dumpRestore           float64
	dumpTool                    string // "pg_dump -Fc + pg_restore -j 2"
	strataCmd                   string
	repoBytes, dumpBytes        int64
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func report(rs []result) {
	fmt.Println()
	fmt.Printf("%-9s %9s | %8s %8s %8s | %8s %8s %8s | %-28s | %-22s\n",
		"engine", "rows", "backup", "restore", "total", "dump", "restore", "total", "total ratio (target <= 0.8)", "restore ratio (<= 1.0)")
	for _, r := range rs {
		st, dt := r.strataBackup+r.strataRestore, r.dump+r.dumpRestore
		tr, rr := st/dt, r.strataRestore/r.dumpRestore
		fmt.Printf("%-9s %9d | %7.2fs %7.2fs %7.2fs | %7.2fs %7.2fs %7.2fs | %5.2fx %-21s | %5.2fx %s\n",
			r.engine, r.rows, r.strataBackup, r.strataRestore, st, r.dump, r.dumpRestore, dt,
			tr, met(tr <= maxTotalRatio), rr, met(rr <= maxRestoreRatio))
	}
	fmt.Println()
	for _, r := range rs {
		fmt.Printf("%s: strata: %s; dump tool: %s\n", r.engine, r.strataCmd, r.dumpTool)
		fmt.Printf("%s: repository %.1f MB, dump file %.1f MB, data built in %.1fs\n", r.engine, mb(r.repoBytes), mb(r.dumpBytes), r.build)
	}
}
