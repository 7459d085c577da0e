package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo/audit"
	"strata/repo/backend/local"
	"strata/service/config"
	"strata/service/health"
	"strata/service/jobs"
	"strata/service/state"
	"strata/verify"
)

// healthExitCodesHelp: health exits as a Nagios plugin does.
const healthExitCodesHelp = `Exit codes (those of a Nagios plugin): 0 OK, 1 warning, 2 critical, 3 unknown (the repository could not be read: the error says why).`

// healthUnknown is an error that makes health exit 3 (unknown).
type healthUnknown struct{ err error }

func (e *healthUnknown) Error() string { return e.err.Error() }
func (e *healthUnknown) Unwrap() error { return e.err }

func cmdHealth(g *globals) *cli.Command {
	var (
		asJSON, nagios     bool
		quota, stateDir    string
		warnPct, critPct   float64
		checkAge, drillAge time.Duration
	)
	return &cli.Command{
		Name:  "health",
		Usage: "judge whether the backups are fresh, complete and tested",
		Description: `Per source and tier (or per job of --config): the age of the newest
snapshot against its limit (the interval plus 2 hours: hourly 3h,
daily 26h, weekly 7d2h, monthly 31d2h; warning an hour before), the
number of snapshots against the retention policy, slots without a
snapshot (gaps); the last check and each source's last drill (from the
repository's audit trail), with their results and ages; the storage use
against 80% and 90% (the filesystem of a local repository, or --quota
against the repository's stored bytes); per source the RPO (the age of
its newest snapshot) and the RTO (its last drill's restore time).

With --config, a job without a snapshot is pending (OK, with a note)
until its first due time, recorded in the state folder by the daemon
(or by schedule install --systemd, for the jobs its timers run), plus
its limit, and critical after; a state folder that cannot be
written (full, or read-only) is critical.

--nagios prints one status line with performance data for Nagios,
Icinga or any monitor that runs plugins; --json the whole report.

` + healthExitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &asJSON},
			&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios status line with performance data", Destination: &nagios},
			&cli.StringFlag{Name: "quota", Usage: "judge the repository's stored bytes against `SIZE` (500G) instead of its filesystem", Destination: &quota},
			&cli.Float64Flag{Name: "storage-warn", Usage: "storage use that warns, in `PERCENT`", Value: health.DefaultStorageWarnPercent, Destination: &warnPct},
			&cli.Float64Flag{Name: "storage-critical", Usage: "storage use that is critical, in `PERCENT`", Value: health.DefaultStorageCriticalPercent, Destination: &critPct},
			&cli.DurationFlag{Name: "check-max-age", Usage: "warn when the last check is older than `DURATION` (default: no limit)", Destination: &checkAge},
			&cli.StringFlag{Name: "state-dir", Usage: "the daemon's state folder `DIR` (default: strata.yaml's state_dir), for when its jobs were first due and whether it can be written", Destination: &stateDir},
			&cli.DurationFlag{Name: "drill-max-age", Usage: "warn when a source's last drill is older than `DURATION` (default: no limit)", Destination: &drillAge},
		},
		Action: func(c *cli.Context) error {
			if asJSON && nagios {
				return errors.New("give --json or --nagios, not both")
			}
			if warnPct <= 0 || critPct > 100 || warnPct >= critPct {
				return fmt.Errorf("--storage-warn %v and --storage-critical %v: want 0 < warn < critical <= 100", warnPct, critPct)
			}
			var quotaBytes int64
			if quota != "" {
				q, err := parseSize(quota)
				if err != nil || q <= 0 {
					return fmt.Errorf("--quota: %q is not a size such as 500G", quota)
				}
				quotaBytes = q
			}
			opts, gopts, err := g.healthOptions()
			if err != nil {
				return &healthUnknown{err}
			}
			// Flags given win over the config.
			if quotaBytes > 0 {
				gopts.QuotaBytes = quotaBytes
			}
			for name, set := range map[string]func(){
				"storage-warn":     func() { opts.StorageWarnPercent = warnPct },
				"storage-critical": func() { opts.StorageCriticalPercent = critPct },
				"check-max-age":    func() { opts.CheckMaxAge = checkAge },
				"drill-max-age":    func() { opts.DrillMaxAge = drillAge },
			} {
				if c.IsSet(name) || g.cfg == nil {
					set()
				}
			}
			var st healthState
			if g.cfg != nil {
				// The daemon's state folder: when its jobs were first
				// due (pending until then plus their limit), and
				// whether it can be written.
				stateDir = g.stateDir(stateDir)
				st.notes = firstDueTimes(stateDir, &opts)
				st.notes = append(st.notes, lockWaitNotes(stateDir, g.cfg)...)
				var notes []string
				st.folder, notes = probeStateFolder(stateDir)
				st.notes = append(st.notes, notes...)
			}
			rep, err := g.health(c.Context, gopts, opts, st)
			if err != nil {
				if nagios {
					fmt.Fprintf(g.env.stdout, "STRATA UNKNOWN - %s\n", strings.Join(strings.Fields(err.Error()), " "))
				}
				return &healthUnknown{err}
			}
			switch {
			case nagios:
				fmt.Fprintln(g.env.stdout, rep.Nagios())
			case asJSON:
				if err := printJSON(g.env.stdout, rep); err != nil {
					return err
				}
			default:
				if err := printHealth(g.env.stdout, rep); err != nil {
					return err
				}
			}
			if rep.ExitCode != 0 {
				return &exitStatus{code: rep.ExitCode}
			}
			return nil
		},
	}
}

// healthOptions are the limits of --config (its jobs, or --job alone),
// or without one the defaults.
func (g *globals) healthOptions() (health.Options, health.GatherOptions, error) {
	return g.healthOptionsOf(g.cfg)
}

// healthOptionsOf are the limits of cfg (its jobs, or --job alone), or
// without one the defaults: the daemon's cfg is the file as last read
// (SIGHUP), not as it started.
func (g *globals) healthOptionsOf(cfg *config.Config) (health.Options, health.GatherOptions, error) {
	if cfg == nil {
		return health.Options{}, health.GatherOptions{}, nil
	}
	opts, gopts, err := health.FromConfig(cfg)
	if err != nil {
		return opts, gopts, fmt.Errorf("%s: %w", cfg.File, err)
	}
	if g.job != nil {
		opts.Jobs = slices.DeleteFunc(opts.Jobs, func(j health.Job) bool { return j.Name != g.job.Name })
	}
	return opts, gopts, nil
}

// healthState is what health judges of the daemon's state folder beside
// the repository.
type healthState struct {
	folder *health.StateFolder
	notes  []string
}

// firstDueTimes sets the first due time of opts' jobs, check and drill,
// and the jobs' last failed run, from the state folder dir ("" : none),
// read without changing it, and returns a note when it cannot be read.
func firstDueTimes(dir string, opts *health.Options) []string {
	if dir == "" || (len(opts.Jobs) == 0 && opts.CheckMaxAge == 0 && opts.DrillMaxAge == 0) {
		return nil
	}
	stored, err := state.ReadJobs(dir)
	if err != nil {
		return []string{fmt.Sprintf("state folder: %v: jobs without a snapshot (a check, drill without a record) are judged at once, as when they would be pending is not known", err)}
	}
	for i := range opts.Jobs {
		j := &opts.Jobs[i]
		j.FirstDue = stored[j.Name].FirstDue
		if run, ok, _ := state.LatestEndedRun(dir, j.Name); ok && (run.Result == state.Failed || run.Result == state.LockBusy) {
			j.LastFailure = &health.FailedRun{End: run.End, Error: run.Error}
		}
	}
	opts.CheckFirstDue = stored[jobs.KindCheck].FirstDue
	opts.DrillFirstDue = stored[jobs.KindDrill].FirstDue
	return nil
}

// lockWaitNotes are notes on cfg's jobs whose runs wait for another
// process's lock, stepped aside (their newest record in the state folder
// dir is running and says since when it waits).
func lockWaitNotes(dir string, cfg *config.Config) []string {
	if dir == "" || cfg == nil {
		return nil
	}
	entries, err := jobs.Entries(cfg)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		run, ok, _ := state.LatestRun(dir, e.Name)
		if !ok || run.Result != state.Running || run.LockWaitSince.IsZero() {
			continue
		}
		out = append(out, fmt.Sprintf("job %s has waited for another process's lock on the repository since %s (its run %s stepped aside: "+
			"the repository's other jobs run meanwhile; it gives up after repository.lock_wait, %s)",
			e.Name, showTime(run.LockWaitSince), run.ID, config.Duration(cfg.LockWait())))
	}
	return out
}

// probeStateFolder judges whether the state folder dir can be written
// now, when this user owns it (as the daemon does; another user, such as
// a monitoring agent's, could not write it anyway); nil when not judged.
func probeStateFolder(dir string) (*health.StateFolder, []string) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil // no daemon has run here
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && os.Geteuid() != 0 {
		return nil, []string{fmt.Sprintf("state folder %s belongs to another user: whether the daemon can write it is not judged", dir)}
	}
	sf := &health.StateFolder{Dir: dir}
	if err := state.Probe(dir); err != nil {
		sf.Error = err.Error()
	}
	return sf, setAsideFiles(sf)
}

// setAsideFiles fills in the damaged files set aside in sf's folder, or
// returns a note saying why they cannot be listed.
func setAsideFiles(sf *health.StateFolder) []string {
	var err error
	if sf.SetAside, err = state.SetAsideFiles(sf.Dir); err != nil {
		return []string{fmt.Sprintf("state folder %s: damaged files set aside cannot be listed: %v", sf.Dir, err)}
	}
	return nil
}

// health opens the repository and judges it, and the state folder as st
// says.
func (g *globals) health(ctx context.Context, gopts health.GatherOptions, opts health.Options, st healthState) (*health.Report, error) {
	r, err := g.openRepo(ctx)
	if err != nil {
		return nil, err
	}
	gopts.Results = health.AuditResults{Log: audit.New(r.Backend(), r.Key())}
	if gopts.QuotaBytes == 0 {
		// The filesystem of a local repository is judged.
		if be, err := g.openStorage(ctx, g.repoPath); err == nil {
			if lb, ok := be.(*local.Backend); ok {
				gopts.LocalPath = lb.Location()
			}
		}
	}
	in, err := health.Gather(ctx, r, gopts)
	if err != nil {
		return nil, err
	}
	in.Notes = append(in.Notes, st.notes...)
	in.StateFolder = st.folder
	opts.Now = time.Now()
	if opts.Location == nil {
		opts.Location = in.Location
	}
	return health.Evaluate(in.Inputs, opts), nil
}

func printHealth(w io.Writer, rep *health.Report) error {
	fmt.Fprintf(w, "%s: %s\n\n", strings.ToUpper(rep.Status.String()), rep.Summary())
	if len(rep.Jobs) == 0 {
		fmt.Fprintln(w, "no snapshots")
	} else {
		t := newTable(w, "Series", "Snapshots", "Newest", "Age", "Limit", "Gaps", "Status")
		for _, j := range rep.Jobs {
			newest, age, limit := "-", "-", "-"
			if j.Newest != nil {
				newest = showTime(*j.Newest)
				age = health.Age(time.Duration(j.AgeSeconds * float64(time.Second)))
			}
			if j.MaxAgeSeconds > 0 {
				limit = health.Age(time.Duration(j.MaxAgeSeconds * float64(time.Second)))
			}
			count := strconv.Itoa(j.Snapshots)
			if j.Keep > 0 {
				count += "/" + strconv.Itoa(j.Keep)
			}
			status := j.Status.String()
			if j.Pending {
				status = "pending"
			}
			t.row(j.Job, count, newest, age, limit, strconv.Itoa(j.Gaps), status)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if ch := rep.Check; ch != nil && ch.Time != nil {
		result := "no errors"
		switch {
		case ch.Errors > 0:
			result = counted(ch.Errors, "error")
		case !ch.OK:
			result = "did not finish: " + ch.Error
		}
		if read := verify.DataRead(ch.ReadData, ch.ReadDataSubset); read != "" {
			result = read + ", " + result
		}
		fmt.Fprintf(w, "last check:  %s (%s ago), %s\n", showTime(*ch.Time), health.Age(time.Duration(ch.AgeSeconds*float64(time.Second))), result)
	} else {
		fmt.Fprintln(w, "last check:  none recorded")
	}
	for _, d := range rep.Drills {
		result := fmt.Sprintf("restored %s in %s", counted(d.Tables, "table"), seconds(d.RestoreSeconds))
		if !d.OK {
			result = "failed"
			if d.Error != "" {
				result += ": " + d.Error
			}
		}
		fmt.Fprintf(w, "last drill:  %s of %s (%s ago), %s\n", showTime(d.Time), d.Source, health.Age(time.Duration(d.AgeSeconds*float64(time.Second))), result)
	}
	if len(rep.Drills) == 0 {
		fmt.Fprintln(w, "last drill:  none recorded")
	}
	if s := rep.Storage; s != nil && s.TotalBytes > 0 {
		of := "of its filesystem"
		if s.Method == "quota" {
			of = "of the quota"
		}
		fmt.Fprintf(w, "storage:     %.1f%% %s (%s of %s; the repository holds %s), %s\n", s.Percent, of,
			health.Bytes(s.UsedBytes), health.Bytes(s.TotalBytes), health.Bytes(s.StoredBytes), s.Status)
	}
	if sf := rep.StateFolder; sf != nil {
		what := "writable"
		if sf.Error != "" {
			what = "cannot be written: " + sf.Error
		}
		if len(sf.SetAside) > 0 {
			what += ", damaged files set aside: " + strings.Join(sf.SetAside, ", ")
		}
		fmt.Fprintf(w, "state:       %s %s, %s\n", sf.Dir, what, sf.Status)
	}
	for _, s := range rep.Sources {
		rto := "no drill"
		if s.RTOSeconds != nil {
			rto = seconds(*s.RTOSeconds)
		}
		fmt.Fprintf(w, "RPO/RTO:     %s: %s / %s\n", s.Source, health.Age(time.Duration(s.RPOSeconds*float64(time.Second))), rto)
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w)
		for _, f := range rep.Findings {
			fmt.Fprintf(w, "%s: %s\n", strings.ToUpper(f.Status.String()), f.Message)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// seconds writes a restore time: two decimals under 10 s.
func seconds(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2fs", v)
	}
	return fmt.Sprintf("%.0fs", v)
}
