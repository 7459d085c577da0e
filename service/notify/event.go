package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Kind is what an event is about.
type Kind string

// The kinds of events.
const (
	// BackupFailed: a backup job ended with an error (it could not take
	// its lock, read its source, or write its snapshot).
	BackupFailed Kind = "backup_failed"
	// BackupSucceeded: a backup job saved its snapshot.
	BackupSucceeded Kind = "backup_succeeded"
	// JobStarted: a job began; only ping channels act on it (healthchecks'
	// /start, which measures the run's duration).
	JobStarted Kind = "job_started"
	// JobFailed and JobSucceeded: a job of another kind (forget, prune)
	// ended.
	JobFailed    Kind = "job_failed"
	JobSucceeded Kind = "job_succeeded"
	// CheckDamage: check found damage in the repository; CheckFailed:
	// check could not run (no repository, a lock, a wrong password).
	CheckDamage Kind = "check_damage"
	CheckFailed Kind = "check_failed"
	// DrillFailed: a restore drill failed or found problems;
	// DrillSucceeded: it restored every table without a finding.
	DrillFailed    Kind = "drill_failed"
	DrillSucceeded Kind = "drill_succeeded"
	// Unhealthy: the health evaluation went from OK (or a milder state) to
	// warning or critical, for one of its checks.
	Unhealthy Kind = "unhealthy"
	// Recovered: a check that was unhealthy is OK again.
	Recovered Kind = "recovered"
	// StorageThreshold: the repository's storage use crossed a threshold
	// (80% warning, 90% critical, by default).
	StorageThreshold Kind = "storage_threshold"
	// Test: sent by `strata notify test`; it passes every filter.
	Test Kind = "test"
)

// Kinds are the kinds a configuration may name, in the order of the docs.
var kinds = []Kind{BackupFailed, BackupSucceeded, JobStarted, JobFailed, JobSucceeded, CheckDamage, CheckFailed, DrillFailed, DrillSucceeded, Unhealthy, Recovered, StorageThreshold, Test}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown event %q: use one of %s", s, strings.Join(names, ", "))
}

// title is the kind as a person reads it.
func (k Kind) title() string {
	switch k {
	case BackupFailed:
		return "backup failed"
	case BackupSucceeded:
		return "backup succeeded"
	case JobStarted:
		return "job started"
	case JobFailed:
		return "job failed"
	case JobSucceeded:
		return "job succeeded"
	case CheckDamage:
		return "check found damage"
	case CheckFailed:
		return "check failed"
	case DrillFailed:
		return "drill failed"
	case DrillSucceeded:
		return "drill succeeded"
	case Unhealthy:
		return "unhealthy"
	case Recovered:
		return "recovered"
	case StorageThreshold:
		return "storage threshold crossed"
	case Test:
		return "test notification"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// failure says whether the kind is the end of a run that failed (a ping
// channel's /fail).
func (k Kind) failure() bool {
	return k == BackupFailed || k == JobFailed || k == CheckDamage || k == CheckFailed || k == DrillFailed
}

// success says whether the kind is the end of a run that succeeded.
func (k Kind) success() bool { return k == BackupSucceeded || k == JobSucceeded || k == DrillSucceeded }

// Severity orders events: a channel takes those at or above its minimum.
type Severity int

// The severities, mildest first.
const (
	Info Severity = iota + 1
	Warning
	Critical
)

// ParseSeverity returns the severity named s (info, warning, critical).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "critical", "crit":
		return Critical, nil
	}
	return 0, fmt.Errorf("unknown severity %q: use info, warning or critical", s)
}

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// DefaultSeverity is the severity of an event of kind k that does not say.
func DefaultSeverity(k Kind) Severity {
	switch k {
	case BackupFailed, JobFailed, CheckDamage, CheckFailed, DrillFailed, Unhealthy:
		return Critical
	case StorageThreshold, Recovered:
		return Warning
	}
	return Info
}

// Event is one thing that happened. The fields a kind has no use for are
// empty.
type Event struct {
	Kind     Kind      `json:"event"`
	Severity Severity  `json:"severity"`
	Time     time.Time `json:"time"`
	// Host is the machine strata runs on.
	Host string `json:"host,omitempty"`
	// Job and Tier name the job (its name in strata.yaml) and its tier.
	Job  string `json:"job,omitempty"`
	Tier string `json:"tier,omitempty"`
	// Source is what the job backs up, as strata records it (a DSN without
	// its password).
	Source string `json:"source,omitempty"`
	// Repository is the repository's location, without credentials.
	Repository string `json:"repository,omitempty"`
	// Snapshot is the ID of the snapshot the event is about.
	Snapshot string `json:"snapshot,omitempty"`
	// RunID identifies one run of a job; a UUID is passed on to
	// healthchecks as its run ID (rid), pairing /start with its end.
	RunID string `json:"run_id,omitempty"`
	// Check names the health check an unhealthy or recovered event is
	// about ("age daily db", "storage").
	Check string `json:"check,omitempty"`
	// Message says what happened in one line; Error is the error, when
	// there is one.
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
	// Duration is how long the run took.
	Duration time.Duration `json:"-"`
	// Log is the tail of the run's log.
	Log string `json:"log,omitempty"`
}

// MarshalJSON adds the duration in seconds and the kind's title.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		Title           string  `json:"title"`
		DurationSeconds float64 `json:"duration_seconds,omitempty"`
	}{plain(e), e.Title(), e.Duration.Seconds()})
}

// Title is the event in a few words, for a subject line or a heading:
// "CRITICAL backup failed: db-hourly".
func (e Event) Title() string {
	t := strings.ToUpper(e.Severity.String()) + " " + e.Kind.title()
	switch {
	case e.Job != "":
		t += ": " + e.Job
	case e.Check != "":
		t += ": " + e.Check
	}
	return "strata " + t
}

// fields are the event's facts as label and value, for Slack, Discord and
// email, in a fixed order, leaving out those that are empty.
func (e Event) fields() [][2]string {
	var out [][2]string
	add := func(label, value string) {
		if value != "" {
			out = append(out, [2]string{label, value})
		}
	}
	add("Job", e.Job)
	add("Tier", e.Tier)
	add("Check", e.Check)
	add("Source", e.Source)
	add("Snapshot", e.Snapshot)
	add("Host", e.Host)
	add("Repository", e.Repository)
	if e.Duration > 0 {
		add("Duration", e.Duration.Round(time.Millisecond).String())
	}
	add("Time", e.Time.UTC().Format(time.RFC3339))
	return out
}

// withDefaults fills the severity and time of an event that lacks them.
func (e Event) withDefaults(now time.Time) Event {
	if e.Severity == 0 {
		e.Severity = DefaultSeverity(e.Kind)
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	return e
}
