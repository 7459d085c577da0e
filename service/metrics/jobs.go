package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"strata/service/daemon"
)

// SetJobs says which jobs the daemon now runs (strata.yaml read again at
// SIGHUP; at its start, all of them): the series of every other job (one
// removed from the file, or the old name of one renamed) are deleted,
// and so are the check's or drill's when no job of that kind is left,
// so that an alert on a stale timestamp does not fire for a job that is
// gone. From then on, the Subscriber leaves out the runs of jobs not
// listed (a run of a removed job that ends after the reload).
func (s *Set) SetJobs(jobs []daemon.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = map[string]bool{}
	kinds := map[string]bool{}
	for _, j := range jobs {
		s.jobs[j.Name] = true
		kinds[j.Kind] = true
	}
	s.configured = s.jobs
	byJob := []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{s.backupLastSuccess, s.backupLastRun, s.backupSuccess, s.backupDuration, s.backupAdded, s.backupRead, s.backupFiles, s.runs}
	for _, name := range s.jobLabels() {
		if s.jobs[name] {
			continue
		}
		for _, v := range byJob {
			v.DeletePartialMatch(prometheus.Labels{"job": name})
		}
	}
	if !kinds["check"] {
		for _, v := range []*prometheus.GaugeVec{s.checkLastSuccess, s.checkLastRun, s.checkOK, s.checkDuration} {
			v.Reset()
		}
	}
	if !kinds["drill"] {
		for _, v := range []*prometheus.GaugeVec{s.drillRestore, s.drillLastSuccess, s.drillLastRun, s.drillOK} {
			v.Reset()
		}
	}
}

// jobLabels are the values of the label job among the Set's series.
func (s *Set) jobLabels() []string {
	fams, _ := s.reg.Gather() // what failed to gather has no series to delete
	seen := map[string]bool{}
	var out []string
	for _, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "job" && !seen[l.GetValue()] {
					seen[l.GetValue()] = true
					out = append(out, l.GetValue())
				}
			}
		}
	}
	return out
}

// observes says whether the Subscriber records a run of job: any job
// until SetJobs is called, then only the jobs it listed. s.mu is held.
func (s *Set) observes(job string) bool {
	return s.jobs == nil || s.jobs[job]
}
