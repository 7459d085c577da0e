package state

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultKeepRuns is how many runs of each job a store keeps by default.
const DefaultKeepRuns = 500

// Store is a state folder. Its methods may be called from several
// goroutines and processes (a daemon and `strata schedule run`): each
// change of jobs.json is a read, change and write under an flock of the
// folder's lock file.
type Store struct {
	dir string
	// KeepRuns is how many records of each job's runs are kept; older
	// ones are removed when a run ends.
	keepRuns int

	mu sync.Mutex
	// failing holds, by what was written ("run records", "jobs.json"),
	// the error of its latest write when it failed and when that streak
	// of failures began; a write of the same kind that succeeds ends it.
	failing map[string]failure
}

// Open opens the state folder dir, creating it (0700) if needed.
// keepRuns of 0 means DefaultKeepRuns.
func Open(dir string, keepRuns int) (*Store, error) {
	if keepRuns <= 0 {
		keepRuns = DefaultKeepRuns
	}
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o700); err != nil {
		return nil, fmt.Errorf("state folder %s: %w; give a writable --state-dir", dir, err)
	}
	return &Store{dir: dir, keepRuns: keepRuns}, nil
}

// Dir is the state folder's path.
func (s *Store) Dir() string { return s.dir }

type failure struct {
	err   error
	since time.Time
}

// Failing reports whether the latest write of the run records or of
// jobs.json failed, with the errors and when the first of those
// failures began; a write of the same file kind that succeeds ends its
// failure. A full or read-only folder loses run records and next due
// times, so health reports it.
func (s *Store) Failing() (since time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, kind := range []string{kindRuns, kindJobs} {
		if f, ok := s.failing[kind]; ok {
			errs = append(errs, f.err)
			if since.IsZero() || f.since.Before(since) {
				since = f.since
			}
		}
	}
	return since, errors.Join(errs...)
}

// The kinds of write Failing tells apart.
const (
	kindRuns = "run records"
	kindJobs = "jobs.json"
)

// noteWrite records the outcome of a write of kind and returns err.
func (s *Store) noteWrite(kind string, err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, failing := s.failing[kind]
	switch {
	case err == nil:
		delete(s.failing, kind)
	case !failing:
		if s.failing == nil {
			s.failing = map[string]failure{}
		}
		s.failing[kind] = failure{err: err, since: time.Now()}
	default:
		s.failing[kind] = failure{err: err, since: f.since}
	}
	return err
}

// withLock runs fn holding the folder's lock, so two processes do not
// lose each other's changes to jobs.json.
func (s *Store) withLock(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(s.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("state folder %s: %w", s.dir, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking state folder %s: %w", s.dir, err)
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN) //nolint:errcheck // closing releases it too
	return fn()
}

// Jobs returns what the folder remembers of each job, by name.
func (s *Store) Jobs() (map[string]Job, error) {
	var jobs map[string]Job
	err := s.withLock(func() (err error) {
		jobs, err = s.readJobs()
		return err
	})
	return jobs, err
}

func (s *Store) readJobs() (map[string]Job, error) {
	p := filepath.Join(s.dir, "jobs.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Job{}, nil
	}
	if err != nil {
		return nil, err
	}
	jobs, err := DecodeJobs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; the daemon sets it aside as jobs.json.damaged when it starts", p, err)
	}
	return jobs, nil
}

// UpdateJobs changes jobs.json through fn, which may change, add and
// delete entries of the map it is given.
func (s *Store) UpdateJobs(fn func(map[string]Job)) error {
	return s.noteWrite(kindJobs, s.withLock(func() error {
		jobs, err := s.readJobs()
		if err != nil {
			return err
		}
		fn(jobs)
		b, err := encodeJobs(jobs)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(s.dir, "jobs.json"), b)
	}))
}

// SetJob sets the state of one job.
func (s *Store) SetJob(name string, j Job) error {
	return s.UpdateJobs(func(jobs map[string]Job) { jobs[name] = j })
}

// StartRun records the start of run, whose Job, Due and Start must be
// set, and returns it with its ID and result Running.
func (s *Store) StartRun(run Run) (Run, error) {
	run.ID = runID(url.PathEscape(run.Job), run.Start)
	run.Result = Running
	return run, s.writeRun(run)
}

// UpdateRun records a run that has not ended (as StartRun returned it,
// changed): a daemon records so that a run waits for a lock.
func (s *Store) UpdateRun(run Run) error {
	run.Log = cutLog(run.Log, MaxLog)
	return s.writeRun(run)
}

// LatestRun reads the newest record of job in the state folder dir
// without creating or locking anything (for strata health); ok is false
// when there is none.
func LatestRun(dir, job string) (run Run, ok bool, err error) {
	s := &Store{dir: dir}
	runs, err := s.Runs(job, 1)
	if len(runs) == 0 {
		return Run{}, false, err
	}
	return runs[0], true, nil
}

// LatestEndedRun is LatestRun, passing over a run still running (a
// retry's pause included: it has not changed the job's last result yet).
func LatestEndedRun(dir, job string) (run Run, ok bool, err error) {
	s := &Store{dir: dir}
	runs, err := s.Runs(job, 2) // one run of a job at a time
	for _, r := range runs {
		if r.Result != Running {
			return r, true, err
		}
	}
	return Run{}, false, err
}

// FinishRun records the end of run (as StartRun returned it, with End,
// Result and the rest filled in), remembers it as its job's last run and
// removes the job's records beyond the store's keepRuns.
func (s *Store) FinishRun(run Run) error {
	run.Log = cutLog(run.Log, MaxLog)
	if err := s.writeRun(run); err != nil {
		return err
	}
	if err := s.UpdateJobs(func(jobs map[string]Job) {
		j := jobs[run.Job]
		j.LastRun = run.ID
		jobs[run.Job] = j
	}); err != nil {
		return err
	}
	return s.trim(run.Job)
}

func (s *Store) writeRun(run Run) error {
	b, err := encodeRun(run)
	if err != nil {
		return err
	}
	if err := writeFile(s.runPath(run.ID), b); err != nil {
		return s.noteWrite(kindRuns, fmt.Errorf("recording run %s of job %s: %w", run.ID, run.Job, err))
	}
	return s.noteWrite(kindRuns, nil)
}

func (s *Store) runPath(id string) string { return filepath.Join(s.dir, "runs", id+".json") }

// runNames lists the run records of job ("" for all), newest first.
func (s *Store) runNames(job string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "runs"))
	if err != nil {
		return nil, err
	}
	suffix := "-" + url.PathEscape(job) + ".json"
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") {
			continue
		}
		if job != "" && (len(n) < len(suffix) || n[len(n)-len(suffix):] != suffix || strings.Contains(n[:len(n)-len(suffix)], "-")) {
			continue
		}
		names = append(names, strings.TrimSuffix(n, ".json"))
	}
	slices.Sort(names)
	slices.Reverse(names)
	return names, nil
}

// Runs returns the records of job's runs ("" for every job's), newest
// first, at most limit of them (0 for all). A record that cannot be read
// is left out and named in the error, which comes with the others.
func (s *Store) Runs(job string, limit int) ([]Run, error) {
	names, err := s.runNames(job)
	if err != nil {
		return nil, fmt.Errorf("listing runs in state folder %s: %w", s.dir, err)
	}
	var runs []Run
	var errs []error
	for _, n := range names {
		if limit > 0 && len(runs) == limit {
			break
		}
		r, err := s.Run(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		runs = append(runs, r)
	}
	return runs, errors.Join(errs...)
}

// Run returns the record of the run id.
func (s *Store) Run(id string) (Run, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || strings.HasPrefix(id, ".") {
		return Run{}, fmt.Errorf("no run %q", id)
	}
	p := s.runPath(id)
	b, err := os.ReadFile(p)
	if err != nil {
		return Run{}, fmt.Errorf("run %s: %w", id, err)
	}
	r, err := DecodeRun(b)
	if err != nil {
		return Run{}, fmt.Errorf("run record %s: %w; the daemon sets it aside as %s.damaged when it starts", p, err, filepath.Base(p))
	}
	return r, nil
}

// SetAsideDamaged moves every run record that cannot be decoded out of
// the way: runs/NAME.json is renamed to runs/NAME.json.damaged in the same
// folder (NAME.json.damaged.2, .3, ... when that name is taken), never
// deleted, and the folder fsynced. A daemon calls it when it starts, so
// one damaged record (a disk error, an edit by hand) costs its history
// line, not the schedule. It returns the new paths; the caller warns.
func (s *Store) SetAsideDamaged() ([]string, error) {
	names, err := s.runNames("")
	if err != nil {
		return nil, fmt.Errorf("listing runs in state folder %s: %w", s.dir, err)
	}
	var moved []string
	for _, n := range names {
		p := s.runPath(n)
		b, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return moved, fmt.Errorf("run record %s: %w", p, err)
		}
		if _, err := DecodeRun(b); err == nil {
			continue
		}
		to, err := setAside(p)
		if err != nil {
			return moved, fmt.Errorf("setting aside the damaged run record %s: %w", p, err)
		}
		moved = append(moved, to)
	}
	if len(moved) > 0 {
		if err := syncDir(filepath.Join(s.dir, "runs")); err != nil {
			return moved, err
		}
	}
	return moved, nil
}

// SetAsideDamagedJobs moves jobs.json out of the way when it cannot be
// decoded, as SetAsideDamaged does a run record (jobs.json.damaged, .2,
// ...; the folder fsynced), and returns its new path ("" when jobs.json
// is whole or missing). A daemon calls it when it starts: a damaged
// jobs.json then costs the next due times it held, which the daemon
// rebuilds from the run records, not the daemon. The caller warns.
func (s *Store) SetAsideDamagedJobs() (string, error) {
	var to string
	err := s.withLock(func() error {
		p := filepath.Join(s.dir, "jobs.json")
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("state folder %s: %w", s.dir, err)
		}
		if _, err := DecodeJobs(b); err == nil {
			return nil
		}
		if to, err = setAside(p); err != nil {
			return fmt.Errorf("setting aside the damaged %s: %w", p, err)
		}
		return syncDir(s.dir)
	})
	return to, err
}

// SetAsideFiles lists the damaged files set aside in the state folder
// dir (jobs.json.damaged*, runs/*.damaged*), relative to dir, without
// changing anything: for strata health, which reports them until they
// are looked at and removed.
func SetAsideFiles(dir string) ([]string, error) {
	var out []string
	for _, pattern := range []string{"jobs.json.damaged*", filepath.Join("runs", "*.damaged*")} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return nil, err
			}
			out = append(out, rel)
		}
	}
	return out, nil
}

// syncDir fsyncs the folder dir, so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// setAside renames p to p.damaged, or p.damaged.N when taken, without
// replacing any file (a hard link made with O_EXCL semantics, then the
// old name removed). It returns the new path.
func setAside(p string) (string, error) {
	for i := 1; i < 1000; i++ {
		to := p + ".damaged"
		if i > 1 {
			to += "." + strconv.Itoa(i)
		}
		err := os.Link(p, to)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return to, os.Remove(p)
	}
	return "", fmt.Errorf("%s.damaged to .damaged.999 all exist", p)
}

// MarkInterrupted marks every record still "running" as "interrupted":
// a daemon calls it when it starts, before it runs anything, so these
// are runs of a daemon that died. It returns them.
func (s *Store) MarkInterrupted(now time.Time) ([]Run, error) {
	runs, err := s.Runs("", 0)
	var marked []Run
	for _, r := range runs {
		if r.Result != Running {
			continue
		}
		r.Result = Interrupted
		r.End = now
		r.Error = "the daemon stopped during the run (crash, kill or power loss); the job runs again"
		if werr := s.writeRun(r); werr != nil {
			return marked, errors.Join(err, werr)
		}
		marked = append(marked, r)
	}
	return marked, err
}

// trim removes the oldest records of job beyond keepRuns.
func (s *Store) trim(job string) error {
	names, err := s.runNames(job)
	if err != nil || len(names) <= s.keepRuns {
		return err
	}
	for _, n := range names[s.keepRuns:] {
		if err := os.Remove(s.runPath(n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// ErrDaemonRunning: another daemon uses the state folder.
var ErrDaemonRunning = errors.New("another strata daemon uses this state folder")

// LockDaemon claims the state folder for one daemon until unlock is
// called (or the process ends): a second daemon on the same folder would
// run every job twice.
func (s *Store) LockDaemon() (unlock func(), err error) {
	p := filepath.Join(s.dir, "daemon.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state folder %s: %w", s.dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b, _ := os.ReadFile(p)
			return nil, fmt.Errorf("%w (%s, pid %s): stop it first, or give this one another state folder", ErrDaemonRunning, s.dir, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("locking state folder %s: %w", s.dir, err)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() { f.Close() }, nil
}

// ReadJobs reads the jobs.json of the state folder dir without creating
// or locking anything (jobs.json is replaced by rename, so a reader sees
// a whole file): for strata health, which may run as another user and
// must not change the folder. A folder without jobs.json, or none, gives
// an empty map.
func ReadJobs(dir string) (map[string]Job, error) {
	s := &Store{dir: dir}
	return s.readJobs()
}

// Probe tells whether the state folder dir can take a change now: it
// writes a small file there, fsyncs and removes it (the daemon's own
// failures are Failing's). A folder that does not exist is no failure.
func Probe(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	return nil
}
