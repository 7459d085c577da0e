package health

import (
	"time"
)

// Report is what Evaluate found.
type Report struct {
	Time   time.Time `json:"time"`
	Status Status    `json:"status"`
	// ExitCode is Status as a Nagios plugin exits: 0 to 3.
	ExitCode int `json:"exit_code"`
	// Configured says whether the jobs came from a configuration (else
	// from the repository's snapshots, one per source and tier).
	Configured bool          `json:"configured"`
	Jobs       []JobHealth   `json:"jobs"`
	Check      *CheckHealth  `json:"check"`
	Drills     []DrillHealth `json:"drills"`
	// PendingDrills are the sources a drill is configured for that have
	// none recorded yet, but whose first drill is not overdue (the drill
	// job's first due time plus its limit lies ahead): pending, as a
	// job without a snapshot is, not a warning.
	PendingDrills []PendingDrill `json:"pending_drills,omitempty"`
	Storage       *StorageHealth `json:"storage"`
	// StateFolder is the daemon's state folder, when judged.
	StateFolder *StateFolderHealth `json:"state_folder,omitempty"`
	Sources     []SourceHealth     `json:"sources"`
	// Findings are every warning and critical finding, worst first.
	Findings []Finding `json:"findings"`
	// Notes say what health could not judge and why (no retention
	// policy, storage without a quota); they do not change the status.
	Notes []string `json:"notes,omitempty"`
}

// Finding is one thing health calls warning or critical.
type Finding struct {
	// ID names what the finding is about, stably across evaluations:
	// "age JOB", "count JOB", "gaps JOB", "check", "drill SOURCE",
	// "storage". Transitions are tracked by it.
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Job, Tier and Source name what the finding is about, when it is a
	// job's or a source's.
	Job    string `json:"job,omitempty"`
	Tier   string `json:"tier,omitempty"`
	Source string `json:"source,omitempty"`
}

// JobHealth is one job's series: the snapshots of its source and tier.
type JobHealth struct {
	// Job is the job's name; for a series found in the repository without
	// a configuration, "SOURCE TIER".
	Job    string `json:"job"`
	Source string `json:"source"`
	Tier   string `json:"tier"`
	Status Status `json:"status"`
	// Snapshots of the series, and how many the policy keeps (0: the
	// policy says nothing of the tier; -1: unlimited).
	Snapshots int `json:"snapshots"`
	Keep      int `json:"keep"`
	// Newest is the newest snapshot's time and ID (short); AgeSeconds its
	// age. MaxAgeSeconds is the limit (critical beyond), WarnAgeSeconds
	// when it warns; 0 when there is none.
	Newest          *time.Time `json:"newest,omitempty"`
	NewestSnapshot  string     `json:"newest_snapshot,omitempty"`
	AgeSeconds      float64    `json:"age_seconds"`
	WarnAgeSeconds  float64    `json:"warn_age_seconds"`
	MaxAgeSeconds   float64    `json:"max_age_seconds"`
	IntervalSeconds float64    `json:"interval_seconds"`
	// Gaps counts the slots that passed without a snapshot in the part of
	// the series the policy keeps; MissingSlots names the newest of them
	// in the report's zone: "2026-12-07 05:00 UTC" (hours and intervals,
	// with the zone), "2026-12-07", "2026-W49", "2026-12" or "2026".
	Gaps         int      `json:"gaps"`
	MissingSlots []string `json:"missing_slots,omitempty"`
	// Pending: no snapshot yet, but the job's first run is not overdue
	// (FirstDue plus the limit lies ahead); Status is OK and a note says
	// until when. FirstDue is when the job was first due, when known.
	Pending  bool       `json:"pending"`
	FirstDue *time.Time `json:"first_due,omitempty"`
}

// StateFolderHealth is the daemon's state folder: critical while it
// cannot be written, a warning while it holds damaged files set aside.
type StateFolderHealth struct {
	Dir    string     `json:"dir"`
	Status Status     `json:"status"`
	Error  string     `json:"error,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	// SetAside are the damaged files set aside in the folder.
	SetAside []string `json:"set_aside,omitempty"`
}

// CheckHealth is the last check.
type CheckHealth struct {
	Status Status `json:"status"`
	// Time of the last check; nil when none is recorded.
	Time       *time.Time `json:"time,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	// MaxAgeSeconds: how old the last check may get (0: no limit).
	MaxAgeSeconds float64 `json:"max_age_seconds"`
	OK            bool    `json:"ok"`
	Errors        int     `json:"errors"`
	ReadData      bool    `json:"read_data"`
	// ReadDataSubset is the subset of the packs' data it read ("1/10",
	// "10%"), if it read one.
	ReadDataSubset string `json:"read_data_subset,omitempty"`
	Error          string `json:"error,omitempty"`
	// Pending: no check recorded yet, but the daemon's check job is not
	// overdue (FirstDue, when it was first due, plus the limit lies
	// ahead); Status is OK and a note says until when.
	Pending  bool       `json:"pending"`
	FirstDue *time.Time `json:"first_due,omitempty"`
}

// DrillHealth is a source's last drill.
type DrillHealth struct {
	Source         string    `json:"source"`
	Status         Status    `json:"status"`
	Time           time.Time `json:"time"`
	AgeSeconds     float64   `json:"age_seconds"`
	MaxAgeSeconds  float64   `json:"max_age_seconds"`
	OK             bool      `json:"ok"`
	Snapshot       string    `json:"snapshot,omitempty"`
	RestoreSeconds float64   `json:"restore_seconds"`
	Tables         int       `json:"tables"`
	FailedTables   int       `json:"failed_tables"`
	Error          string    `json:"error,omitempty"`
	// TableResults: each table's rows restored, load time and verdict.
	TableResults []DrillTable `json:"table_results,omitempty"`
}

// PendingDrill is a source without a recorded drill whose first drill
// is not overdue.
type PendingDrill struct {
	Source   string    `json:"source"`
	FirstDue time.Time `json:"first_due"`
}

// StorageHealth is the repository's storage use.
type StorageHealth struct {
	Status Status `json:"status"`
	// Method: "filesystem" (the repository folder's filesystem, as df
	// reports it) or "quota" (the repository's stored bytes against the
	// configured quota).
	Method      string  `json:"method"`
	UsedBytes   int64   `json:"used_bytes"`
	TotalBytes  int64   `json:"total_bytes"`
	Percent     float64 `json:"percent"`
	WarnPercent float64 `json:"warn_percent"`
	CritPercent float64 `json:"critical_percent"`
	// StoredBytes is the size of every file of the repository but the
	// locks (backend.StoredBytes), the audit trail included.
	StoredBytes int64 `json:"stored_bytes"`
}

// SourceHealth is a source's recovery point and time.
type SourceHealth struct {
	Source string `json:"source"`
	// RPOSeconds is the age of the source's newest snapshot of any tier.
	RPOSeconds float64 `json:"rpo_seconds"`
	// RTOSeconds is its last drill's restore time; nil without a drill.
	RTOSeconds *float64 `json:"rto_seconds"`
}
