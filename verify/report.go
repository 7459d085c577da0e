package verify

import (
	"sync/atomic"

	"strata/pack"
)

// Report is the outcome of a check.
type Report struct {
	// Findings are every problem found, errors and notices, in a fixed
	// order: index files, packs, blobs, snapshots, trees, notices.
	Findings []Finding

	Packs     int // packs named by the index
	Blobs     int // distinct blobs in the index
	Snapshots int // snapshot files
	Trees     int // distinct tree blobs loaded while walking snapshots
	Pages     int // distinct pages of table chunk lists loaded (docs/design.md, "Table pages")
	// AuditRecords are the audit records that opened (docs/design.md,
	// "The audit trail").
	AuditRecords int

	// UnreferencedPacks are stored packs that no index file names; they
	// are also reported as one notice in Findings.
	UnreferencedPacks []pack.ID

	PacksRead     int   // packs whose data was read (--read-data, subset)
	DataBytesRead int64 // bytes of those packs

	// Protected are the snapshots an active protection names: repair
	// snapshots --forget keeps their originals, so the advice says to
	// release those that lose data.
	Protected []pack.ID
}

// OK reports whether no finding is an error: notices such as unreferenced
// packs do not count.
func (r *Report) OK() bool { return r.Errors() == 0 }

// Errors returns the number of findings of error severity.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity() == SeverityError {
			n++
		}
	}
	return n
}

// Progress holds counters that check updates as it goes and a caller may
// read at any time (the CLI's progress bar).
type Progress struct {
	PacksTotal atomic.Int64 // packs to check, set once the index is loaded
	PacksDone  atomic.Int64 // packs whose header (and data, if read) was checked
	BytesRead  atomic.Int64 // bytes read from packs: headers and data

	// The blobs of delta chains, verified after the packs are read.
	ChainBlobsTotal atomic.Int64 // set when the packs are read
	ChainBlobsDone  atomic.Int64
}
