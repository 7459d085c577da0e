package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"strata/pack"
)

// The layout of one audit record (docs/design.md, "The audit trail"):
//
//	audit/<seq: 16 lowercase hex digits>-<file ID: 64 lowercase hex digits>
//	Sealed = Nonce(24) || XChaCha20-Poly1305(master key, JSON of Record) || Tag(16)
//
// where file ID is the BLAKE3-256 of the sealed bytes, seq the Record's
// Seq, and every name in the Record's Prev is a record name with sequence
// number Seq-1.

// The format versions of a record (docs/design.md, "The audit trail").
// A writer writes the lowest version that holds the record's fields
// (formatVersion), so that a strata that reads only version 1 still
// reads every record but those that need a newer one; a reader accepts
// every version up to Version and refuses a newer one.
const (
	// Version1: the first format.
	Version1 = 1
	// Version2 adds source (a drill's).
	Version2 = 2
	// Version3 adds result.check.read_data_subset.
	Version3 = 3
	// Version4 adds stale_lock_snapshots.
	Version4 = 4
	// Version is the newest version this package reads and writes.
	Version = Version4
)

// MaxFileSize is the largest audit file a reader loads (a writer never
// writes a larger one): a command line of up to Linux's 2 MiB ARG_MAX and
// MaxSnapshots snapshot IDs fit.
const MaxFileSize = 4 << 20

// MaxSnapshots is how many snapshot IDs one record lists; a command that
// touched more (a forget of thousands) lists the first ones and counts the
// rest in SnapshotsOmitted.
const MaxSnapshots = 10000

// Record is the sealed JSON of one audit file.
type Record struct {
	Version int `json:"version"`
	// Seq is the sequence number, at least 1, the same as the name's: one
	// more than the highest the writer found.
	Seq uint64 `json:"seq"`
	// Prev names the records with sequence number Seq-1 that the writer
	// found (its predecessors): empty for the first record, usually one,
	// several after writers that ran at the same time.
	Prev []string `json:"prev"`
	// Time is when the command started (the writer's clock), Seconds how
	// long it ran until its result was known.
	Time    time.Time `json:"time"`
	Seconds float64   `json:"seconds"`
	Host    string    `json:"host"`
	User    string    `json:"user,omitempty"`
	// Command is the command's full name ("backup", "repair index"); Args
	// the command line as typed, after the program name, with every
	// secret masked.
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Result  Result   `json:"result"`
	// Snapshots are the snapshots the command wrote, removed, protected,
	// unprotected or restored from.
	Snapshots        []pack.ID `json:"snapshots,omitempty"`
	SnapshotsOmitted int       `json:"snapshots_omitted,omitempty"`
	// StaleLockSnapshots are the snapshots named by the stale locks this
	// command removed (version 4): snapshots another command announced in
	// its lock before saving them, and that it may have saved before it
	// was killed, ahead of its own record (docs/design.md, "Locks").
	StaleLockSnapshots []pack.ID `json:"stale_lock_snapshots,omitempty"`
	// Source is, for a drill, the source of the snapshot it restored (as
	// strata health names sources: the DSN without its password), so
	// that its result is still known after that snapshot is forgotten.
	Source string `json:"source,omitempty"`
	// Program is the strata version that wrote the record.
	Program string `json:"program"`

	// Name is the record's file name (not stored: it is where the
	// record was read from).
	Name string `json:"-"`

	seen map[pack.ID]bool // AddSnapshots' set of Snapshots
}

// Result is how a command ended. Check and Drill carry what check and
// verify drill found, for health reports.
type Result struct {
	OK bool `json:"ok"`
	// Error is the error message of a failed command (secrets masked);
	// ExitCode its exit code.
	Error    string       `json:"error,omitempty"`
	ExitCode int          `json:"exit_code"`
	Check    *CheckResult `json:"check,omitempty"`
	Drill    *DrillResult `json:"drill,omitempty"`
}

// CheckResult is the outcome of strata check: its findings, and what it
// read of the packs' data: all of it (ReadData), a subset
// (ReadDataSubset, "1/10" or "10%", version 3), or neither.
type CheckResult struct {
	Errors         int    `json:"errors"`  // findings of severity error
	Notices        int    `json:"notices"` // findings of severity notice
	ReadData       bool   `json:"read_data"`
	ReadDataSubset string `json:"read_data_subset,omitempty"`
}

// DrillResult is the outcome of strata verify drill: the restore's time
// and each table's rows and verdict.
type DrillResult struct {
	OK             bool         `json:"ok"`
	RestoreSeconds float64      `json:"restore_seconds"`
	Tables         []DrillTable `json:"tables"`
}

// DrillTable is one table of a drill: its rows restored, how long they
// took to load (its part of the restore, without the indexes and
// constraints built after the rows), and its verdict.
type DrillTable struct {
	Table       string  `json:"table"`
	Rows        int64   `json:"rows"`
	LoadSeconds float64 `json:"load_seconds"`
	OK          bool    `json:"ok"`
}

// FileName is the name of an audit file: its sequence number and its
// file ID.
func FileName(seq uint64, id pack.ID) string {
	return fmt.Sprintf("%016x-%s", seq, id)
}

// ParseName splits an audit file's name into its sequence number and file
// ID.
func ParseName(name string) (uint64, pack.ID, error) {
	seqHex, idHex, ok := strings.Cut(name, "-")
	if !ok || len(seqHex) != 16 {
		return 0, pack.ID{}, fmt.Errorf("audit file name %q is not <16 hex digits>-<file ID>", name)
	}
	seq, err := strconv.ParseUint(seqHex, 16, 64)
	if err != nil || strings.ToLower(seqHex) != seqHex || seq == 0 {
		return 0, pack.ID{}, fmt.Errorf("audit file name %q: sequence number is not 16 lowercase hex digits above 0", name)
	}
	id, err := pack.ParseID(idHex)
	if err != nil || id.String() != idHex {
		return 0, pack.ID{}, fmt.Errorf("audit file name %q: file ID is not 64 lowercase hex digits", name)
	}
	return seq, id, nil
}

// Encode returns the JSON of rec after validating it.
func Encode(rec *Record) ([]byte, error) {
	if err := rec.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(rec)
}

// Decode decodes and validates the JSON of an audit record. It refuses
// fields it does not know (a new field comes with a new Version), data after
// the object, and every record Encode would refuse.
func Decode(b []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	rec := &Record{}
	if err := dec.Decode(rec); err != nil {
		return nil, fmt.Errorf("audit record: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("audit record: data after the JSON object")
	}
	if err := rec.validate(); err != nil {
		return nil, err
	}
	return rec, nil
}

// formatVersion is the lowest format version that holds rec's fields.
func (rec *Record) formatVersion() int {
	if len(rec.StaleLockSnapshots) > 0 {
		return Version4
	}
	if c := rec.Result.Check; c != nil && c.ReadDataSubset != "" {
		return Version3
	}
	if rec.Source != "" {
		return Version2
	}
	return Version1
}

func (rec *Record) validate() error {
	// A version 1 record with a source is accepted: strata wrote such
	// records before version 2 (a drill's, December 2026).
	if rec.Version < Version1 || rec.Version > Version {
		return fmt.Errorf("audit record: format version %d, this strata reads versions 1 to %d: a newer strata wrote it", rec.Version, Version)
	}
	if rec.Seq == 0 {
		return errors.New("audit record: sequence number 0")
	}
	if rec.Prev == nil {
		return errors.New("audit record: no predecessor list")
	}
	if rec.Seq == 1 && len(rec.Prev) > 0 {
		return errors.New("audit record: the first record names predecessors")
	}
	seen := map[string]bool{}
	for _, p := range rec.Prev {
		seq, _, err := ParseName(p)
		if err != nil {
			return fmt.Errorf("audit record: predecessor: %w", err)
		}
		if seq != rec.Seq-1 {
			return fmt.Errorf("audit record %d: predecessor %s is not of sequence number %d", rec.Seq, p, rec.Seq-1)
		}
		if seen[p] {
			return fmt.Errorf("audit record: predecessor %s named twice", p)
		}
		seen[p] = true
	}
	if rec.Time.IsZero() {
		return errors.New("audit record: no time")
	}
	if badSeconds(rec.Seconds) {
		return fmt.Errorf("audit record: duration %v seconds", rec.Seconds)
	}
	if rec.Command == "" {
		return errors.New("audit record: no command")
	}
	if rec.Args == nil {
		return errors.New("audit record: no argument list")
	}
	if rec.Result.OK != (rec.Result.Error == "") || rec.Result.OK != (rec.Result.ExitCode == 0) {
		return errors.New("audit record: a result is ok with exit code 0 and no error, or failed with both")
	}
	if len(rec.Snapshots) > MaxSnapshots || rec.SnapshotsOmitted < 0 {
		return fmt.Errorf("audit record: %d snapshots listed (at most %d), %d omitted", len(rec.Snapshots), MaxSnapshots, rec.SnapshotsOmitted)
	}
	if len(rec.StaleLockSnapshots) > MaxSnapshots {
		return fmt.Errorf("audit record: %d snapshots of stale locks listed (at most %d)", len(rec.StaleLockSnapshots), MaxSnapshots)
	}
	if len(rec.StaleLockSnapshots) > 0 && rec.Version < Version4 {
		return fmt.Errorf("audit record: stale_lock_snapshots in a record of format version %d (they came with version %d)", rec.Version, Version4)
	}
	if d := rec.Result.Drill; d != nil {
		if d.Tables == nil {
			return errors.New("audit record: drill result without a table list")
		}
		if badSeconds(d.RestoreSeconds) {
			return fmt.Errorf("audit record: drill restore of %v seconds", d.RestoreSeconds)
		}
		for _, t := range d.Tables {
			if badSeconds(t.LoadSeconds) {
				return fmt.Errorf("audit record: drill of table %q loaded in %v seconds", t.Table, t.LoadSeconds)
			}
		}
	}
	if c := rec.Result.Check; c != nil && (c.Errors < 0 || c.Notices < 0) {
		return errors.New("audit record: negative count of check findings")
	}
	if c := rec.Result.Check; c != nil && c.ReadDataSubset != "" && rec.Version < Version3 {
		return fmt.Errorf("audit record: a check's read_data_subset in a record of format version %d (it came with version %d)", rec.Version, Version3)
	}
	return nil
}

// badSeconds reports whether s is no duration: negative, NaN or infinite.
func badSeconds(s float64) bool { return s < 0 || math.IsNaN(s) || math.IsInf(s, 0) }

// AddSnapshots adds ids to the record's snapshots, once each, up to
// MaxSnapshots; the rest are counted in SnapshotsOmitted.
func (rec *Record) AddSnapshots(ids ...pack.ID) {
	if rec.seen == nil {
		rec.seen = map[pack.ID]bool{}
		for _, id := range rec.Snapshots {
			rec.seen[id] = true
		}
	}
	for _, id := range ids {
		if id.IsNull() || rec.seen[id] {
			continue
		}
		rec.seen[id] = true
		if len(rec.Snapshots) >= MaxSnapshots {
			rec.SnapshotsOmitted++
			continue
		}
		rec.Snapshots = append(rec.Snapshots, id)
	}
}
