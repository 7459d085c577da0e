package main

import (
	"fmt"

	"strata/internal/benchrepo"
)

// The targets.
const (
	maxFloorRatio  = 1.25 // strata repository / floor after all snapshots
	maxHourlyShare = 1.0 / 50
	maxCheckShare  = 1.0 / 5 // strata check --read-data / restic's
)

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func report(c config, hours []hour, rt restoreTimes, cr checkRuns, strataRepo, resticRepo string) error {
	strataSize, err := benchrepo.Size(strataRepo)
	if err != nil {
		return err
	}
	resticSize, err := benchrepo.Size(resticRepo)
	if err != nil {
		return err
	}
	var floor, laterFloor int64
	for i, h := range hours {
		floor += h.floor
		if i > 0 {
			laterFloor += h.floor
		}
	}
	var (
		strataLater, resticLater int64
		worstShare               float64
		shareOK, timeOK          int
		strataSecs, resticSecs   float64
		strataRSS, resticRSS     int64 // the highest of the later hours
		rssOK                    int
	)
	for i, h := range hours {
		strataSecs += h.strataSecs
		resticSecs += h.resticSecs
		if h.strataSecs <= h.resticSecs {
			timeOK++
		}
		if i == 0 {
			continue
		}
		strataRSS, resticRSS = max(strataRSS, h.strataRSS), max(resticRSS, h.resticRSS)
		if h.strataRSS <= h.resticRSS {
			rssOK++
		}
		strataLater += h.strataAdded
		resticLater += h.resticAdded
		share := float64(h.strataAdded) / float64(h.resticAdded)
		worstShare = max(worstShare, share)
		if share <= maxHourlyShare {
			shareOK++
		}
	}
	later := len(hours) - 1
	fmt.Printf("\nafter %d snapshots (hour 0 and %d hours of churn at %g of rows an hour):\n", len(hours), later, c.rate)
	fmt.Printf("  strata repository  %9.1f MB\n", mb(strataSize))
	fmt.Printf("  restic repository  %9.1f MB\n", mb(resticSize))
	fmt.Printf("  floor              %9.1f MB (zstd-3 of the first export %.1f MB, of the later hours' new or changed rows %.1f MB)\n",
		mb(floor), mb(hours[0].floor), mb(laterFloor))
	ratio := float64(strataSize) / float64(floor)
	fmt.Printf("  strata / floor     %9.3f   target <= %.2f: %s\n", ratio, maxFloorRatio, met(ratio <= maxFloorRatio))
	fmt.Printf("  strata / restic    %9.4f   (1/%.1f; the issue expects about 1/18)\n", float64(strataSize)/float64(resticSize), float64(resticSize)/float64(strataSize))
	if later > 0 {
		fmt.Printf("  hours 1-%d added: strata %.1f KB/hour, restic %.1f KB/hour, floor %.1f KB/hour\n",
			later, kb(strataLater)/float64(later), kb(resticLater)/float64(later), kb(laterFloor)/float64(later))
		fmt.Printf("  strata / restic added per hour: overall 1/%.0f, worst hour 1/%.0f; target <= 1/50 every hour: %s (%d of %d hours)\n",
			float64(resticLater)/float64(strataLater), 1/worstShare, met(shareOK == later), shareOK, later)
		fmt.Printf("  strata / floor of hours 1-%d: %.2f\n", later, float64(strataLater)/float64(laterFloor))
	}
	fmt.Printf("  hourly backup: strata (export included) %.2f s on average, restic (of the finished export) %.2f s; target strata <= restic every hour: %s (%d of %d hours)\n",
		strataSecs/float64(len(hours)), resticSecs/float64(len(hours)), met(timeOK == len(hours)), timeOK, len(hours))
	fmt.Printf("    (strata's SQLite export of the last state alone, into io.Discard in this process: %.2f s)\n", rt.exportOnly)
	if later > 0 {
		fmt.Printf("  peak RSS of an hourly backup (hours 1-%d, highest): strata %.1f MiB, restic %.1f MiB; target strata <= restic every hour: %s (%d of %d hours)\n",
			later, float64(strataRSS)/1024, float64(resticRSS)/1024, met(rssOK == later), rssOK, later)
	}
	checkShare := cr.strata.Seconds / cr.restic.Seconds
	fmt.Printf("  check --read-data: strata %.2f s (peak RSS %.1f MiB), restic %.2f s (%.1f MiB); strata / restic %.3f, target <= %.2f: %s\n",
		cr.strata.Seconds, float64(cr.strata.RSSKiB)/1024, cr.restic.Seconds, float64(cr.restic.RSSKiB)/1024, checkShare, maxCheckShare, met(checkShare <= maxCheckShare))
	resticTotal := rt.resticDump + rt.sqlImport
	fmt.Printf("  restore of the latest state into a new SQLite file: strata restore --db %.2f s; restic dump %.2f s + split and sqlite3 .import %.2f s = %.2f s; target strata <= restic: %s\n",
		rt.strata, rt.resticDump, rt.sqlImport, resticTotal, met(rt.strata <= resticTotal))
	return nil
}
