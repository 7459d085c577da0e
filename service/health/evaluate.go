package health

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"strata/repo/retention"
)

// Snapshot is what health needs of a snapshot.
type Snapshot struct {
	ID   string // short ID
	Time time.Time
	// Source is the snapshot's source name (dbexport.SourceName: a
	// database's source key, else the recorded source).
	Source string
	Tier   string
}

// CheckRun is a recorded check.
type CheckRun struct {
	Time   time.Time
	OK     bool
	Errors int // findings of severity error
	// ReadData and ReadDataSubset: what it read of the packs' data (all,
	// or a subset such as "10%"; neither: the structure alone).
	ReadData       bool
	ReadDataSubset string
	Error          string // why it failed, when it did not run to the end
}

// DrillRun is a recorded drill of a snapshot of Source.
type DrillRun struct {
	Time           time.Time
	Source         string
	Snapshot       string
	OK             bool
	RestoreSeconds float64
	Tables         int
	FailedTables   int
	Error          string
	// TableResults are each table's restored rows, load time and verdict.
	TableResults []DrillTable
}

// DrillTable is one table of a drill.
type DrillTable struct {
	Table       string  `json:"table"`
	Rows        int64   `json:"rows"`
	LoadSeconds float64 `json:"load_seconds"`
	OK          bool    `json:"ok"`
}

// Usage is the repository's storage use.
type Usage struct {
	// Method is "filesystem" or "quota".
	Method     string
	UsedBytes  int64
	TotalBytes int64
	// StoredBytes is the size of the repository's files but the locks.
	StoredBytes int64
}

// Inputs are the facts Evaluate judges.
type Inputs struct {
	Snapshots []Snapshot
	// LastCheck is nil when no check is recorded; Drills are the newest
	// drill of each source.
	LastCheck *CheckRun
	Drills    []DrillRun
	// Usage is nil when the storage use is not known.
	Usage *Usage
	// Policy is the retention policy in force, nil when there is none.
	Policy *retention.Policy
	// Notes are added to the report's (what Gather could not find out).
	Notes []string
	// StateFolder, when not nil, is the daemon's state folder.
	StateFolder *StateFolder
}

// StateFolder is what is known of the daemon's state folder: whether it
// can be written (a full or read-only folder loses the run records and
// next due times).
type StateFolder struct {
	Dir string
	// Error is why the latest change failed ("" when it can be written);
	// Since when the failures began, when known.
	Error string
	Since time.Time
	// SetAside are the damaged files the daemon set aside in it
	// (jobs.json.damaged, runs/NAME.json.damaged), relative to Dir: a
	// warning until they are looked at and removed.
	SetAside []string
}

// Job is a series a configuration promises.
type Job struct {
	Name string
	// Source is the source name its snapshots record (see Snapshot).
	Source string
	Tier   string
	// Interval of its schedule; 0 means the tier's (TierInterval).
	Interval time.Duration
	// MaxAge is its limit; 0 means DefaultMaxAge(Interval).
	MaxAge time.Duration
	// FirstDue is when the job was first due (the daemon's state
	// folder); zero: not known. Without a snapshot the job is pending,
	// not critical, until FirstDue plus its limit.
	FirstDue time.Time
	// LastFailure is the job's newest run when it failed (the daemon's
	// state folder), nil when that run did not fail or is not known. A
	// job without a snapshot whose run failed is not pending: a
	// database down from the start must not look fine until the limit.
	LastFailure *FailedRun
}

// FailedRun is a run that failed: when it ended and why.
type FailedRun struct {
	End   time.Time
	Error string
}

// Options are the limits Evaluate judges by.
type Options struct {
	Now time.Time
	// Jobs are the configured jobs; nil means one per source and tier
	// found among the snapshots, with the tiers' defaults.
	Jobs []Job
	// CheckMaxAge and DrillMaxAge are how old the last check and each
	// source's last drill may get (0: no limit). DrillSources are the
	// sources a drill is expected of (a configured drill).
	CheckMaxAge, DrillMaxAge time.Duration
	DrillSources             []string
	// CheckFirstDue and DrillFirstDue are when the daemon's check and
	// drill jobs were first due (its state folder); zero: not known.
	// Without a recorded check (a source without a recorded drill) they
	// are pending, not a warning, until then plus their limit, as jobs
	// are.
	CheckFirstDue, DrillFirstDue time.Time
	// StorageWarnPercent and StorageCriticalPercent; 0 means 80 and 90.
	StorageWarnPercent, StorageCriticalPercent float64
	// Location cuts calendar slots (the policy's zone); nil means UTC.
	Location *time.Location
}

// Evaluate judges in by opts.
func Evaluate(in Inputs, opts Options) *Report {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.StorageWarnPercent == 0 {
		opts.StorageWarnPercent = DefaultStorageWarnPercent
	}
	if opts.StorageCriticalPercent == 0 {
		opts.StorageCriticalPercent = DefaultStorageCriticalPercent
	}
	rep := &Report{Time: opts.Now, Configured: opts.Jobs != nil, Jobs: []JobHealth{}, Drills: []DrillHealth{}, Sources: []SourceHealth{}, Findings: []Finding{}}
	rep.Notes = append(rep.Notes, in.Notes...)
	series := map[[2]string][]Snapshot{}
	for _, sn := range in.Snapshots {
		k := [2]string{sn.Source, sn.Tier}
		series[k] = append(series[k], sn)
	}
	for _, s := range series {
		slices.SortFunc(s, func(a, b Snapshot) int { return a.Time.Compare(b.Time) })
	}
	jobs := opts.Jobs
	if jobs == nil {
		jobs = derivedJobs(series)
	}
	if in.Policy == nil && len(in.Snapshots) > 0 {
		rep.Notes = append(rep.Notes, "no retention policy: snapshot counts are not judged (strata policy set, or retention: in the configuration)")
	}
	for _, j := range jobs {
		rep.addJob(j, series[[2]string{j.Source, j.Tier}], in.Policy, opts)
	}
	rep.addCheck(in.LastCheck, opts)
	rep.addDrills(in.Drills, opts)
	rep.addStorage(in.Usage, opts)
	rep.addStateFolder(in.StateFolder, opts)
	rep.addSources(in.Snapshots, in.Drills, opts.Now)
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rank(rep.Findings[i].Status) > rank(rep.Findings[j].Status) })
	for _, f := range rep.Findings {
		rep.Status = worse(rep.Status, f.Status)
	}
	rep.ExitCode = int(rep.Status)
	return rep
}

// derivedJobs are the series found in the repository, each a job named
// "SOURCE TIER" with its tier's defaults.
func derivedJobs(series map[[2]string][]Snapshot) []Job {
	var jobs []Job
	for k := range series {
		if k[1] == safetyTier {
			continue
		}
		name := k[0] + " " + k[1]
		if k[1] == "" {
			name = k[0] + " (no tier)"
		}
		jobs = append(jobs, Job{Name: name, Source: k[0], Tier: k[1]})
	}
	slices.SortFunc(jobs, func(a, b Job) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(TierInterval(a.Tier), TierInterval(b.Tier)), cmp.Compare(a.Tier, b.Tier))
	})
	return jobs
}

func (rep *Report) find(f Finding) {
	rep.Findings = append(rep.Findings, f)
}

func (rep *Report) addJob(j Job, sns []Snapshot, p *retention.Policy, opts Options) {
	now := opts.Now
	jh := JobHealth{Job: j.Name, Source: j.Source, Tier: j.Tier, Snapshots: len(sns), Keep: Keep(p, j.Tier)}
	interval := j.Interval
	if interval == 0 {
		interval = TierInterval(j.Tier)
	}
	if interval == 0 {
		interval = medianSpacing(sns)
	}
	maxAge := j.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge(interval)
	}
	jh.IntervalSeconds = interval.Seconds()
	jh.MaxAgeSeconds = maxAge.Seconds()
	if maxAge > 0 {
		jh.WarnAgeSeconds = warnAge(maxAge).Seconds()
	}
	finding := func(kind string, s Status, format string, args ...any) {
		jh.Status = worse(jh.Status, s)
		rep.find(Finding{ID: kind + " " + j.Name, Status: s, Message: j.Name + ": " + fmt.Sprintf(format, args...), Job: j.Name, Tier: j.Tier, Source: j.Source})
	}
	if len(sns) == 0 {
		if !j.FirstDue.IsZero() {
			fd := j.FirstDue
			jh.FirstDue = &fd
		}
		if overdue, ok := pendingUntil(j.FirstDue, maxAge, now); ok && j.LastFailure != nil {
			// It had its chance and failed: a warning now, critical
			// after the limit as any job without a snapshot.
			finding("age", Warning, "no snapshot of %s in tier %q yet, and its last run failed (%s): %s; critical without one after %s",
				j.Source, j.Tier, showTime(j.LastFailure.End, opts.Location), j.LastFailure.Error, showTime(overdue, opts.Location))
			rep.Jobs = append(rep.Jobs, jh)
			return
		} else if ok {
			// A job that has not had its first chance yet: a fresh
			// install must not page anyone.
			jh.Pending = true
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: pending: no snapshot yet; its first run is due %s, and it is critical without one after %s",
				j.Name, showTime(j.FirstDue, opts.Location), showTime(overdue, opts.Location)))
			rep.Jobs = append(rep.Jobs, jh)
			return
		}
		if !j.FirstDue.IsZero() {
			finding("age", Critical, "no snapshot of %s in tier %q, and its first run was due %s", j.Source, j.Tier, showTime(j.FirstDue, opts.Location))
		} else {
			finding("age", Critical, "no snapshot of %s in tier %q", j.Source, j.Tier)
		}
		rep.Jobs = append(rep.Jobs, jh)
		return
	}
	newest := sns[len(sns)-1]
	t := newest.Time
	jh.Newest, jh.NewestSnapshot = &t, newest.ID
	age := max(now.Sub(t), 0)
	jh.AgeSeconds = age.Seconds()
	switch {
	case maxAge > 0 && age > maxAge:
		finding("age", Critical, "newest snapshot %s is %s old, more than the limit of %s", newest.ID, Age(age), Age(maxAge))
	case maxAge > 0 && age > warnAge(maxAge):
		finding("age", Warning, "newest snapshot %s is %s old, near the limit of %s", newest.ID, Age(age), Age(maxAge))
	}
	missing := gaps(sns, j.Tier, interval, jh.Keep, now, opts.Location)
	jh.Gaps = len(missing)
	if len(missing) > 0 {
		shown := missing[max(0, len(missing)-10):]
		jh.MissingSlots = shown
		finding("gaps", Warning, "%s without a snapshot (newest: %s)", plural(len(missing), "slot"), missing[len(missing)-1])
	}
	if p != nil && jh.Keep > 0 {
		filled := interval > 0 && now.Sub(sns[0].Time) > time.Duration(jh.Keep)*interval+Grace
		switch {
		case len(sns) < jh.Keep && filled:
			finding("count", Warning, "%d snapshots where the policy keeps %d", len(sns), jh.Keep)
		case len(sns) > 2*jh.Keep+1:
			finding("count", Warning, "%d snapshots where the policy keeps %d: does forget run?", len(sns), jh.Keep)
		}
	}
	rep.Jobs = append(rep.Jobs, jh)
}

// pendingUntil is when a job first due at firstDue, with the limit
// maxAge, is overdue; ok is true while it is not yet (a job that has not
// had its first chance: a fresh install must not page anyone). ok is
// false when firstDue is not known or there is no limit.
func pendingUntil(firstDue time.Time, maxAge time.Duration, now time.Time) (overdue time.Time, ok bool) {
	overdue = firstDue.Add(maxAge)
	return overdue, !firstDue.IsZero() && maxAge > 0 && now.Before(overdue)
}

// medianSpacing is the median time between a series' snapshots (the
// interval of a tier not named after a period, without a schedule), or 0
// with fewer than three snapshots.
func medianSpacing(sns []Snapshot) time.Duration {
	if len(sns) < 3 {
		return 0
	}
	d := make([]time.Duration, 0, len(sns)-1)
	for i := 1; i < len(sns); i++ {
		d = append(d, sns[i].Time.Sub(sns[i-1].Time))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func (rep *Report) addCheck(c *CheckRun, opts Options) {
	ch := &CheckHealth{MaxAgeSeconds: opts.CheckMaxAge.Seconds()}
	rep.Check = ch
	finding := func(s Status, format string, args ...any) {
		ch.Status = worse(ch.Status, s)
		rep.find(Finding{ID: "check", Status: s, Message: "check: " + fmt.Sprintf(format, args...)})
	}
	if c == nil {
		if overdue, ok := pendingUntil(opts.CheckFirstDue, opts.CheckMaxAge, opts.Now); ok {
			fd := opts.CheckFirstDue
			ch.Pending, ch.FirstDue = true, &fd
			rep.Notes = append(rep.Notes, fmt.Sprintf("check: pending: no check recorded yet; its first run is due %s, and it is a warning without one after %s",
				showTime(fd, opts.Location), showTime(overdue, opts.Location)))
		} else if opts.CheckMaxAge > 0 {
			finding(Warning, "no check is recorded (strata check)")
		}
		return
	}
	t := c.Time
	ch.Time, ch.OK, ch.Errors, ch.ReadData, ch.ReadDataSubset, ch.Error = &t, c.OK, c.Errors, c.ReadData, c.ReadDataSubset, c.Error
	age := max(opts.Now.Sub(c.Time), 0)
	ch.AgeSeconds = age.Seconds()
	switch {
	case c.Errors > 0:
		finding(Critical, "the last check, %s ago, found %s (strata check names them and what to do)", Age(age), plural(c.Errors, "error"))
	case !c.OK:
		finding(Warning, "the last check, %s ago, did not finish: %s", Age(age), c.Error)
	}
	if opts.CheckMaxAge > 0 && age > opts.CheckMaxAge {
		finding(Warning, "the last check is %s old, more than the limit of %s", Age(age), Age(opts.CheckMaxAge))
	}
}

func (rep *Report) addDrills(drills []DrillRun, opts Options) {
	seen := map[string]bool{}
	for _, d := range drills {
		seen[d.Source] = true
		age := max(opts.Now.Sub(d.Time), 0)
		dh := DrillHealth{Source: d.Source, Time: d.Time, AgeSeconds: age.Seconds(), MaxAgeSeconds: opts.DrillMaxAge.Seconds(), OK: d.OK,
			Snapshot: d.Snapshot, RestoreSeconds: d.RestoreSeconds, Tables: d.Tables, FailedTables: d.FailedTables, Error: d.Error,
			TableResults: d.TableResults}
		finding := func(s Status, format string, args ...any) {
			dh.Status = worse(dh.Status, s)
			rep.find(Finding{ID: "drill " + d.Source, Status: s, Message: "drill of " + d.Source + ": " + fmt.Sprintf(format, args...), Source: d.Source})
		}
		if !d.OK {
			why := d.Error
			if why == "" {
				why = fmt.Sprintf("%s of %d failed", plural(d.FailedTables, "table"), d.Tables)
			}
			finding(Critical, "the last drill, %s ago, failed: %s", Age(age), why)
		}
		if opts.DrillMaxAge > 0 && age > opts.DrillMaxAge {
			finding(Warning, "the last drill is %s old, more than the limit of %s", Age(age), Age(opts.DrillMaxAge))
		}
		rep.Drills = append(rep.Drills, dh)
	}
	for _, s := range opts.DrillSources {
		if seen[s] {
			continue
		}
		if overdue, ok := pendingUntil(opts.DrillFirstDue, opts.DrillMaxAge, opts.Now); ok {
			rep.PendingDrills = append(rep.PendingDrills, PendingDrill{Source: s, FirstDue: opts.DrillFirstDue})
			rep.Notes = append(rep.Notes, fmt.Sprintf("drill of %s: pending: no drill recorded yet; its first run is due %s, and it is a warning without one after %s",
				s, showTime(opts.DrillFirstDue, opts.Location), showTime(overdue, opts.Location)))
		} else if opts.DrillMaxAge > 0 {
			rep.find(Finding{ID: "drill " + s, Status: Warning, Message: "drill of " + s + ": no drill is recorded (strata verify drill)", Source: s})
		}
	}
	slices.SortFunc(rep.Drills, func(a, b DrillHealth) int { return cmp.Compare(a.Source, b.Source) })
}

func (rep *Report) addStorage(u *Usage, opts Options) {
	if u == nil {
		return
	}
	sh := &StorageHealth{Method: u.Method, UsedBytes: u.UsedBytes, TotalBytes: u.TotalBytes, StoredBytes: u.StoredBytes,
		WarnPercent: opts.StorageWarnPercent, CritPercent: opts.StorageCriticalPercent}
	rep.Storage = sh
	if u.TotalBytes <= 0 {
		sh.Status = Unknown
		rep.Notes = append(rep.Notes, "storage: the size is not known")
		return
	}
	sh.Percent = float64(u.UsedBytes) * 100 / float64(u.TotalBytes)
	of := "of its filesystem"
	if u.Method == "quota" {
		of = "of the quota"
	}
	msg := fmt.Sprintf("storage: %.1f%% %s in use (%s of %s)", sh.Percent, of, Bytes(u.UsedBytes), Bytes(u.TotalBytes))
	switch {
	case sh.Percent >= sh.CritPercent:
		sh.Status = Critical
		rep.find(Finding{ID: "storage", Status: Critical, Message: fmt.Sprintf("%s, at or above %.0f%%: free space (strata forget, then strata prune) or grow it", msg, sh.CritPercent)})
	case sh.Percent >= sh.WarnPercent:
		sh.Status = Warning
		rep.find(Finding{ID: "storage", Status: Warning, Message: fmt.Sprintf("%s, at or above %.0f%%", msg, sh.WarnPercent)})
	}
}

func (rep *Report) addStateFolder(sf *StateFolder, opts Options) {
	if sf == nil {
		return
	}
	sh := &StateFolderHealth{Dir: sf.Dir, Error: sf.Error, SetAside: sf.SetAside}
	rep.StateFolder = sh
	if len(sf.SetAside) > 0 {
		sh.Status = Warning
		rep.find(Finding{ID: "state-damaged", Status: Warning, Message: fmt.Sprintf("the daemon's state folder %s holds damaged files it set aside: %s; "+
			"a jobs.json set aside lost the next due times (rebuilt from the run records), a run record its history line; "+
			"look at them, then remove them", sf.Dir, strings.Join(sf.SetAside, ", "))})
	}
	if sf.Error == "" {
		return
	}
	sh.Status = Critical
	since := ""
	if !sf.Since.IsZero() {
		t := sf.Since
		sh.Since = &t
		since = " since " + showTime(t, opts.Location)
	}
	rep.find(Finding{ID: "state", Status: Critical, Message: fmt.Sprintf("the daemon's state folder %s cannot be written%s (%s): run records and next due times are not saved; free space there or fix its permissions", sf.Dir, since, sf.Error)})
}

// showTime is how findings and notes show a time: in the report's zone,
// to the minute.
func showTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func (rep *Report) addSources(sns []Snapshot, drills []DrillRun, now time.Time) {
	newest := map[string]time.Time{}
	for _, sn := range sns {
		if sn.Time.After(newest[sn.Source]) {
			newest[sn.Source] = sn.Time
		}
	}
	rto := map[string]float64{}
	for _, d := range drills {
		if d.OK {
			rto[d.Source] = d.RestoreSeconds
		}
	}
	for src, t := range newest {
		sh := SourceHealth{Source: src, RPOSeconds: max(now.Sub(t), 0).Seconds()}
		if v, ok := rto[src]; ok {
			sh.RTOSeconds = &v
		}
		rep.Sources = append(rep.Sources, sh)
	}
	slices.SortFunc(rep.Sources, func(a, b SourceHealth) int { return cmp.Compare(a.Source, b.Source) })
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
