package metrics

import (
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a Set.
type Options struct {
	// Version is strata's version, for strata_build_info.
	Version string
}

// Set is one registry of strata's metrics. Its methods are safe for
// concurrent use.
type Set struct {
	reg *prometheus.Registry

	backupLastSuccess, backupLastRun, backupSuccess *prometheus.GaugeVec
	backupDuration, backupAdded, backupRead         *prometheus.GaugeVec
	backupFiles                                     *prometheus.GaugeVec

	// Gauges without labels are vectors too, so that one never set is
	// not exposed as 0: a textfile written after a backup must not claim
	// that the last check ran in 1970.
	storedBytes, locks, snapshots, newest                  *prometheus.GaugeVec
	checkLastSuccess, checkLastRun, checkOK, checkDuration *prometheus.GaugeVec
	drillRestore, drillLastSuccess, drillLastRun, drillOK  *prometheus.GaugeVec
	cmdLastRun, cmdSuccess, cmdDuration, cmdExit           *prometheus.GaugeVec
	runs                                                   *prometheus.CounterVec

	// mu orders the Subscriber's records with SetJobs; jobs are the jobs
	// SetJobs listed (nil: any); configured those of strata.yaml, by
	// SetJobs or SetConfiguredJobs (nil: not known).
	mu         sync.Mutex
	jobs       map[string]bool
	configured map[string]bool
}

// SetConfiguredJobs names the jobs of strata.yaml, for a command that
// reads it (strata schedule run, what systemd's timers run): a textfile
// write drops the file's series of other jobs, as the daemon's does.
func (s *Set) SetConfiguredJobs(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configured = map[string]bool{}
	for _, n := range names {
		s.configured[n] = true
	}
}

// replaced are the families that describe the repository as it is now:
// a textfile write replaces them whole instead of merging them series by
// series, so that a tier whose snapshots are all gone disappears.
var replaced = map[string]bool{
	"strata_build_info":                         true,
	"strata_repository_stored_bytes":            true,
	"strata_repository_locks":                   true,
	"strata_snapshots":                          true,
	"strata_snapshot_newest_timestamp_seconds":  true,
	"strata_drill_restore_seconds":              true,
	"strata_metrics_textfile_timestamp_seconds": true,
}

func gaugeVec(reg *prometheus.Registry, name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	reg.MustRegister(g)
	return g
}

// New returns a Set with strata_build_info set and nothing observed.
func New(opts Options) *Set {
	reg := prometheus.NewRegistry()
	s := &Set{reg: reg}
	info := gaugeVec(reg, "strata_build_info", "strata's version and the Go version it was built with; always 1.", "version", "goversion")
	info.WithLabelValues(opts.Version, runtime.Version()).Set(1)

	jt := []string{"job", "tier"}
	s.backupLastSuccess = gaugeVec(reg, "strata_backup_last_success_timestamp_seconds", "When the last successful backup of the job ended, in seconds since 1970.", jt...)
	s.backupLastRun = gaugeVec(reg, "strata_backup_last_run_timestamp_seconds", "When the last backup of the job ended, successful or not, in seconds since 1970.", jt...)
	s.backupSuccess = gaugeVec(reg, "strata_backup_success", "1 if the last backup of the job succeeded, 0 if it failed.", jt...)
	s.backupDuration = gaugeVec(reg, "strata_backup_duration_seconds", "How long the last backup of the job took.", jt...)
	s.backupAdded = gaugeVec(reg, "strata_backup_added_bytes", "Bytes the last successful backup of the job added to the repository (compressed, encrypted).", jt...)
	s.backupRead = gaugeVec(reg, "strata_backup_read_bytes", "Bytes the last successful backup of the job read from its source.", jt...)
	s.backupFiles = gaugeVec(reg, "strata_backup_files", "Files, streams or tables the last successful backup of the job saved (new, changed and unchanged).", jt...)

	s.storedBytes = gaugeVec(reg, "strata_repository_stored_bytes", "Bytes of every file of the repository (packs, index, snapshot, key and journal files).")
	s.locks = gaugeVec(reg, "strata_repository_locks", "Other processes' lock files in the repository (the reading command's own not counted): above 0 for hours, a stuck process or a stale lock for strata unlock.")
	s.snapshots = gaugeVec(reg, "strata_snapshots", "Snapshots in the repository, by tier (\"\" for none).", "tier")
	s.newest = gaugeVec(reg, "strata_snapshot_newest_timestamp_seconds", "Time of the newest snapshot of the tier, in seconds since 1970.", "tier")

	s.checkLastSuccess = gaugeVec(reg, "strata_check_last_success_timestamp_seconds", "When the last check that found no damage ended, in seconds since 1970.")
	s.checkLastRun = gaugeVec(reg, "strata_check_last_run_timestamp_seconds", "When the last check ended, in seconds since 1970.")
	s.checkOK = gaugeVec(reg, "strata_check_success", "1 if the last check found no damage, 0 if it found damage or failed.")
	s.checkDuration = gaugeVec(reg, "strata_check_duration_seconds", "How long the last check took.")

	s.drillRestore = gaugeVec(reg, "strata_drill_restore_seconds", "How long the last drill's restore into a scratch database took (the RTO measured): under the tables drilled (\"*\" for all) the whole restore, under a table's name the load of its rows.", "table")
	s.drillLastSuccess = gaugeVec(reg, "strata_drill_last_success_timestamp_seconds", "When the last drill whose restore and table checks passed ended, in seconds since 1970.")
	s.drillLastRun = gaugeVec(reg, "strata_drill_last_run_timestamp_seconds", "When the last drill ended, in seconds since 1970.")
	s.drillOK = gaugeVec(reg, "strata_drill_success", "1 if the last drill passed, 0 if it found problems or failed.")

	s.cmdLastRun = gaugeVec(reg, "strata_command_last_run_timestamp_seconds", "When the command last ended, in seconds since 1970.", "command")
	s.cmdSuccess = gaugeVec(reg, "strata_command_success", "1 if the command's last run succeeded, 0 if not.", "command")
	s.cmdDuration = gaugeVec(reg, "strata_command_duration_seconds", "How long the command's last run took.", "command")
	s.cmdExit = gaugeVec(reg, "strata_command_exit_code", "The exit code of the command's last run (see strata help COMMAND).", "command")
	s.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_runs_total", Help: "Runs of jobs since the daemon started, by kind (backup, check, drill...) and result (success, failure)."}, []string{"job", "kind", "result"})
	reg.MustRegister(s.runs)
	return s
}

// Gatherer returns the Set's registry, for tests and for serving it
// together with other registries.
func (s *Set) Gatherer() prometheus.Gatherer { return s.reg }

// Handler serves the metrics in Prometheus's exposition formats.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Backup is one backup run: a job (or, without one, the snapshot's
// source) and its tier.
type Backup struct {
	Job, Tier  string
	Start, End time.Time
	// AddedBytes and ReadBytes come from the snapshot's summary; they are
	// set only when Err is nil.
	AddedBytes, ReadBytes uint64
	Files                 uint64
	Err                   error
}

// ObserveBackup records a backup run.
func (s *Set) ObserveBackup(b Backup) {
	l := prometheus.Labels{"job": b.Job, "tier": b.Tier}
	s.backupLastRun.With(l).Set(seconds(b.End))
	s.backupDuration.With(l).Set(b.End.Sub(b.Start).Seconds())
	if b.Err != nil {
		s.backupSuccess.With(l).Set(0)
		s.runs.WithLabelValues(b.Job, "backup", "failure").Inc()
		return
	}
	s.backupSuccess.With(l).Set(1)
	s.backupLastSuccess.With(l).Set(seconds(b.End))
	s.backupAdded.With(l).Set(float64(b.AddedBytes))
	s.backupRead.With(l).Set(float64(b.ReadBytes))
	s.backupFiles.With(l).Set(float64(b.Files))
	s.runs.WithLabelValues(b.Job, "backup", "success").Inc()
}

// Check is one check run; Err is set when it found damage or failed.
type Check struct {
	Job        string
	Start, End time.Time
	Err        error
}

// ObserveCheck records a check run.
func (s *Set) ObserveCheck(c Check) {
	s.checkLastRun.WithLabelValues().Set(seconds(c.End))
	s.checkDuration.WithLabelValues().Set(c.End.Sub(c.Start).Seconds())
	if c.Err != nil {
		s.checkOK.WithLabelValues().Set(0)
		s.runs.WithLabelValues(c.Job, "check", "failure").Inc()
		return
	}
	s.checkOK.WithLabelValues().Set(1)
	s.checkLastSuccess.WithLabelValues().Set(seconds(c.End))
	s.runs.WithLabelValues(c.Job, "check", "success").Inc()
}

// Drill is one restore drill. Tables are the patterns drilled (none: all
// tables); RestoreSeconds is set when the restore ran, even if the table
// checks then found problems (Err). strata_drill_restore_seconds gets the
// whole restore under the table label of the patterns ("*" for all) and
// each table's load time under its name.
type Drill struct {
	Job            string
	Tables         []string
	End            time.Time
	RestoreSeconds float64
	Restored       bool
	// TableSeconds are how long each table's rows took to load, by the
	// table's name.
	TableSeconds map[string]float64
	Err          error
}

// DrillTableLabel is the table label of a drill of tables: the patterns
// sorted and joined with commas, "*" for all tables.
func DrillTableLabel(tables []string) string {
	if len(tables) == 0 {
		return "*"
	}
	t := append([]string(nil), tables...)
	sort.Strings(t)
	return strings.Join(t, ",")
}

// ObserveDrill records a drill.
func (s *Set) ObserveDrill(d Drill) {
	s.drillLastRun.WithLabelValues().Set(seconds(d.End))
	if d.Restored {
		s.drillRestore.Reset()
		s.drillRestore.WithLabelValues(DrillTableLabel(d.Tables)).Set(d.RestoreSeconds)
		for table, sec := range d.TableSeconds {
			s.drillRestore.WithLabelValues(table).Set(sec)
		}
	}
	if d.Err != nil {
		s.drillOK.WithLabelValues().Set(0)
		s.runs.WithLabelValues(d.Job, "drill", "failure").Inc()
		return
	}
	s.drillOK.WithLabelValues().Set(1)
	s.drillLastSuccess.WithLabelValues().Set(seconds(d.End))
	s.runs.WithLabelValues(d.Job, "drill", "success").Inc()
}

// Command is one run of a strata command ("backup", "verify drill").
type Command struct {
	Name       string
	Start, End time.Time
	ExitCode   int
}

// ObserveCommand records the end of a command.
func (s *Set) ObserveCommand(c Command) {
	s.cmdLastRun.WithLabelValues(c.Name).Set(seconds(c.End))
	s.cmdDuration.WithLabelValues(c.Name).Set(c.End.Sub(c.Start).Seconds())
	s.cmdExit.WithLabelValues(c.Name).Set(float64(c.ExitCode))
	ok := 0.0
	if c.ExitCode == 0 {
		ok = 1
	}
	s.cmdSuccess.WithLabelValues(c.Name).Set(ok)
}

// Repository is what the repository holds now.
type Repository struct {
	StoredBytes uint64
	// Locks counts the lock files of other processes than the reader.
	Locks int
	// Snapshots counts the snapshots of each tier ("" for none); Newest
	// is the time of each tier's newest snapshot.
	Snapshots map[string]int
	Newest    map[string]time.Time
}

// SetRepository records what the repository holds, replacing what an
// earlier call recorded.
func (s *Set) SetRepository(r Repository) {
	s.storedBytes.WithLabelValues().Set(float64(r.StoredBytes))
	s.locks.WithLabelValues().Set(float64(r.Locks))
	s.snapshots.Reset()
	s.newest.Reset()
	for tier, n := range r.Snapshots {
		s.snapshots.WithLabelValues(tier).Set(float64(n))
	}
	for tier, t := range r.Newest {
		s.newest.WithLabelValues(tier).Set(seconds(t))
	}
}
