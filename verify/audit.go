package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/pack"
	"strata/repo/audit"
	"strata/repo/backend"
)

// DamagedAuditRecord: an audit file cannot be read, does not match its
// name, does not open with the master key or does not decode as a record
// (docs/design.md, "The audit trail"). What it recorded is lost.
type DamagedAuditRecord struct {
	Name string
	Err  error `json:"-"`
}

// MissingAuditRecord: a stored audit record names Name as its predecessor
// and storage does not hold it: it was removed. NamedBy are the records
// that name it.
type MissingAuditRecord struct {
	Name    string
	NamedBy []string
}

// MissingAuditRecords: no audit record is stored under these sequence
// numbers, below the highest of a record that opened, and none names
// one: records removed together with their successors.
type MissingAuditRecords struct {
	Seqs []audit.SeqRange
}

// UnrecordedSnapshot: no audit record names the snapshot, saved after the
// audit trail began (TrailBegan: when the command of its oldest record
// started). The record of the command that saved it was removed (the
// newest records of a trail can go without breaking its chain), or never
// written: the command warned that it could not write it, was killed
// after more than MaxLockSaving snapshots, or was another program
// holding the password (docs/design.md, "The audit trail", "What check
// proves"). A command killed before its record leaves a lock that names
// the snapshot, which accounts for it (repo.LockInfo.Saving).
type UnrecordedSnapshot struct {
	Snapshot   pack.ID
	Time       time.Time
	TrailBegan time.Time
}

// MissingSeenAuditRecord: the audit record that this client wrote or saw
// last (its anchor, kept in AnchorFile) is no longer stored, and no stored
// record names it: the trail's newest records were removed, or the
// repository was rolled back to an earlier copy. Newest is the highest
// sequence number of a record that opened now.
type MissingSeenAuditRecord struct {
	Name       string
	Seq        uint64
	Time       time.Time
	Newest     uint64
	AnchorFile string
}

func (*MissingSeenAuditRecord) Severity() Severity { return SeverityError }
func (*UnrecordedSnapshot) Severity() Severity     { return SeverityError }
func (*DamagedAuditRecord) Severity() Severity     { return SeverityError }
func (*MissingAuditRecord) Severity() Severity     { return SeverityError }
func (*MissingAuditRecords) Severity() Severity    { return SeverityError }

func (e *DamagedAuditRecord) Unwrap() error { return e.Err }

func (e *DamagedAuditRecord) Error() string {
	return fmt.Sprintf("audit record %s/%s is damaged: %v", backend.AuditFile, e.Name, e.Err)
}

func (e *MissingAuditRecord) Error() string {
	by := make([]string, len(e.NamedBy))
	for i, n := range e.NamedBy {
		by[i] = string(backend.AuditFile) + "/" + n
	}
	return fmt.Sprintf("audit record %s/%s is missing: record %s names it as its predecessor, storage no longer holds it, "+
		"and strata never removes audit records", backend.AuditFile, e.Name, strings.Join(by, ", "))
}

func (e *MissingAuditRecords) Error() string {
	var s []string
	for _, r := range e.Seqs {
		s = append(s, r.String())
	}
	return fmt.Sprintf("audit records of sequence number %s are missing: later records exist, "+
		"and strata never removes audit records", strings.Join(s, ", "))
}

func (e *UnrecordedSnapshot) Error() string {
	return fmt.Sprintf("snapshot %s (of %s) is named by no audit record, though the audit trail began before it (%s): "+
		"the record of the command that saved it was removed, and strata never removes audit records "+
		"(or it was never written: the command warned that it could not write it)",
		e.Snapshot.Short(), e.Time.Format(time.RFC3339), e.TrailBegan.Format(time.RFC3339))
}

func (e *MissingSeenAuditRecord) Error() string {
	return fmt.Sprintf("audit record %s/%s (sequence number %d, of %s) is missing: this client wrote or saw it (%s), "+
		"the trail now ends at sequence number %d, and strata never removes audit records: "+
		"the newest records were removed, or the repository was rolled back to an earlier copy",
		backend.AuditFile, e.Name, e.Seq, e.Time.Format(time.RFC3339), e.AnchorFile, e.Newest)
}

func (e *DamagedAuditRecord) MarshalJSON() ([]byte, error) {
	type fields DamagedAuditRecord
	return withErr((*fields)(e), e.Err)
}

// checkAudit verifies every audit record (docs/design.md, "The audit
// trail", "What check proves").
func (c *checker) checkAudit(ctx context.Context) error {
	v, err := audit.New(c.r.Backend(), c.r.Key()).Verify(ctx, c.opts.Workers)
	if err != nil {
		return fmt.Errorf("verifying the audit trail: %w", err)
	}
	c.report.AuditRecords = v.Records
	c.audit = v
	c.report.Findings = append(c.report.Findings, AuditTrailFindings(v, c.opts.AuditAnchor)...)
	return nil
}

// AuditTrailFindings are what v, a verification of the whole audit
// trail, shows of the trail itself: damaged records, removed ones (named
// by a successor, or sequence numbers without a record) and the loss of
// anchor's record (nil: no anchor). check and audit report these.
func AuditTrailFindings(v *audit.Verification, anchor *audit.Anchor) []Finding {
	var fs []Finding
	for _, d := range v.Damaged {
		fs = append(fs, &DamagedAuditRecord{Name: d.Name, Err: d.Err})
	}
	for _, m := range v.Missing {
		fs = append(fs, &MissingAuditRecord{Name: m.Name, NamedBy: m.NamedBy})
	}
	if len(v.Gaps) > 0 {
		fs = append(fs, &MissingAuditRecords{Seqs: v.Gaps})
	}
	if a := anchor; a != nil && !v.Stored(a.Name) && !slices.ContainsFunc(v.Missing, func(m audit.Missing) bool { return m.Name == a.Name }) {
		fs = append(fs, &MissingSeenAuditRecord{Name: a.Name, Seq: a.Seq, Time: a.Time, Newest: v.Newest, AnchorFile: a.Path})
	}
	return fs
}

// snapshotStamp is what checkRecorded needs of a snapshot that loaded:
// the name of its file, its ID (another when misnamed) and its time.
type snapshotStamp struct {
	file, id pack.ID
	time     time.Time
}

// checkRecorded reports the snapshots that the audit trail does not
// account for (audit.Verification.Recorded): its newest records were
// removed, which its chain cannot show. A snapshot that a lock stored now
// names, or a stale lock this check removed, is accounted for: its
// command is still running, or was killed before its record
// (docs/design.md, "Locks"). So is one that a record written since the
// trail was read names, read after the locks: its command ended while
// check walked.
func (c *checker) checkRecorded(ctx context.Context, stamps []snapshotStamp) error {
	if c.audit == nil {
		return nil
	}
	recorded := func(s snapshotStamp) bool { return c.audit.Recorded(s.time, s.file, s.id) }
	unrecorded := slices.Clone(stamps)
	trail := audit.New(c.r.Backend(), c.r.Key())
	for range lockReads {
		locked, err := c.r.LockedSnapshots(ctx)
		if err != nil {
			return err
		}
		c.audit.AccountFor(locked...)
		if unrecorded = slices.DeleteFunc(unrecorded, recorded); len(unrecorded) == 0 {
			return nil
		}
		// The walk found each snapshot stored, and its command named it
		// in its lock before saving it and removes that lock only once
		// its record is written. Its lock was not among those just read,
		// so the record was written before they were: reading the trail
		// again now finds it. Unless the listing of the locks missed a
		// lock refreshed while it ran (the new file stored too late for
		// it, the old removed before it was read): so once more.
		if err := trail.AccountNew(ctx, c.audit, c.opts.Workers); err != nil {
			return fmt.Errorf("reading the audit records written during the check: %w", err)
		}
		if unrecorded = slices.DeleteFunc(unrecorded, recorded); len(unrecorded) == 0 {
			return nil
		}
	}
	for _, s := range unrecorded {
		c.report.Findings = append(c.report.Findings, &UnrecordedSnapshot{Snapshot: s.file, Time: s.time, TrailBegan: c.audit.Began})
	}
	return nil
}

// lockReads is how many times checkRecorded reads the locks and then the
// audit records written since, while a snapshot is unaccounted for: a
// lock that one reading misses, refreshed while it listed, the next
// finds, unless it was refreshed during that reading too.
const lockReads = 3
