package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"strata/service/daemon"
	"strata/service/jobs"
	"strata/service/state"
	"strata/service/systemd"
)

func cmdSchedule(g *globals) *cli.Command {
	var (
		useSystemd, user, asDaemon, asJSON bool
		unitDir, stateDir                  string
	)
	unitFlags := []cli.Flag{
		&cli.BoolFlag{Name: "user", Usage: "user units (systemctl --user), in ~/.config/systemd/user", Destination: &user},
		&cli.StringFlag{Name: "unit-dir", Usage: "write the units into `DIR` (default /etc/systemd/system, or ~/.config/systemd/user with --user)", Destination: &unitDir},
	}
	dir := func() (string, error) {
		if unitDir != "" {
			return unitDir, nil
		}
		return systemd.DefaultDir(user)
	}
	systemctl := "systemctl"
	return &cli.Command{
		Name:  "schedule",
		Usage: "run strata.yaml's jobs from systemd timers instead of strata daemon",
		Description: `As resticprofile's schedule commands: install writes a systemd service and
timer per job of --config strata.yaml (the timer's OnCalendar translated
from the job's cron schedule, Persistent=true so that a run missed while the
machine was off runs once at boot), and records each job's next and first
due time in the state folder as a daemon would (so strata health calls a
job without a snapshot yet pending, not critical, until its first slot
plus its limit), or with --daemon one service running strata daemon; remove removes the units strata wrote; status lists them
with each job's last run and next due time; run runs one job now with its
hooks, recording the run in the state folder as the daemon does (what the
timers' services call).

Exit codes: 0 ok (run: the job succeeded), 1 error or the job failed.`,
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "write systemd units for the config's jobs",
				Flags: append([]cli.Flag{
					&cli.BoolFlag{Name: "systemd", Usage: "write systemd units (the only scheduler supported)", Destination: &useSystemd},
					&cli.BoolFlag{Name: "daemon", Usage: "one service running strata daemon, instead of a timer per job", Destination: &asDaemon},
				}, unitFlags...),
				Action: func(c *cli.Context) error {
					if !useSystemd {
						return errors.New("give --systemd: systemd is the scheduler strata writes units for (or run strata daemon)")
					}
					if g.cfg == nil {
						return errors.New("no config: give --config strata.yaml (or set STRATA_CONFIG)")
					}
					d, err := dir()
					if err != nil {
						return err
					}
					o, err := unitOptions(g.cfg.File, user)
					if err != nil {
						return err
					}
					var units []systemd.Unit
					var enable []string
					if asDaemon {
						u := systemd.DaemonUnit(o)
						units, enable = []systemd.Unit{u}, []string{u.Name}
					} else {
						entries, err := jobs.Entries(g.cfg)
						if err != nil {
							return err
						}
						for _, e := range entries {
							if e.Schedule == "" && len(e.After) > 0 {
								g.printf("job %s runs after each successful run of %s (strata schedule run runs it after them): no timer\n", e.Name, strings.Join(e.After, ", "))
								continue
							}
							if e.Schedule == "" {
								g.printf("job %s has no schedule: no timer (strata schedule run %s runs it)\n", e.Name, e.Name)
								continue
							}
							us, err := systemd.JobUnits(systemd.Job{Name: e.Name, Kind: e.Kind, Schedule: e.Schedule, Zone: e.Zone}, o)
							if err != nil {
								return fmt.Errorf("%s: %w", g.cfg.File, err)
							}
							units = append(units, us...)
							enable = append(enable, us[1].Name)
						}
						if len(units) == 0 {
							return fmt.Errorf("%s has no job with a schedule: nothing to install", g.cfg.File)
						}
					}
					recorded := ""
					if !asDaemon {
						// No daemon sees the timers' jobs: recorded
						// now, as a daemon would record them.
						if recorded, err = g.registerJobs(); err != nil {
							return err
						}
					}
					if err := systemd.Write(d, units); err != nil {
						return err
					}
					for _, u := range units {
						fmt.Fprintf(g.env.stdout, "wrote %s\n", filepath.Join(d, u.Name))
					}
					if recorded != "" {
						fmt.Fprintf(g.env.stdout, "recorded each job's first due time in %s: strata health calls a job without a snapshot yet pending until then plus its limit\n", recorded)
					}
					// A unit does not have this shell's environment: the
					// secrets strata.yaml names by *_env keys must be put in
					// the environment file the units read.
					if vars := g.cfg.EnvVars(); len(vars) > 0 {
						envFile := strings.Replace(o.EnvFile(), "%h", "~", 1)
						for _, v := range vars {
							fmt.Fprintf(g.env.stderr, "warning: %s: %s names environment variable %s, which the units do not have: put %s=... in %s (mode 0600)\n", g.cfg.File, v.Key, v.Name, v.Name, envFile)
						}
					}
					sc := systemctl
					if user {
						sc += " --user"
					}
					fmt.Fprintf(g.env.stdout, "\nEnable them with:\n  %s daemon-reload\n  %s enable --now %s\n", sc, sc, strings.Join(enable, " "))
					if !asDaemon {
						fmt.Fprintf(g.env.stdout, "and see them with:\n  %s list-timers 'strata-*'\n", sc)
					}
					return nil
				},
			},
			{
				Name:  "remove",
				Usage: "remove the systemd units strata wrote",
				Flags: unitFlags,
				Action: func(c *cli.Context) error {
					d, err := dir()
					if err != nil {
						return err
					}
					units, err := systemd.Installed(d)
					if err != nil {
						return err
					}
					if len(units) == 0 {
						g.printf("no strata units in %s\n", d)
						return nil
					}
					sc := systemctl
					if user {
						sc += " --user"
					}
					var names []string
					for _, u := range units {
						names = append(names, u.Name)
					}
					fmt.Fprintf(g.env.stdout, "Stop them first:\n  %s disable --now %s\n", sc, strings.Join(names, " "))
					if _, err := systemd.Remove(d); err != nil {
						return err
					}
					for _, n := range names {
						fmt.Fprintf(g.env.stdout, "removed %s\n", filepath.Join(d, n))
					}
					fmt.Fprintf(g.env.stdout, "then:\n  %s daemon-reload\n", sc)
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "list the units strata wrote and each job's last run and next due time",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "state-dir", Usage: "the state folder (default: strata.yaml's state_dir)", Destination: &stateDir},
					&cli.BoolFlag{Name: "json", Usage: "print JSON", Destination: &asJSON},
				}, unitFlags...),
				Action: func(c *cli.Context) error {
					d, err := dir()
					if err != nil {
						return err
					}
					return g.scheduleStatus(d, stateDir, asJSON)
				},
			},
			{
				Name:      "run",
				Usage:     "run one job of the config now, with its hooks, recorded as the daemon records it",
				ArgsUsage: "JOB",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "state-dir", Usage: "the state folder (default: strata.yaml's state_dir)", Destination: &stateDir},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return errors.New("give the job to run: strata schedule run JOB")
					}
					sv, err := g.newService(c.Context, stateDir)
					if err != nil {
						return err
					}
					run, err := sv.daemon.RunOnce(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					// Health after the run, as the daemon judges it, and
					// the notifications out before the process ends.
					if _, _, err := sv.monitor.Health(c.Context); err != nil {
						sv.log.Warn("health evaluation", "err", err)
					}
					wctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), time.Minute)
					sv.monitor.Close(wctx)
					cancel()
					if run.Result != state.Succeeded {
						return fmt.Errorf("job %s: %s: %s", run.Job, run.Result, run.Error)
					}
					if run.Summary != "" {
						g.printf("%s\n", run.Summary)
					}
					return nil
				},
			},
		},
	}
}

// registerJobs records the config's jobs in its state folder as a daemon
// that first sees them does (daemon.Register): each job's next due time
// and, for one that never ran, its first due time, which health reads to
// call a job without a snapshot pending rather than critical until its
// first run is overdue. It returns the folder.
func (g *globals) registerJobs() (string, error) {
	js, err := jobs.Scheduled(g.cfg)
	if err != nil {
		return "", err
	}
	dir := g.stateDir("")
	store, err := state.Open(dir, 0)
	if err != nil {
		return "", err
	}
	if err := daemon.Register(store, js, time.Now()); err != nil {
		return "", fmt.Errorf("state folder %s: recording the jobs' first due times: %w", dir, err)
	}
	return dir, nil
}

// unitOptions are the absolute paths the units run strata with.
func unitOptions(configFile string, user bool) (systemd.Options, error) {
	bin, err := os.Executable()
	if err != nil {
		return systemd.Options{}, fmt.Errorf("finding the strata binary: %w", err)
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return systemd.Options{}, err
	}
	cfg, err := filepath.Abs(configFile)
	if err != nil {
		return systemd.Options{}, err
	}
	return systemd.Options{Binary: bin, Config: cfg, User: user}, nil
}

// jobStatus is a line of schedule status.
type jobStatus struct {
	Job      string     `json:"job"`
	Kind     string     `json:"kind"`
	Schedule string     `json:"schedule,omitempty"`
	Timer    string     `json:"timer,omitempty"`
	NextDue  *time.Time `json:"next_due,omitempty"`
	LastRun  *state.Run `json:"last_run,omitempty"`
}

func (g *globals) scheduleStatus(unitDir, stateDir string, asJSON bool) error {
	units, err := systemd.Installed(unitDir)
	if err != nil {
		return err
	}
	installed := map[string]bool{}
	for _, u := range units {
		installed[u.Name] = true
	}
	var out []jobStatus
	if g.cfg != nil {
		store, err := state.Open(g.stateDir(stateDir), 0)
		if err != nil {
			return err
		}
		known, err := store.Jobs()
		if err != nil {
			return err
		}
		entries, err := jobs.Entries(g.cfg)
		if err != nil {
			return err
		}
		for _, e := range entries {
			s := jobStatus{Job: e.Name, Kind: e.Kind, Schedule: e.Schedule}
			if e.Schedule == "" && len(e.After) > 0 {
				s.Schedule = "after each success of " + strings.Join(e.After, ", ")
			}
			if t := systemd.UnitName(e.Name) + ".timer"; installed[t] {
				s.Timer = t
			}
			if k, ok := known[e.Name]; ok {
				if !k.NextDue.IsZero() {
					s.NextDue = &k.NextDue
				}
				if k.LastRun != "" {
					if r, err := store.Run(k.LastRun); err == nil {
						r.Log = ""
						s.LastRun = &r
					}
				}
			}
			out = append(out, s)
		}
	}
	if asJSON {
		var names []string
		for _, u := range units {
			names = append(names, u.Name)
		}
		enc := json.NewEncoder(g.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			UnitDir string      `json:"unit_dir"`
			Units   []string    `json:"units"`
			Jobs    []jobStatus `json:"jobs"`
		}{unitDir, names, out})
	}
	fmt.Fprintf(g.env.stdout, "units in %s:", unitDir)
	if len(units) == 0 {
		fmt.Fprintf(g.env.stdout, " none\n")
	} else {
		fmt.Fprintln(g.env.stdout)
		for _, u := range units {
			fmt.Fprintf(g.env.stdout, "  %s\n", u.Name)
		}
	}
	if len(out) == 0 {
		return nil
	}
	fmt.Fprintln(g.env.stdout)
	tw := tabwriter.NewWriter(g.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tkind\tschedule\ttimer\tlast run\tresult\tnext due")
	for _, s := range out {
		last, result, next := "-", "-", "-"
		if s.LastRun != nil {
			last, result = showTime(s.LastRun.Start), string(s.LastRun.Result)
		}
		if s.NextDue != nil {
			next = showTime(*s.NextDue)
		}
		timer := s.Timer
		if timer == "" {
			timer = "-"
		}
		sched := s.Schedule
		if sched == "" {
			sched = "(when asked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Job, s.Kind, sched, timer, last, result, next)
	}
	return tw.Flush()
}
