package main

import (
	"errors"

	"strata/service/daemon"
	"strata/service/jobs"
	"strata/service/metrics"
	"strata/workflow"
)

// daemonMetrics are the daemon's Prometheus metrics: each run's, from its
// end event (the repository's are read at each scrape: repoSource's
// metricsHandler).
type daemonMetrics struct {
	set *metrics.Set
}

func newDaemonMetrics() *daemonMetrics {
	return &daemonMetrics{set: metrics.New(metrics.Options{Version: version})}
}

// observe is the daemon's subscriber.
func (m *daemonMetrics) observe(e daemon.Event) {
	if e.Kind == daemon.Started {
		return
	}
	var err error
	if e.Kind != daemon.Succeeded {
		err = errors.New(e.Run.Error)
	}
	switch e.Job.Kind {
	case jobs.KindBackup:
		b := metrics.Backup{Job: e.Job.Name, Tier: e.Job.Tier, Start: e.Run.Start, End: e.Run.End, Err: err}
		if rep, ok := e.Report.(workflow.BackupReport); ok && rep.Snapshot != nil {
			b.AddedBytes, b.ReadBytes = rep.Snapshot.Summary.BytesAdded, rep.Snapshot.Summary.BytesRead
		}
		m.set.ObserveBackup(b)
	case jobs.KindCheck:
		m.set.ObserveCheck(metrics.Check{Job: e.Job.Name, Start: e.Run.Start, End: e.Run.End, Err: err})
	}
}
