package jobs

import (
	"fmt"
	"os"
	"time"

	"strata/service/config"
	"strata/service/daemon"
	"strata/service/hooks"
)

// The kinds of job.
const (
	KindBackup = "backup"
	KindCheck  = "check"
	KindDrill  = "drill"
	KindForget = "forget"
)

// Entry is one job of strata.yaml: a backup of jobs[], or the check,
// drill or forget section.
type Entry struct {
	Name, Kind string
	// Schedule and Zone as in the file ("" Schedule: only when asked).
	Schedule, Zone string
	// Tier and Source of a backup; Source of a drill.
	Tier, Source string
	// After names the jobs whose successful run starts this one: the
	// forget job of a retention section without a schedule follows
	// every backup.
	After      []string
	Hooks      config.Hooks
	Timeout    time.Duration
	Retries    int
	RetryDelay time.Duration
}

// Entries lists cfg's jobs (defaults applied), backups first.
func Entries(cfg *config.Config) ([]Entry, error) {
	var out []Entry
	seen := map[string]bool{}
	add := func(e Entry) error {
		if seen[e.Name] {
			return fmt.Errorf("%s: two jobs named %q (check, drill and forget name those sections' jobs)", cfg.File, e.Name)
		}
		seen[e.Name] = true
		out = append(out, e)
		return nil
	}
	for _, cj := range cfg.Jobs {
		e := Entry{Name: cj.Name, Kind: KindBackup, Schedule: cj.Schedule, Zone: cj.Timezone, Tier: cj.Tier, Source: cj.Source,
			Hooks: cj.Hooks, Timeout: time.Duration(cj.Timeout), Retries: cj.Retry.Attempts, RetryDelay: time.Duration(cj.Retry.Delay)}
		if err := add(e); err != nil {
			return nil, err
		}
	}
	if c := cfg.Check; c != nil {
		if err := add(Entry{Name: KindCheck, Kind: KindCheck, Schedule: c.Schedule, Zone: c.Timezone, Hooks: c.Hooks}); err != nil {
			return nil, err
		}
	}
	if d := cfg.Drill; d != nil {
		if err := add(Entry{Name: KindDrill, Kind: KindDrill, Schedule: d.Schedule, Zone: d.Timezone, Source: d.Source, Hooks: d.Hooks}); err != nil {
			return nil, err
		}
	}
	if r := cfg.Retention; r != nil {
		// Without a schedule, retention is applied after every
		// successful backup, as resticprofile's retention after-backup
		// and autorestic's forget do.
		e := Entry{Name: KindForget, Kind: KindForget, Schedule: r.Schedule, Zone: r.Timezone}
		if r.Schedule == "" {
			for _, cj := range cfg.Jobs {
				e.After = append(e.After, cj.Name)
			}
		}
		if err := add(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FromConfig returns the daemon's jobs of cfg (defaults applied). getenv
// reads the variables hook URLs come from (os.Getenv if nil).
func FromConfig(cfg *config.Config, getenv func(string) string) ([]daemon.Job, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return fromConfig(cfg, func(e Entry, j *daemon.Job) (err error) {
		if j.Hooks, err = hookSet(cfg.Hooks, e.Hooks, getenv); err != nil {
			return fmt.Errorf("%s: job %s: %w", cfg.File, e.Name, err)
		}
		return nil
	})
}

// Scheduled returns the jobs of cfg as FromConfig does but without their
// hooks, whose secrets it does not read: enough to record when they are
// due (daemon.Register), where the hooks' variables may not be set (the
// shell that runs strata schedule install, not the units' environment).
func Scheduled(cfg *config.Config) ([]daemon.Job, error) {
	return fromConfig(cfg, func(Entry, *daemon.Job) error { return nil })
}

// fromConfig makes a daemon job of each entry of cfg, finished by more.
func fromConfig(cfg *config.Config, more func(Entry, *daemon.Job) error) ([]daemon.Job, error) {
	entries, err := Entries(cfg)
	if err != nil {
		return nil, err
	}
	var out []daemon.Job
	for _, e := range entries {
		if e.Kind == KindBackup {
			if _, err := cfg.Source(e.Source); err != nil {
				return nil, err
			}
		}
		j := daemon.Job{Name: e.Name, Kind: e.Kind, Tier: e.Tier, Source: e.Source, Repository: cfg.Repository.URL,
			After: e.After, Timeout: e.Timeout, Retries: e.Retries, RetryDelay: e.RetryDelay}
		if e.Schedule != "" {
			s, err := cfg.ParseSchedule(e.Schedule, e.Zone)
			if err != nil {
				return nil, fmt.Errorf("%s: job %s: %w", cfg.File, e.Name, err)
			}
			j.Schedule, j.ScheduleText = s, s.String()+" "+s.Location().String()
		}
		if err := more(e, &j); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func hookSet(global, own config.Hooks, getenv func(string) string) (hooks.Set, error) {
	var s hooks.Set
	var err error
	conv := func(lists ...[]config.Hook) []hooks.Hook {
		var out []hooks.Hook
		for _, l := range lists {
			for _, h := range l {
				hk, e := hook(h, getenv)
				if e != nil && err == nil {
					err = e
				}
				out = append(out, hk)
			}
		}
		return out
	}
	s.Before = conv(global.Before, own.Before)
	s.Success = conv(own.Success, global.Success)
	s.Failure = conv(own.Failure, global.Failure)
	s.After = conv(own.After, global.After)
	return s, err
}

func hook(h config.Hook, getenv func(string) string) (hooks.Hook, error) {
	out := hooks.Hook{Command: h.Command, Timeout: time.Duration(h.Timeout), ContinueOnError: h.ContinueOnError}
	if x := h.HTTP; x != nil {
		u := x.URL
		if u == "" {
			var err error
			if u, err = config.ReadSecret("hook url", x.URLEnv, x.URLFile, getenv); err != nil {
				return out, err
			}
		}
		out.URL, out.Method, out.Header, out.Body = u, x.Method, x.Headers, x.Body
	}
	return out, nil
}

// Secrets are the environment variables cfg reads passwords, tokens and
// secret URLs from (every *_env key: config.EnvVars): hooks and command
// sources must not see them.
func Secrets(cfg *config.Config) []string {
	var out []string
	for _, e := range cfg.EnvVars() {
		out = append(out, e.Name)
	}
	return out
}
