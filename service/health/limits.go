package health

import (
	"time"

	"strata/repo/retention"
)

// Grace is what the default limits add to an interval: time for a run to
// start late and finish.
const Grace = 2 * time.Hour

// DefaultStorageWarnPercent and DefaultStorageCriticalPercent are the
// storage thresholds when none are given.
const (
	DefaultStorageWarnPercent     = 80
	DefaultStorageCriticalPercent = 90
)

// TierInterval is the interval of a tier named after a period (hourly 1 h,
// daily 24 h, weekly 7 days, monthly 31 days, yearly 366 days: the longest
// such period, so a limit never fires early), and 0 for any other tier.
func TierInterval(tier string) time.Duration {
	switch tier {
	case "hourly":
		return time.Hour
	case "daily":
		return 24 * time.Hour
	case "weekly":
		return 7 * 24 * time.Hour
	case "monthly":
		return 31 * 24 * time.Hour
	case "yearly":
		return 366 * 24 * time.Hour
	}
	return 0
}

// DefaultMaxAge is the limit of a series made every interval: the interval
// plus Grace (daily: 26 hours), or 0 (no limit) when the interval is not
// known.
func DefaultMaxAge(interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	return interval + Grace
}

// warnAge is when a series whose limit is max starts to warn: an hour
// before it, or a quarter of it before for short limits.
func warnAge(max time.Duration) time.Duration {
	return max - min(time.Hour, max/4)
}

// Keep is how many snapshots of tier the policy keeps per source: its
// keep-tier count, else for a tier named after a period its keep-<period>
// count; -1 for unlimited, 0 when the policy says nothing of the tier.
func Keep(p *retention.Policy, tier string) int {
	if p == nil {
		return 0
	}
	if n, ok := p.Tiers[tier]; ok {
		return n
	}
	switch tier {
	case "hourly":
		return p.Hourly
	case "daily":
		return p.Daily
	case "weekly":
		return p.Weekly
	case "monthly":
		return p.Monthly
	case "yearly":
		return p.Yearly
	}
	return 0
}
