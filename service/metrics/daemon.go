package metrics

import (
	"errors"
	"reflect"

	"strata/repo"
	"strata/service/daemon"
	"strata/service/state"
	"strata/verify"
)

// Subscriber returns what the daemon calls at each run's start and end
// (daemon.Daemon.Subscribe): the end of a backup, check or drill sets
// its metrics, and every end counts in strata_runs_total; the runs of
// jobs SetJobs did not list are left out.
func (s *Set) Subscriber() func(daemon.Event) {
	return func(e daemon.Event) {
		if e.Kind == daemon.Started {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.observes(e.Job.Name) {
			return // removed from the configuration while it ran
		}
		run := e.Run
		end := run.End
		if end.IsZero() {
			end = e.Time
		}
		var err error
		if run.Result != state.Succeeded {
			msg := run.Error
			if msg == "" {
				msg = string(run.Result)
			}
			err = errors.New(msg)
		}
		switch e.Job.Kind {
		case "backup":
			b := Backup{Job: e.Job.Name, Tier: e.Job.Tier, Start: run.Start, End: end, Err: err}
			if sn, ok := reportField[*repo.Snapshot](e.Report, "Snapshot"); ok && sn != nil {
				b.AddedBytes, b.ReadBytes = sn.Summary.BytesAdded, sn.Summary.BytesRead
				b.Files = sn.Summary.FilesNew + sn.Summary.FilesChanged + sn.Summary.FilesUnchanged
				if sn.Tier != "" {
					b.Tier = sn.Tier
				}
			}
			s.ObserveBackup(b)
		case "check":
			s.ObserveCheck(Check{Job: e.Job.Name, Start: run.Start, End: end, Err: err})
		case "drill":
			d := Drill{Job: e.Job.Name, End: end, Err: err}
			if rep := drillReport(e.Report); rep != nil && rep.Error == "" {
				d.Restored, d.RestoreSeconds, d.TableSeconds = true, rep.RestoreSeconds, TableSeconds(rep)
			}
			if tables, ok := reportField[[]string](e.Report, "Tables"); ok {
				d.Tables = tables
			}
			s.ObserveDrill(d)
		default:
			result := "success"
			if err != nil {
				result = "failure"
			}
			s.runs.WithLabelValues(e.Job.Name, e.Job.Kind, result).Inc()
		}
	}
}

// drillReport finds the verify.DrillReport in a drill's report: the
// report itself, or its field Report or Drill.
func drillReport(report any) *verify.DrillReport {
	if rep, ok := report.(*verify.DrillReport); ok {
		return rep
	}
	for _, name := range []string{"Report", "Drill"} {
		if rep, ok := reportField[*verify.DrillReport](report, name); ok {
			return rep
		}
	}
	return nil
}

// reportField returns the exported field name of type T of the struct
// report (or the struct it points to). The daemon's reports are the
// workflow's typed reports (workflow.BackupReport and the like), which
// this package does not import: it reads the fields it knows by name.
func reportField[T any](report any, name string) (T, bool) {
	var zero T
	v := reflect.ValueOf(report)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return zero, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return zero, false
	}
	f := v.FieldByName(name)
	if !f.IsValid() || !f.CanInterface() {
		return zero, false
	}
	t, ok := f.Interface().(T)
	return t, ok
}

// TableSeconds are the load times of a drill's tables, by name.
func TableSeconds(rep *verify.DrillReport) map[string]float64 {
	out := make(map[string]float64, len(rep.Tables))
	for _, t := range rep.Tables {
		out[t.Table] = t.LoadSeconds
	}
	return out
}
