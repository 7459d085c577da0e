package main

import "fmt"

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// report prints the figures docs/benchmarks.md records and whether the
// issue's targets are met: prune needs less than twice the in-memory
// index (its memory beyond a process that has only loaded the index is
// less than the index again) and finishes in under a minute.
func report(b *buildRecord, m *measurement) {
	first, last := b.Records[0], b.Records[len(b.Records)-1]
	p := m.pruneRep
	fmt.Printf("\n== repository\n")
	fmt.Printf("%d hourly snapshots, %s to %s; table %.1f MB (%d rows) at the first, %.1f MB (%d rows) at the last\n",
		len(b.Records), first.Time.Format("2006-01-02 15:04"), last.Time.Format("2006-01-02 15:04"),
		mb(first.Bytes), first.Rows, mb(last.Bytes), last.Rows)
	var added, changed int64
	for _, r := range b.Records[1:] {
		added += r.Added
		changed += int64(r.Updates + r.Appends + r.Deletes)
	}
	if n := int64(len(b.Records) - 1); n > 0 {
		fmt.Printf("later hours: %d rows changed and %.1f kB added per hour on average\n", changed/n, float64(added)/float64(n)/1e3)
	}
	fmt.Printf("built in %.1f s; %.1f MB\n", b.Seconds, mb(m.repoBefore))
	fmt.Printf("measuring process peak RSS before the children: %.1f MiB (a floor under their figures)\n", float64(m.selfRSSKiB)/1024)

	fmt.Printf("\n== forget, baseline, prune, check (real binary, child processes)\n")
	fmt.Printf("(live heap: the largest heap live at the end of a garbage collection after key derivation's)\n")
	fmt.Printf("%-52s %8s %10s %10s %4s\n", "run", "seconds", "peak RSS", "live heap", "GCs")
	row := func(name string, r run) {
		fmt.Printf("%-52s %8.2f %6.1f MiB %6d MiB %4d\n", name, r.Seconds, r.mib(), r.LiveMiB, r.GCs)
	}
	row("cat config, the repository's key (Argon2id)", m.defaultKey)
	fmt.Printf("-- the rows below open the repository with a key of cheap derivation:\n")
	row(fmt.Sprintf("forget (default policy): %d -> %d snapshots", m.snapsBefore, len(m.kept)), m.forget)
	row("cat config (open, load the index: baseline)", m.baseline)
	row("prune", m.prune)
	row("check --read-data", m.chk)
	fmt.Printf("forget: policy %s (%s, time zone %s): kept %d, removed %d; repo/retention's default policy keeps %d\n",
		m.forgetRep.PolicyFlags, m.forgetRep.PolicySource, m.forgetRep.Timezone, m.forgetRep.Keep, m.forgetRep.Remove, m.expectedKept)
	fmt.Printf("repository: %.1f MB before, %.1f MB after forget, %.1f MB after prune\n",
		mb(m.repoBefore), mb(m.repoAfterForget), mb(m.repoAfter))

	fmt.Printf("\n== prune --json\n")
	fmt.Printf("used %d blobs, %.1f MB; unused %d blobs, %.1f MB\n", p.UsedBlobs, mb(p.UsedBytes), p.UnusedBlobs, mb(p.UnusedBytes))
	fmt.Printf("base-only %d blobs, %.1f MB = %.1f%% of used bytes\n", p.BaseOnlyBlobs, mb(p.BaseOnlyBytes), pct(p.BaseOnlyBytes, p.UsedBytes))
	fmt.Printf("packs %d: %d kept, %d repacked (%d blobs, %.1f MB into %d new), %d deleted, %d unindexed\n",
		p.Packs, p.PacksKept, p.PacksRepacked, p.RepackedBlobs, mb(p.RepackedBytes), p.PacksWritten, p.PacksDeleted, p.PacksUnindexed)
	fmt.Printf("index files: %d written, %d removed\n", p.IndexFilesWritten, p.IndexFilesRemoved)
	fmt.Printf("freed %.1f MB (packs %.1f MB -> %.1f MB), unused left %.1f MB\n",
		mb(p.BytesFreed), mb(p.BytesBefore), mb(p.BytesAfter), mb(p.UnusedAfter))
	fmt.Printf("index memory %.2f MiB, mark memory %.2f MiB (%.2f of the index)\n",
		mib(p.IndexMemory), mib(p.MarkMemory), float64(p.MarkMemory)/float64(max(p.IndexMemory, 1)))

	fmt.Printf("\n== restores after prune\n")
	fmt.Printf("%d of %d remaining snapshots' tables dumped (%.1f MB) in %.1f s, compared with each hour's export by SHA-256\n",
		m.restored, len(m.kept), mb(m.restoredBytes), m.restoreSeconds)

	d := m.deltas
	fmt.Printf("\n== delta bases (in-process, after prune)\n")
	fmt.Printf("referenced %d blobs, %.1f MB; base-only %d blobs, %.1f MB = %.1f%% of kept bytes, in %d trees of bases\n",
		d.Direct, mb(d.DirectBytes), d.BaseOnly, mb(d.BaseOnlyBytes), pct(d.BaseOnlyBytes, d.DirectBytes+d.BaseOnlyBytes), d.Components)
	fmt.Printf("frontier (kept deltas on a base-only base): %d blobs, %.1f MB as deltas, %.1f MB as plain blobs\n",
		d.Frontier, mb(d.FrontierBytes), mb(d.FrontierPlainBytes))
	fmt.Printf("re-encoding every frontier blob as plain: frees %.1f MB, adds %.1f MB: repository %+.1f MB (%+.2f%%)\n",
		mb(d.BaseOnlyBytes), mb(d.FrontierPlainBytes-d.FrontierBytes), -mb(d.AllGain), -pct(d.AllGain, m.repoAfter))
	fmt.Printf("re-encoding only where it pays (%d frontier blobs): repository %+.1f MB (%+.2f%%)\n",
		d.BestFrontier, -mb(d.BestGain), -pct(d.BestGain, m.repoAfter))
	fmt.Printf("loading and encoding the %d frontier blobs took %.1f s in this process\n", d.Frontier, d.EncodeSeconds)
	ks := m.series
	fmt.Printf("the %d kept hours backed up on their own (each against the previous kept one): %.1f MB in %.1f s of backups; "+
		"re-encoding against kept bases could free at most %.1f MB (%.1f%% of the pruned repository)\n",
		ks.Snapshots, mb(ks.Bytes), ks.Seconds, mb(m.repoAfter-ks.Bytes), pct(m.repoAfter-ks.Bytes, m.repoAfter))

	extra := m.prune.RSSKiB*1024 - m.baseline.RSSKiB*1024
	liveExtra := int64(m.prune.LiveMiB-m.baseline.LiveMiB) << 20
	fmt.Printf("\n== targets\n")
	fmt.Printf("prune needs less than 2x the in-memory index (%.1f MiB), i.e. less than the index again beyond a process that has loaded it:\n",
		mib(p.IndexMemory))
	fmt.Printf("  by peak RSS: prune %.1f MiB, baseline %.1f MiB, extra %.1f MiB = %.2fx the index: %s\n",
		m.prune.mib(), m.baseline.mib(), mib(extra), float64(extra)/float64(max(p.IndexMemory, 1)), metOrNot(extra < p.IndexMemory))
	fmt.Printf("  by largest live heap (gctrace, after key derivation): prune %d MiB, baseline %d MiB, extra %.0f MiB = %.2fx the index: %s\n",
		m.prune.LiveMiB, m.baseline.LiveMiB, mib(liveExtra), float64(liveExtra)/float64(max(p.IndexMemory, 1)), metOrNot(liveExtra < p.IndexMemory))
	fmt.Printf("prune time: %.1f s: under a minute: %s\n", m.prune.Seconds, metOrNot(m.prune.Seconds < 60))
	if len(m.problems) == 0 {
		fmt.Printf("check --read-data clean; every remaining snapshot restores byte-identically\n")
	}
}
