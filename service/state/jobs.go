package state

import (
	"encoding/json"
	"fmt"
	"time"
)

// jobsVersion is the version of jobs.json this package writes and reads.
const jobsVersion = 1

// Job is what the state folder remembers of one job.
type Job struct {
	// Schedule is the job's schedule as written in strata.yaml when
	// NextDue was computed: a changed schedule computes NextDue afresh.
	Schedule string `json:"schedule"`
	// NextDue is when the job is next due. A NextDue in the past when the
	// daemon starts is a run missed while it was down: it runs once.
	NextDue time.Time `json:"next_due"`
	// LastRun is the ID of the job's latest run ("" before the first).
	LastRun string `json:"last_run,omitempty"`
	// FirstDue is when the job was first due: its schedule's first time
	// after a daemon first saw it, or for a job without a schedule that
	// moment. Health calls a job without a snapshot pending, not
	// critical, until FirstDue plus its age limit. Zero: not known (a
	// job that had run before strata recorded it).
	FirstDue time.Time `json:"first_due,omitzero"`
}

// jobsFile is jobs.json.
type jobsFile struct {
	Version int            `json:"version"`
	Jobs    map[string]Job `json:"jobs"`
}

// DecodeJobs decodes jobs.json.
func DecodeJobs(b []byte) (map[string]Job, error) {
	var f jobsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", errDecode, err)
	}
	if f.Version != jobsVersion {
		return nil, fmt.Errorf("%w: version %d, this strata reads version %d", errDecode, f.Version, jobsVersion)
	}
	for name, j := range f.Jobs {
		if y := j.NextDue.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("%w: job %q due in the year %d", errDecode, name, y)
		}
		if y := j.FirstDue.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("%w: job %q first due in the year %d", errDecode, name, y)
		}
	}
	if f.Jobs == nil {
		f.Jobs = map[string]Job{}
	}
	return f.Jobs, nil
}

func encodeJobs(jobs map[string]Job) ([]byte, error) {
	return json.MarshalIndent(jobsFile{Version: jobsVersion, Jobs: jobs}, "", "  ")
}
