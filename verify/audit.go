package verify

import (
	"context"
	"fmt"
	"strings"

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

func (*DamagedAuditRecord) Severity() Severity  { return SeverityError }
func (*MissingAuditRecord) Severity() Severity  { return SeverityError }
func (*MissingAuditRecords) Severity() Severity { return SeverityError }

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
	for _, d := range v.Damaged {
		c.report.Findings = append(c.report.Findings, &DamagedAuditRecord{Name: d.Name, Err: d.Err})
	}
	for _, m := range v.Missing {
		c.report.Findings = append(c.report.Findings, &MissingAuditRecord{Name: m.Name, NamedBy: m.NamedBy})
	}
	if len(v.Gaps) > 0 {
		c.report.Findings = append(c.report.Findings, &MissingAuditRecords{Seqs: v.Gaps})
	}
	return nil
}
