package config

// Config is strata.yaml. The yaml tags are the file's keys; the JSON Schema
// docs/strata.schema.json describes the same keys (a test keeps them in
// step).
type Config struct {
	// Version of the file format: 1.
	Version int `yaml:"version"`
	// Timezone is the default time zone of every schedule (an IANA name
	// like Europe/Berlin, or Local; default UTC), and the zone retention
	// cuts days in unless retention.timezone says otherwise.
	Timezone string `yaml:"timezone,omitempty"`
	// StateDir holds the daemon's run history and next due times
	// (default /var/lib/strata for root, else $XDG_STATE_HOME/strata or
	// ~/.local/state/strata).
	StateDir   string     `yaml:"state_dir,omitempty"`
	Repository Repository `yaml:"repository"`
	Sources    []Source   `yaml:"sources,omitempty"`
	Jobs       []Job      `yaml:"jobs,omitempty"`
	// Retention is the policy forget applies (and the daemon after the
	// jobs, on its schedule).
	Retention *Retention `yaml:"retention,omitempty"`
	Check     *Check     `yaml:"check,omitempty"`
	Drill     *Drill     `yaml:"drill,omitempty"`
	// Hooks run around every job, before the job's own hooks (after them
	// for after, success and failure).
	Hooks         Hooks         `yaml:"hooks,omitempty"`
	Notifications Notifications `yaml:"notifications,omitempty"`
	Health        Health        `yaml:"health,omitempty"`
	Dashboard     Dashboard     `yaml:"dashboard,omitempty"`
	Metrics       Metrics       `yaml:"metrics,omitempty"`

	// File is the path the config was loaded from (not a key).
	File string `yaml:"-"`
	// lines maps a key path ("jobs[1].schedule") to its line in File.
	lines map[string]int
}

// Repository says where the repository is and where its password comes
// from: exactly one of PasswordFile, PasswordEnv, PasswordCommand and
// Password.
type Repository struct {
	// URL: "local:/srv/backup", a bare path, or "s3:host/bucket/prefix"
	// (S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY as
	// for the CLI).
	URL             string `yaml:"url"`
	PasswordFile    string `yaml:"password_file,omitempty"`
	PasswordEnv     string `yaml:"password_env,omitempty"`
	PasswordCommand string `yaml:"password_command,omitempty"`
	// Password inline in the file: accepted, with a warning from Validate.
	Password string `yaml:"password,omitempty"`
	// LockWait is how long a job of the daemon (and of strata schedule
	// run) waits for the repository's lock while another process holds
	// a conflicting one, looking again every 5 s, before it is recorded
	// as lock-busy (default 1h; 0s: not at all). --retry-lock, when
	// given, says instead.
	LockWait *Duration `yaml:"lock_wait,omitempty"`
}

// Source types.
const (
	SourcePostgres = "postgres"
	SourceMySQL    = "mysql"
	SourceSQLite   = "sqlite"
	SourcePath     = "path"
	SourceCommand  = "command"
	SourceStdin    = "stdin"
)

// Source is what a job backs up.
type Source struct {
	Name string `yaml:"name"`
	// Type: postgres, mysql, sqlite, path, command or stdin.
	Type string `yaml:"type"`
	// DSN of a database source, without a password
	// (postgres://backup@db1/shop, mysql://root@127.0.0.1/shop,
	// sqlite:///var/lib/app.db). The password comes from PasswordEnv or
	// PasswordFile (else PGPASSWORD / MYSQL_PWD / ~/.pgpass as for the CLI).
	DSN          string `yaml:"dsn,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// Tables, ExcludeTables and Schemas narrow a database source as
	// backup's --tables, --exclude-tables and --schema do.
	Tables        []string `yaml:"tables,omitempty"`
	ExcludeTables []string `yaml:"exclude_tables,omitempty"`
	Schemas       []string `yaml:"schemas,omitempty"`
	// Paths of a path source: files and folders.
	Paths []string `yaml:"paths,omitempty"`
	// Exclude patterns of a path source.
	Exclude []string `yaml:"exclude,omitempty"`
	// Command of a command source: run with sh -c; its standard output is
	// backed up as one file named StdinName, and a non-zero exit fails
	// the backup.
	Command string `yaml:"command,omitempty"`
	// StdinName names the file a command or stdin source is stored as
	// (default: the source's name).
	StdinName string `yaml:"stdin_name,omitempty"`
}

// Tiers a job may name; any other word is a free tier (kept by
// retention.keep_tiers counts of its newest snapshots).
var Tiers = []string{"hourly", "daily", "weekly", "monthly", "yearly"}

// Job backs up one source on a schedule.
type Job struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source"` // a sources[].name
	// Tier of the job's snapshots: hourly, daily, weekly, monthly, yearly
	// or a free word.
	Tier string `yaml:"tier,omitempty"`
	// Schedule: five cron fields ("0 3 * * *", optionally prefixed
	// "CRON_TZ=Europe/Berlin "), @hourly/@daily/@weekly/@monthly, or
	// "@every 90m". Empty: the job runs only when asked (strata backup
	// --job, or "run now").
	Schedule string `yaml:"schedule,omitempty"`
	// Timezone of the schedule (default: the file's timezone).
	Timezone string   `yaml:"timezone,omitempty"`
	Tags     []string `yaml:"tags,omitempty"`
	// Host recorded in the snapshots (default: this machine's name).
	Host string `yaml:"host,omitempty"`
	// Timeout aborts a run that takes longer (default: none).
	Timeout Duration `yaml:"timeout,omitempty"`
	Retry   Retry    `yaml:"retry,omitempty"`
	// MaxAge is how old the job's newest snapshot may get before health
	// calls it critical (default: its schedule's interval plus 2h).
	MaxAge Duration `yaml:"max_age,omitempty"`
	Hooks  Hooks    `yaml:"hooks,omitempty"`
}

// Retry says how often a failed run is tried again by the daemon (and
// strata schedule run): any failure (a database down, a command that
// failed, a timeout) but one to take the lock, which has waited
// repository.lock_wait already, and the daemon's stop.
type Retry struct {
	// Attempts after the first: attempts 3 is up to 4 tries in all, in
	// one run (default 0, from 0 to 100).
	Attempts int `yaml:"attempts,omitempty"`
	// Delay before each new attempt (default 1m).
	Delay Duration `yaml:"delay,omitempty"`
}

// Retention is the policy of strata forget, in the words of its flags
// (keep_daily is --keep-daily); Policy maps it onto retention.Policy.
type Retention struct {
	KeepLast          int      `yaml:"keep_last,omitempty"`
	KeepHourly        int      `yaml:"keep_hourly,omitempty"`
	KeepDaily         int      `yaml:"keep_daily,omitempty"`
	KeepWeekly        int      `yaml:"keep_weekly,omitempty"`
	KeepMonthly       int      `yaml:"keep_monthly,omitempty"`
	KeepYearly        int      `yaml:"keep_yearly,omitempty"`
	KeepWithin        string   `yaml:"keep_within,omitempty"`
	KeepWithinHourly  string   `yaml:"keep_within_hourly,omitempty"`
	KeepWithinDaily   string   `yaml:"keep_within_daily,omitempty"`
	KeepWithinWeekly  string   `yaml:"keep_within_weekly,omitempty"`
	KeepWithinMonthly string   `yaml:"keep_within_monthly,omitempty"`
	KeepWithinYearly  string   `yaml:"keep_within_yearly,omitempty"`
	KeepTags          []string `yaml:"keep_tags,omitempty"`
	// KeepTiers: per tier, as --keep-tier (hourly: 24, daily: 30, ...).
	KeepTiers map[string]int `yaml:"keep_tiers,omitempty"`
	// KeepSafety, as --keep-safety (default 7d; "0" turns it off).
	KeepSafety string `yaml:"keep_safety,omitempty"`
	// Timezone retention cuts hours and days in (default: the file's).
	Timezone string `yaml:"timezone,omitempty"`
	// GroupBy, as forget --group-by (default host,source).
	GroupBy string `yaml:"group_by,omitempty"`
	// Schedule of the daemon's forget (and prune, with Prune); without
	// one the daemon applies the policy after every successful backup.
	Schedule string `yaml:"schedule,omitempty"`
	// Prune after forget, under the same lock.
	Prune bool `yaml:"prune,omitempty"`
}

// Check is the schedule of strata check.
type Check struct {
	Schedule string `yaml:"schedule"`
	Timezone string `yaml:"timezone,omitempty"`
	// ReadData reads and verifies every blob (--read-data).
	ReadData bool `yaml:"read_data,omitempty"`
	// ReadDataSubset reads a share of the packs, "n/m" or "P%"
	// (--read-data-subset).
	ReadDataSubset string `yaml:"read_data_subset,omitempty"`
	// MaxAge: how old the last good check may get before health warns
	// (default: the schedule's interval plus 2h).
	MaxAge Duration `yaml:"max_age,omitempty"`
	Hooks  Hooks    `yaml:"hooks,omitempty"`
}

// Drill is the schedule of strata verify drill: a test restore.
type Drill struct {
	Schedule string `yaml:"schedule"`
	Timezone string `yaml:"timezone,omitempty"`
	// Source whose latest snapshot is drilled (a sources[].name; default
	// every database source).
	Source string `yaml:"source,omitempty"`
	// Tables, as --tables (default all).
	Tables []string `yaml:"tables,omitempty"`
	// Target scratch server DSN, as --target (default: a temporary SQLite
	// file); its password from TargetPasswordEnv or TargetPasswordFile
	// when the DSN holds none (else PGPASSWORD / MYSQL_PWD).
	Target string `yaml:"target,omitempty"`
	// TargetPasswordEnv names the environment variable that holds the
	// target server's password.
	TargetPasswordEnv string `yaml:"target_password_env,omitempty"`
	// TargetPasswordFile is a file that holds the target server's
	// password (trailing newline dropped).
	TargetPasswordFile string `yaml:"target_password_file,omitempty"`
	// SameEngine restores into the snapshot's own engine (--same-engine).
	SameEngine bool     `yaml:"same_engine,omitempty"`
	MaxAge     Duration `yaml:"max_age,omitempty"`
	Hooks      Hooks    `yaml:"hooks,omitempty"`
}

// Hooks run around a job, a check or a drill.
type Hooks struct {
	Before  []Hook `yaml:"before,omitempty"`
	After   []Hook `yaml:"after,omitempty"` // whatever the result
	Success []Hook `yaml:"success,omitempty"`
	// Failure hooks also run when the job could not take its lock.
	Failure []Hook `yaml:"failure,omitempty"`
}

// Hook is a shell command or an HTTP request: exactly one of Command and
// HTTP. It gets STRATA_JOB, STRATA_TIER, STRATA_SNAPSHOT, STRATA_ERROR ...
// in its environment.
type Hook struct {
	Command string    `yaml:"command,omitempty"`
	HTTP    *HTTPHook `yaml:"http,omitempty"`
	// Timeout (default 1m).
	Timeout Duration `yaml:"timeout,omitempty"`
	// ContinueOnError: a failing before hook does not stop the job.
	ContinueOnError bool `yaml:"continue_on_error,omitempty"`
}

// HTTPHook is a request a hook sends.
type HTTPHook struct {
	// URL, or URLEnv / URLFile: a webhook's URL is a secret, and one
	// written here is accepted with a warning (Warnings).
	URL     string `yaml:"url,omitempty"`
	URLEnv  string `yaml:"url_env,omitempty"`
	URLFile string `yaml:"url_file,omitempty"`
	// Method (default POST).
	Method  string            `yaml:"method,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty"`
	// Body (default: the event as JSON).
	Body string `yaml:"body,omitempty"`
}

// Notifications are the channels events are sent to.
type Notifications struct {
	Channels []Channel `yaml:"channels,omitempty"`
}

// Channel types.
const (
	ChannelWebhook      = "webhook"
	ChannelSlack        = "slack"
	ChannelDiscord      = "discord"
	ChannelSMTP         = "smtp"
	ChannelHealthchecks = "healthchecks"
)

// Severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Events a channel can be sent.
const (
	EventBackupFailed     = "backup_failed"
	EventBackupSucceeded  = "backup_succeeded"
	EventUnhealthy        = "unhealthy"
	EventRecovered        = "recovered"
	EventCheckDamage      = "check_damage"
	EventCheckFailed      = "check_failed"
	EventDrillFailed      = "drill_failed"
	EventDrillSucceeded   = "drill_succeeded"
	EventStorageThreshold = "storage_threshold"
)

// Events lists every event name; DefaultEvents those a channel gets when
// it names none (no success floods).
var (
	Events        = []string{EventBackupFailed, EventBackupSucceeded, EventUnhealthy, EventRecovered, EventCheckDamage, EventCheckFailed, EventDrillFailed, EventDrillSucceeded, EventStorageThreshold}
	DefaultEvents = []string{EventBackupFailed, EventUnhealthy, EventRecovered, EventCheckDamage, EventCheckFailed, EventDrillFailed, EventStorageThreshold}
)

// Channel is one place notifications go.
type Channel struct {
	Name string `yaml:"name"`
	// Type: webhook (JSON POST), slack, discord, smtp or healthchecks
	// (start/success/fail pings to URL, URL/start, URL/fail).
	Type string `yaml:"type"`
	// URL of a webhook, Slack or Discord webhook, or healthchecks check;
	// these URLs are secrets, so prefer URLEnv or URLFile: one written
	// here is accepted with a warning (Warnings).
	URL     string `yaml:"url,omitempty"`
	URLEnv  string `yaml:"url_env,omitempty"`
	URLFile string `yaml:"url_file,omitempty"`
	// Headers of a webhook's requests.
	Headers map[string]string `yaml:"headers,omitempty"`
	// MinSeverity sent: info, warning or critical (default warning).
	MinSeverity string `yaml:"min_severity,omitempty"`
	// Events sent (default DefaultEvents).
	Events []string `yaml:"events,omitempty"`
	// Jobs whose events are sent (default all; healthchecks: exactly one,
	// since a check follows one job).
	Jobs []string `yaml:"jobs,omitempty"`
	SMTP *SMTP    `yaml:"smtp,omitempty"`
}

// SMTP is how an smtp channel sends mail.
type SMTP struct {
	Host string `yaml:"host"`
	// Port (default 587).
	Port     int    `yaml:"port,omitempty"`
	Username string `yaml:"username,omitempty"`
	// The password from PasswordEnv or PasswordFile.
	PasswordEnv  string   `yaml:"password_env,omitempty"`
	PasswordFile string   `yaml:"password_file,omitempty"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	// TLS: starttls (default), tls (implicit, port 465) or none (only to
	// a loopback server).
	TLS string `yaml:"tls,omitempty"`
}

// Health sets the limits strata health judges by.
type Health struct {
	// StorageWarnPercent and StorageCriticalPercent of the repository's
	// filesystem (or of QuotaBytes) in use (default 80 and 90).
	StorageWarnPercent     int `yaml:"storage_warn_percent,omitempty"`
	StorageCriticalPercent int `yaml:"storage_critical_percent,omitempty"`
	// QuotaBytes: the space the repository may use, "500GiB" or a number
	// of bytes (default: its filesystem's size).
	QuotaBytes Size `yaml:"quota_bytes,omitempty"`
}

// Dashboard is strata serve's (and the daemon's) web page.
type Dashboard struct {
	// Listen address of strata serve (default 127.0.0.1:8420) and, when
	// set here, of strata daemon (whose --listen wins).
	Listen string `yaml:"listen,omitempty"`
	// The token requests must carry, from TokenEnv or TokenFile.
	TokenEnv  string `yaml:"token_env,omitempty"`
	TokenFile string `yaml:"token_file,omitempty"`
	// SessionLifetime is how long a sign-in through the dashboard's form
	// lasts (default 12h); signing out, a new token (read at SIGHUP) and
	// a restart end it sooner.
	SessionLifetime Duration `yaml:"session_lifetime,omitempty"`
}

// Metrics are Prometheus metrics.
type Metrics struct {
	// File a textfile collector reads, written atomically after every run.
	File string `yaml:"file,omitempty"`
}
