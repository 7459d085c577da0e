package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strata/repo/retention"
	"strata/service/schedule"
)

// Defaults ApplyDefaults fills in.
const (
	DefaultStorageWarnPercent     = 80
	DefaultStorageCriticalPercent = 90
	DefaultDashboardListen        = "127.0.0.1:8420"
	DefaultMinSeverity            = SeverityWarning
	DefaultSMTPPort               = 587
	DefaultHookTimeout            = Duration(time.Minute)
	DefaultRetryDelay             = Duration(time.Minute)
	// DefaultLockWait is repository.lock_wait's default: long enough for
	// a prune or a check of a large repository to finish, short enough
	// that a job stuck behind a lock that is never released is reported
	// the same day.
	DefaultLockWait = Duration(time.Hour)
)

// LockWait is repository.lock_wait: how long the daemon's jobs wait for
// the repository's lock (DefaultLockWait when not set).
func (c *Config) LockWait() time.Duration {
	if c.Repository.LockWait == nil {
		return time.Duration(DefaultLockWait)
	}
	return time.Duration(*c.Repository.LockWait)
}

// ApplyDefaults fills in what the file leaves out, so that the daemon and
// strata config show see the values in force: the state folder, the
// file's time zone in every schedule's zone, storage thresholds, the
// dashboard's address, channels' severity and events, hooks' timeout and
// method. It is idempotent.
func (c *Config) ApplyDefaults() {
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir()
	}
	if c.Repository.LockWait == nil {
		w := DefaultLockWait
		c.Repository.LockWait = &w
	}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		if j.Schedule != "" && j.Timezone == "" && !hasZonePrefix(j.Schedule) {
			j.Timezone = c.Timezone
		}
		if j.Retry.Attempts > 0 && j.Retry.Delay == 0 {
			j.Retry.Delay = DefaultRetryDelay
		}
		defaultHooks(&j.Hooks)
	}
	if r := c.Retention; r != nil && r.Timezone == "" {
		r.Timezone = c.Timezone
	}
	if k := c.Check; k != nil {
		if k.Timezone == "" && !hasZonePrefix(k.Schedule) {
			k.Timezone = c.Timezone
		}
		defaultHooks(&k.Hooks)
	}
	if d := c.Drill; d != nil {
		if d.Timezone == "" && !hasZonePrefix(d.Schedule) {
			d.Timezone = c.Timezone
		}
		defaultHooks(&d.Hooks)
	}
	defaultHooks(&c.Hooks)
	for i := range c.Notifications.Channels {
		ch := &c.Notifications.Channels[i]
		if ch.MinSeverity == "" {
			ch.MinSeverity = DefaultMinSeverity
		}
		if len(ch.Events) == 0 {
			ch.Events = append([]string(nil), DefaultEvents...)
		}
		if s := ch.SMTP; s != nil {
			if s.Port == 0 {
				s.Port = DefaultSMTPPort
			}
			if s.TLS == "" {
				s.TLS = "starttls"
			}
		}
	}
	if c.Health.StorageWarnPercent == 0 {
		c.Health.StorageWarnPercent = DefaultStorageWarnPercent
	}
	if c.Health.StorageCriticalPercent == 0 {
		c.Health.StorageCriticalPercent = DefaultStorageCriticalPercent
	}
	if c.Dashboard.Listen == "" {
		c.Dashboard.Listen = DefaultDashboardListen
	}
}

func defaultHooks(h *Hooks) {
	for _, list := range [][]Hook{h.Before, h.After, h.Success, h.Failure} {
		for i := range list {
			if list[i].Timeout == 0 {
				list[i].Timeout = DefaultHookTimeout
			}
			if list[i].HTTP != nil && list[i].HTTP.Method == "" {
				list[i].HTTP.Method = "POST"
			}
		}
	}
}

// DefaultStateDir is /var/lib/strata for root, else
// $XDG_STATE_HOME/strata, else ~/.local/state/strata.
func DefaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/strata"
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "strata")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "strata")
	}
	return filepath.Join(os.TempDir(), "strata-state")
}

// ParseSchedule reads a schedule in zone (an IANA name; "" means the
// file's timezone, else UTC). A CRON_TZ= prefix in spec wins.
func (c *Config) ParseSchedule(spec, zone string) (*schedule.Schedule, error) {
	if zone == "" {
		zone = c.Timezone
	}
	loc, err := schedule.LoadZone(zone)
	if err != nil {
		return nil, err
	}
	return schedule.Parse(spec, loc)
}

// JobSchedule is the job's parsed schedule, or nil when it has none.
func (c *Config) JobSchedule(j *Job) (*schedule.Schedule, error) {
	if j.Schedule == "" {
		return nil, nil
	}
	s, err := c.ParseSchedule(j.Schedule, j.Timezone)
	if err != nil {
		return nil, fmt.Errorf("%s: job %s: %w", c.File, j.Name, err)
	}
	return s, nil
}

// ErrNoJob: --job names no job of the config.
var ErrNoJob = errors.New("no such job")

// Job finds a job by name.
func (c *Config) Job(name string) (*Job, error) {
	var names []string
	for i := range c.Jobs {
		if c.Jobs[i].Name == name {
			return &c.Jobs[i], nil
		}
		names = append(names, c.Jobs[i].Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w %q: %s has no jobs", ErrNoJob, name, c.File)
	}
	return nil, fmt.Errorf("%w %q in %s (jobs: %s)", ErrNoJob, name, c.File, strings.Join(names, ", "))
}

// Source finds a source by name.
func (c *Config) Source(name string) (*Source, error) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], nil
		}
	}
	return nil, fmt.Errorf("no source %q in %s (sources: %s)", name, c.File, strings.Join(c.sourceNames(), ", "))
}

// Policy maps the section onto the policy strata forget applies, as the
// --keep-* flags of the same names would.
func (r *Retention) Policy() (retention.Policy, error) {
	p := retention.Policy{
		Last: r.KeepLast, Hourly: r.KeepHourly, Daily: r.KeepDaily, Weekly: r.KeepWeekly, Monthly: r.KeepMonthly, Yearly: r.KeepYearly,
		Tags: r.KeepTags,
	}
	if len(r.KeepTiers) > 0 {
		p.Tiers = map[string]int{}
		for k, n := range r.KeepTiers {
			p.Tiers[k] = n
		}
	}
	for _, d := range []struct {
		key string
		val string
		dst *retention.Duration
	}{
		{"keep_within", r.KeepWithin, &p.Within},
		{"keep_within_hourly", r.KeepWithinHourly, &p.WithinHourly},
		{"keep_within_daily", r.KeepWithinDaily, &p.WithinDaily},
		{"keep_within_weekly", r.KeepWithinWeekly, &p.WithinWeekly},
		{"keep_within_monthly", r.KeepWithinMonthly, &p.WithinMonthly},
		{"keep_within_yearly", r.KeepWithinYearly, &p.WithinYearly},
	} {
		if d.val == "" {
			continue
		}
		v, err := retention.ParseDuration(d.val)
		if err != nil {
			return p, fmt.Errorf("%s: %w", d.key, err)
		}
		*d.dst = v
	}
	if r.KeepSafety != "" {
		var s retention.Duration
		if r.KeepSafety != "0" {
			v, err := retention.ParseDuration(r.KeepSafety)
			if err != nil {
				return p, fmt.Errorf("keep_safety: %w (0 turns it off)", err)
			}
			s = v
		}
		p.Safety = &s
	}
	if p.Empty() {
		return p, errors.New("no keep_* rule: forget would remove nothing (set keep_tiers, keep_daily, ...)")
	}
	return p, p.Validate()
}
