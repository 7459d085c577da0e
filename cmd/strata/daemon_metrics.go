package main

import (
	"errors"
	"net/http"
	"sync"

	"strata/repo"
	"strata/service/daemon"
	"strata/service/jobs"
	"strata/service/metrics"
	"strata/workflow"
)

// daemonMetrics are the daemon's Prometheus metrics: each run's, from its
// end event, and the repository's, read at each scrape.
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

// handler serves the metrics, the repository's read first (as strata
// serve's /metrics).
func (m *daemonMetrics) handler(src *repoSource) http.Handler {
	h := m.set.Handler()
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		src.mu.Lock()
		err := src.g.withLockNoIndex(r.Context(), false, "metrics", func(rp *repo.Repository) error {
			st, err := metrics.RepositoryState(r.Context(), rp, rp.Backend())
			if err == nil {
				m.set.SetRepository(st)
			}
			return err
		})
		src.mu.Unlock()
		if err != nil {
			http.Error(w, "reading the repository: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}
