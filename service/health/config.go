package health

import (
	"fmt"
	"path/filepath"
	"time"

	"strata/dbexport"
	"strata/repo/archive"
	"strata/service/config"
)

// FromConfig turns strata.yaml's jobs, retention, check, drill and health
// sections into the limits Evaluate judges by and what Gather reads: a
// job's series is its source (as its snapshots record it) and tier, its
// limit its max_age or its schedule's interval plus Grace; the check's and
// drill's limits likewise; the policy is the retention section's (none:
// the repository's).
func FromConfig(c *config.Config) (Options, GatherOptions, error) {
	opts := Options{Jobs: []Job{}, StorageWarnPercent: float64(c.Health.StorageWarnPercent), StorageCriticalPercent: float64(c.Health.StorageCriticalPercent)}
	gopts := GatherOptions{QuotaBytes: int64(c.Health.QuotaBytes)}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		src, err := c.Source(j.Source)
		if err != nil {
			return opts, gopts, err
		}
		name, err := RecordedSource(src)
		if err != nil {
			return opts, gopts, fmt.Errorf("job %s: %w", j.Name, err)
		}
		sched, err := c.JobSchedule(j)
		if err != nil {
			return opts, gopts, err
		}
		job := Job{Name: j.Name, Source: name, Tier: j.Tier, MaxAge: time.Duration(j.MaxAge)}
		if sched != nil {
			job.Interval = sched.Interval()
		}
		opts.Jobs = append(opts.Jobs, job)
	}
	if k := c.Check; k != nil {
		d, err := limit(c, k.Schedule, k.Timezone, time.Duration(k.MaxAge))
		if err != nil {
			return opts, gopts, fmt.Errorf("check: %w", err)
		}
		opts.CheckMaxAge = d
	}
	if dr := c.Drill; dr != nil {
		d, err := limit(c, dr.Schedule, dr.Timezone, time.Duration(dr.MaxAge))
		if err != nil {
			return opts, gopts, fmt.Errorf("drill: %w", err)
		}
		opts.DrillMaxAge = d
		for i := range c.Sources {
			s := &c.Sources[i]
			if !isDatabase(s) || (dr.Source != "" && dr.Source != s.Name) {
				continue
			}
			name, err := RecordedSource(s)
			if err != nil {
				return opts, gopts, err
			}
			opts.DrillSources = append(opts.DrillSources, name)
		}
	}
	if r := c.Retention; r != nil {
		p, err := r.Policy()
		if err != nil {
			return opts, gopts, fmt.Errorf("retention: %w", err)
		}
		gopts.Policy = &p
		zone := r.Timezone
		if zone == "" {
			zone = c.Timezone
		}
		if zone != "" {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				return opts, gopts, fmt.Errorf("retention: timezone %q: %w", zone, err)
			}
			gopts.Location = loc
		}
	}
	return opts, gopts, nil
}

// limit is a max_age, else the schedule's interval plus Grace, else 0.
func limit(c *config.Config, schedule, zone string, maxAge time.Duration) (time.Duration, error) {
	if maxAge > 0 || schedule == "" {
		return maxAge, nil
	}
	s, err := c.ParseSchedule(schedule, zone)
	if err != nil {
		return 0, err
	}
	return DefaultMaxAge(s.Interval()), nil
}

func isDatabase(s *config.Source) bool {
	return s.Type == config.SourcePostgres || s.Type == config.SourceMySQL || s.Type == config.SourceSQLite
}

// RecordedSource is the source name the snapshots of s carry, as Gather
// groups them (dbexport.SourceName): a database's source key, files:PATHS
// with absolute paths, stdin:NAME for a command or standard input.
func RecordedSource(s *config.Source) (string, error) {
	switch s.Type {
	case config.SourcePostgres, config.SourceMySQL, config.SourceSQLite:
		d, err := dbexport.ParseDSN(s.DSN)
		if err != nil {
			return "", fmt.Errorf("source %s: %w", s.Name, err)
		}
		if d.Engine == dbexport.EngineSQLite && !filepath.IsAbs(d.Path) {
			abs, err := filepath.Abs(d.Path)
			if err != nil {
				return "", err
			}
			d.Path = abs
		}
		return d.SourceKey(), nil
	case config.SourcePath:
		abs := make([]string, len(s.Paths))
		for i, p := range s.Paths {
			a, err := filepath.Abs(p)
			if err != nil {
				return "", err
			}
			abs[i] = a
		}
		return archive.FilesSource(abs), nil
	}
	name := s.StdinName
	if name == "" {
		name = s.Name
	}
	return archive.StreamSource(name), nil
}
