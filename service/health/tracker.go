package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"strata/internal/atomicfile"
	"strata/service/notify"
)

// StateFile is the name of the file in the state folder where a Tracker
// keeps the findings of the last evaluation.
const StateFile = "health.json"

// stateVersion is the format of the state file: a JSON object
// {"version": 1, "time": RFC 3339, "findings": {ID: {"status", "since",
// "message", "job", "tier", "source"}}}.
const stateVersion = 1

type trackedState struct {
	Version  int                       `json:"version"`
	Time     time.Time                 `json:"time"`
	Findings map[string]trackedFinding `json:"findings"`
}

type trackedFinding struct {
	Status  Status    `json:"status"`
	Since   time.Time `json:"since"`
	Message string    `json:"message"`
	Job     string    `json:"job,omitempty"`
	Tier    string    `json:"tier,omitempty"`
	Source  string    `json:"source,omitempty"`
}

// decodeState reads a state file; it refuses anything but a version 1
// object with valid statuses.
func decodeState(b []byte) (*trackedState, error) {
	var st trackedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	for id, f := range st.Findings {
		if f.Status != Warning && f.Status != Critical {
			return nil, fmt.Errorf("finding %q has status %v", id, f.Status)
		}
	}
	if st.Findings == nil {
		st.Findings = map[string]trackedFinding{}
	}
	return &st, nil
}

// Tracker turns changes between evaluations into events: a finding that
// appears or worsens is unhealthy (storage_threshold for the storage), one
// that is gone is recovered, with the severity it had, so a channel that
// was told of a problem is told of its end; but the finding of a job no
// longer in a configured report (removed from the configuration, or
// renamed) is dropped quietly, as nothing recovered. A finding that eases
// (critical to warning) sends nothing. The findings are kept in the state
// folder, so a restarted daemon neither repeats an alert nor misses a
// recovery.
type Tracker struct {
	// Dir is the state folder; the file is Dir/health.json.
	Dir string
	// Host and Repository are put on the events.
	Host, Repository string

	mu sync.Mutex
	// unsaved is the last Update's state when it could not be written
	// (a full or read-only state folder): the next Update compares with
	// it, not with the older file, so a finding is not sent again after
	// every run while the folder stays unwritable.
	unsaved *trackedState
}

// Update compares rep with the last evaluation, stores rep's findings,
// and returns the events of what changed. A state file that cannot be
// read is started afresh (its findings are sent again) and reported in
// the error, alongside the events.
func (t *Tracker) Update(rep *Report) ([]notify.Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.update(rep)
}

func (t *Tracker) update(rep *Report) ([]notify.Event, error) {
	prev, readErr := t.current()
	if prev == nil {
		prev = &trackedState{Findings: map[string]trackedFinding{}}
	}
	next := &trackedState{Version: stateVersion, Time: rep.Time, Findings: map[string]trackedFinding{}}
	var events []notify.Event
	for _, f := range rep.Findings {
		if _, dup := next.Findings[f.ID]; dup {
			continue
		}
		old, had := prev.Findings[f.ID]
		tf := trackedFinding{Status: f.Status, Since: rep.Time, Message: f.Message, Job: f.Job, Tier: f.Tier, Source: f.Source}
		if had {
			tf.Since = old.Since
		}
		next.Findings[f.ID] = tf
		if had && rank(f.Status) <= rank(old.Status) {
			continue
		}
		kind := notify.Unhealthy
		if f.ID == "storage" {
			kind = notify.StorageThreshold
		}
		events = append(events, t.event(kind, f.Status, rep.Time, f.ID, f.Message, f.Job, f.Tier, f.Source))
	}
	ids := make([]string, 0, len(prev.Findings))
	for id := range prev.Findings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	monitored := map[string]bool{}
	for _, j := range rep.Jobs {
		monitored[j.Job] = true
	}
	for _, id := range ids {
		if _, still := next.Findings[id]; still {
			continue
		}
		old := prev.Findings[id]
		if rep.Configured && old.Job != "" && !monitored[old.Job] {
			// Its job is no longer configured (removed or renamed):
			// nothing recovered, its finding is dropped quietly.
			continue
		}
		msg := fmt.Sprintf("%s is OK again after %s (was %s: %s)", id, Age(rep.Time.Sub(old.Since)), old.Status, old.Message)
		events = append(events, t.event(notify.Recovered, old.Status, rep.Time, id, msg, old.Job, old.Tier, old.Source))
	}
	if err := t.save(next); err != nil {
		t.unsaved = next
		return events, err
	}
	t.unsaved = nil
	return events, readErr
}

// current is the state the next evaluation is compared with: the one
// this process could not write, else the file's.
func (t *Tracker) current() (*trackedState, error) {
	if t.unsaved != nil {
		return t.unsaved, nil
	}
	return t.load()
}

// RepositoryFinding is the ID of the finding that the repository could
// not be read.
const RepositoryFinding = "repository"

// Unreadable records that the repository could not be read at all: a
// critical finding of its own, while the others stay as they were (health
// could not see whether they ended).
func (t *Tracker) Unreadable(at time.Time, cause error) ([]notify.Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev, readErr := t.current()
	rep := &Report{Time: at, Status: Unknown}
	rep.Findings = append(rep.Findings, Finding{ID: RepositoryFinding, Status: Critical,
		Message: fmt.Sprintf("the repository could not be read: %v", cause)})
	if prev != nil {
		ids := make([]string, 0, len(prev.Findings))
		for id := range prev.Findings {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if id == RepositoryFinding {
				continue
			}
			f := prev.Findings[id]
			rep.Findings = append(rep.Findings, Finding{ID: id, Status: f.Status, Message: f.Message, Job: f.Job, Tier: f.Tier, Source: f.Source})
		}
	}
	events, err := t.update(rep)
	if err == nil {
		err = readErr
	}
	return events, err
}

func (t *Tracker) event(kind notify.Kind, s Status, at time.Time, id, msg, job, tier, source string) notify.Event {
	sev := notify.Warning
	if s == Critical {
		sev = notify.Critical
	}
	return notify.Event{Kind: kind, Severity: sev, Time: at, Host: t.Host, Repository: t.Repository,
		Check: id, Message: msg, Job: job, Tier: tier, Source: source}
}

func (t *Tracker) path() string { return filepath.Join(t.Dir, StateFile) }

func (t *Tracker) load() (*trackedState, error) {
	b, err := os.ReadFile(t.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the health state %s: %w", t.path(), err)
	}
	st, err := decodeState(b)
	if err != nil {
		return nil, fmt.Errorf("health state %s is damaged (%v): started afresh, so its findings are reported again", t.path(), err)
	}
	return st, nil
}

// save writes the state crash-safely: a temporary file, fsynced, renamed
// over the old one, and the folder fsynced.
func (t *Tracker) save(st *trackedState) error {
	if err := os.MkdirAll(t.Dir, 0o700); err != nil {
		return fmt.Errorf("health state folder: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(t.path(), append(b, '\n'), 0o600)
}
