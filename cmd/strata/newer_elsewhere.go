package main

import (
	"context"
	"fmt"
	"time"

	"strata/dbexport"
	"strata/repo"
)

// noteNewerElsewhere says on stderr when latest (or a time, at) chose
// picked among one host's snapshots while another host holds a newer
// snapshot of the same database that the choice passed over: latest of
// a local database is this machine's, which may not be what was meant.
func (g *globals) noteNewerElsewhere(ctx context.Context, r *repo.Repository, picked *repo.Snapshot, at time.Time) {
	key, ok := dbexport.SnapshotSource(picked)
	if !ok {
		return
	}
	sns, err := r.Snapshots(ctx)
	if err != nil {
		return
	}
	var newer *repo.Snapshot
	for _, sn := range sns {
		k, ok := dbexport.SnapshotSource(sn)
		if !ok || k != key || sn.Host == picked.Host || !sn.Time.After(picked.Time) || (!at.IsZero() && sn.Time.After(at)) {
			continue
		}
		if newer == nil || sn.Time.After(newer.Time) {
			newer = sn
		}
	}
	if newer != nil {
		fmt.Fprintf(g.env.stderr, "note: snapshot %s (%s) is the newest of host %s; host %s has a newer one of %s, %s (%s): give its ID or --host %s for it\n",
			picked.ID.Short(), showTime(picked.Time), picked.Host, newer.Host, key, newer.ID.Short(), showTime(newer.Time), newer.Host)
	}
}
